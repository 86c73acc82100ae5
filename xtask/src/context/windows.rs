//! Per-window outputs of the pre-trained networks on every clip, computed once through ONNX
//! Runtime (the plugin's own decoding, resampling, features and window cutting) and cached per
//! clip, so every candidate head reads the same numbers and a rerun or an interrupted run
//! costs nothing twice.

use std::path::{Path, PathBuf};

use anyhow::Context;
use burn::tensor::Device;
use genrescope::features::{FeatureConfig, Level, Preset};
use genrescope::inference::{
    file_windows, GenreModel, ModelInput, ModelMetadata, Provider, Runtime, WindowCutter,
};
use ndarray::Array2;
use ndarray_npy::{read_npy, write_npy};

use super::corpus::Labelled;
use crate::efficientat;
use crate::eval::clips::map_clips;
use crate::musicnn::graph::{self, EMBEDDING, FRAMES, TAGS};
use crate::musicnn::narrow;
use crate::musicnn::net::{self, Trunk};
use crate::musicnn::transfer::raw_metadata;
use crate::onnx::{layers, Graph};
use crate::weights::Weights;
use genrescope::inference::runtime::repository_dirs;

/// A pre-trained network whose windows the heads read: musicnn's `msd` or `mtt`, a narrowed
/// copy such as `msd@25` (a quarter of the front-end filters kept, `musicnn/narrow.rs`), or
/// EfficientAT's `mn04` (AudioSet, `efficientat/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Network {
    pub source: Source,
    /// Percent of the front-end filters kept (100: the original network).
    pub percent: u8,
}

/// The pre-trained network and its training set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    /// musicnn on the Million Song Dataset (last.fm tags).
    Msd,
    /// musicnn on MagnaTagATune.
    Mtt,
    /// EfficientAT's MobileNetV3 `mn04_as` on AudioSet.
    Mn04,
}

impl Network {
    pub const MSD: Self = Self::full(Source::Msd);
    pub const MTT: Self = Self::full(Source::Mtt);
    pub const MN04: Self = Self::full(Source::Mn04);

    const fn full(source: Source) -> Self {
        Self {
            source,
            percent: 100,
        }
    }

    /// This network keeping `percent` % of its front-end filters.
    pub fn narrowed(self, percent: u8) -> Self {
        Self { percent, ..self }
    }

    pub fn name(self) -> String {
        let source = match self.source {
            Source::Msd => "msd",
            Source::Mtt => "mtt",
            Source::Mn04 => "mn04",
        };
        if self.percent == 100 {
            source.to_owned()
        } else {
            format!("{source}@{}", self.percent)
        }
    }

    /// Whether this is one of the musicnn networks (one input layout, narrowable).
    pub fn is_musicnn(self) -> bool {
        self.source != Source::Mn04
    }

    /// The folder the original weights are exported to: by `tools/musicnn/export_weights.py`
    /// under `root` (`cache/musicnn`), or by `tools/efficientat/export_weights.py` in
    /// `efficientat/mn04_as` beside it.
    pub fn weights_dir(self, root: &Path) -> PathBuf {
        match self.source {
            Source::Msd => root.join("MSD_musicnn"),
            Source::Mtt => root.join("MTT_musicnn"),
            Source::Mn04 => root.with_file_name("efficientat").join("mn04_as"),
        }
    }

    /// The network's weights (narrowed where it keeps less than every filter).
    pub fn weights(self, root: &Path) -> anyhow::Result<Weights> {
        let weights = Weights::load(&self.weights_dir(root)).with_context(|| {
            format!(
                "{}: run tools/musicnn/export_weights.py or tools/efficientat/export_weights.py",
                self.name()
            )
        })?;
        if self.percent == 100 {
            Ok(weights)
        } else {
            narrow::narrowed(&weights, self.percent)
        }
    }
}

/// Networks as one name, `msd+mn04`: how candidates and the files of their window graphs name
/// them.
pub fn joined(networks: &[Network]) -> String {
    let names: Vec<String> = networks.iter().map(|n| n.name()).collect();
    names.join("+")
}

impl std::str::FromStr for Network {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (source, percent) = s.split_once('@').unwrap_or((s, "100"));
        let source = match source {
            "msd" => Source::Msd,
            "mtt" => Source::Mtt,
            "mn04" => Source::Mn04,
            _ => {
                return Err(format!(
                    "{source}: a network is msd, mtt or mn04 (e.g. msd, mtt, msd@25, mn04)"
                ))
            }
        };
        match percent.parse::<u8>() {
            Ok(100) => Ok(Self::full(source)),
            Ok(_) if source == Source::Mn04 => Err(format!("{s}: mn04 cannot be narrowed")),
            Ok(percent @ 1..=100) => Ok(Self { source, percent }),
            _ => Err(format!("{s}: keep 1-100 % of the filters (e.g. msd@25)")),
        }
    }
}

impl serde::Serialize for Network {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.name())
    }
}

/// Which values of a window's output a head pools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layer {
    /// The 1 506 values that enter musicnn's first dense layer (none in mn04).
    PreDense,
    /// The penultimate embedding: musicnn's 200 values, mn04's 384 (the pooled feature maps).
    Penultimate,
    /// The tag probabilities: musicnn's 50, mn04's 527 AudioSet classes.
    Tags,
}

impl Layer {
    pub fn name(self) -> &'static str {
        match self {
            Layer::PreDense => "pre-dense",
            Layer::Penultimate => "penultimate",
            Layer::Tags => "tags",
        }
    }

    /// Where the layer sits in a probe row of `width` values of `network` (the pre-dense
    /// values are narrower in a narrowed network; the last two layers never change; mn04 has
    /// no pre-dense values).
    pub fn range(self, network: Network, width: usize) -> std::ops::Range<usize> {
        let (embedding, tags) = if network.is_musicnn() {
            (EMBEDDING, TAGS)
        } else {
            (efficientat::net::EMBEDDING, efficientat::net::CLASSES)
        };
        let pooled = width - embedding - tags;
        match self {
            Layer::PreDense => 0..pooled,
            Layer::Penultimate => pooled..pooled + embedding,
            Layer::Tags => pooled + embedding..width,
        }
    }
}

/// The network's values of every layer in one graph: `[B, 187, 96]` → `[B, width]`, every
/// [`Layer`] side by side; returns the graph and the width.
pub fn probe(weights: &Weights) -> anyhow::Result<(Vec<u8>, usize)> {
    let mut g = Graph::new();
    let (values, tags) = exported_values(&mut g, weights, "input")?;
    let row = layers::concat(&mut g, &[&values.pooled, &values.embedding, &tags], 1);
    let width = values.pooled_width + EMBEDDING + TAGS;
    Ok((
        graph::finish(g, &row, width, "musicnn layers (probe)"),
        width,
    ))
}

/// mn04's values in one graph: `[B, 300, 128]` → `[B, 384 + 527]`, the embedding then the
/// AudioSet probabilities; returns the graph and the width.
pub fn mn04_probe(weights: &Weights) -> anyhow::Result<(Vec<u8>, usize)> {
    let mut g = Graph::new();
    let values = efficientat::net::export(&mut g, weights, "input")?;
    let probabilities = g.node("Sigmoid", &[&values.logits], vec![]);
    let row = layers::concat(&mut g, &[&values.embedding, &probabilities], 1);
    let width = efficientat::net::EMBEDDING + efficientat::net::CLASSES;
    let onnx = g.finish(
        (
            "input",
            &[None, Some(MN04_FRAMES), Some(efficientat::net::MELS)],
        ),
        (&row, &[None, Some(width)]),
        "probabilities",
        "EfficientAT mn04 layers (probe)",
    );
    Ok((onnx, width))
}

/// `network`'s probe graph ([`probe`] or [`mn04_probe`]), or with `int8` its int8
/// quantisation (`quantize.rs`); returns the graph and the width.
pub fn probe_graph(
    network: Network,
    weights: &Weights,
    int8: bool,
) -> anyhow::Result<(Vec<u8>, usize)> {
    let (onnx, width) = if network.is_musicnn() {
        probe(weights)?
    } else {
        mn04_probe(weights)?
    };
    if !int8 {
        return Ok((onnx, width));
    }
    Ok((
        crate::quantize::graph(&onnx, &window_metadata(network, width))?,
        width,
    ))
}

/// Appends a network's trunk and its tag layer to `g`; returns the trunk's values and the tag
/// probabilities.
pub fn exported_values(
    g: &mut Graph,
    weights: &Weights,
    input: &str,
) -> anyhow::Result<(net::TrunkValues, String)> {
    let device = Device::flex();
    let values = Trunk::new(weights, &device)?.export_values(g, input)?;
    let dense = net::dense(weights, "dense_1", [EMBEDDING, TAGS], &device)?;
    let logits = layers::linear(g, &dense, &values.embedding);
    let tags = g.node("Sigmoid", &[&logits], vec![]);
    Ok((values, tags))
}

/// The level of every genre-v2 window before musicnn's compression (`features::level`): the
/// median window level of the research corpus (-14.0 dB; half its windows lie within -17.5 to
/// -10.9 dB: `cargo xtask window-level --network msd`), so that the network reads music at the
/// level it usually comes at, whatever level it comes at; at most 50 dB of gain, so that a
/// near-silent window (below -64 dB) is not raised into a loud one.
pub const WINDOW_LEVEL: Level = Level::Window {
    target_db: -14.0,
    max_gain_db: 50.0,
};

/// mn04's window: 300 frames of 10 ms (2.99 s, as musicnn's 187 frames of 16 ms).
pub const MN04_FRAMES: usize = 300;
/// mn04's windows start 299 frames apart (2.990 s; musicnn's 2.992 s), so that window `i` of
/// either network covers nearly the same audio and heads can read both side by side.
pub const MN04_HOP_FRAMES: usize = 299;

/// The level of every mn04 window before its logarithm, relative to a full-scale 1-kHz sine
/// through the same front end (pre-emphasis included): the research corpus's median window
/// level there (-11.4 dB; quartiles -17.2 and -6.9 dB: `cargo xtask window-level --network
/// mn04`), the gain capped like [`WINDOW_LEVEL`]'s.
pub const MN04_WINDOW_LEVEL: Level = Level::Window {
    target_db: -11.5,
    max_gain_db: 50.0,
};

/// Metadata of `network`'s window graph with `width` raw outputs, each window at the
/// network's level: musicnn patches `FRAMES` apart (musicnn's own non-overlapping patches, as
/// the shipped model runs), or mn04 windows [`MN04_HOP_FRAMES`] apart.
pub fn window_metadata(network: Network, width: usize) -> ModelMetadata {
    let mut metadata = raw_metadata("musicnn-windows", width, FRAMES);
    if let ModelInput::Frames {
        features,
        hop_frames,
    } = &mut metadata.input
    {
        features.level = WINDOW_LEVEL;
        if !network.is_musicnn() {
            *features = FeatureConfig {
                frames: MN04_FRAMES,
                level: MN04_WINDOW_LEVEL,
                ..FeatureConfig::preset(Preset::EfficientAt)
            };
            *hop_frames = MN04_HOP_FRAMES;
            metadata.name = "mn04-windows".into();
            metadata.family = "efficientat".into();
        }
    }
    metadata
}

/// Every clip's probe rows `[windows, width]` for `network` (through its int8 quantisation
/// with `int8`, `quantize.rs`), from the cache in `cache/<network>/<hash>/` where present (the
/// hash of the graph, the window input and the resampler's design). Clips that cannot be decoded are an error: the corpus must be whole for the folds
/// to be comparable.
pub fn probe_rows(
    network: Network,
    int8: bool,
    weights_root: &Path,
    clips: &[Labelled],
    cache: &Path,
    threads: Option<usize>,
) -> anyhow::Result<Vec<Array2<f32>>> {
    let (onnx, width) = probe_graph(network, &network.weights(weights_root)?, int8)?;
    let metadata = window_metadata(network, width);
    let key = blake3::Hasher::new()
        .update(&onnx)
        .update(&serde_json::to_vec(&metadata.input)?)
        .update(genrescope::resample::DESIGN.as_bytes())
        .finalize();
    let dir = cache.join(network.name()).join(&key.to_hex()[..16]);
    std::fs::create_dir_all(&dir)?;
    let runtime = Runtime::find(&repository_dirs())?;
    let plain: Vec<_> = clips.iter().map(|c| c.clip.clone()).collect();
    let rows = map_clips(
        &plain,
        threads,
        &format!("{} windows", network.name()),
        || -> anyhow::Result<_> {
            let model = GenreModel::from_memory(&runtime, &onnx, metadata.clone(), Provider::Cpu)?;
            Ok((model, WindowCutter::new(&metadata.input)?))
        },
        |(model, cutter), clip| -> anyhow::Result<Array2<f32>> {
            let file = dir.join(format!(
                "{}.npy",
                blake3::hash(clip.path.to_string_lossy().as_bytes()).to_hex()
            ));
            if let Ok(rows) = read_npy::<_, Array2<f32>>(&file) {
                return Ok(rows);
            }
            let cut = file_windows(cutter, &clip.path)?;
            let rows = model.outputs(cut.windows.view())?;
            let tmp = file.with_extension("tmp");
            write_npy(&tmp, &rows)?;
            std::fs::rename(&tmp, &file)?;
            Ok(rows)
        },
    )?;
    rows.into_iter().collect()
}

/// Median CPU time of one window through `network`'s every layer (one thread), in ms.
pub fn window_ms(network: Network, weights_root: &Path) -> anyhow::Result<f64> {
    let (onnx, width) = probe_graph(network, &network.weights(weights_root)?, false)?;
    probe_ms(network, &onnx, width)
}

/// Median CPU time of one window through `network`'s probe graph of `width` outputs (one
/// thread).
pub fn probe_ms(network: Network, onnx: &[u8], width: usize) -> anyhow::Result<f64> {
    let runtime = Runtime::find(&repository_dirs())?;
    let metadata = window_metadata(network, width);
    let mut model = GenreModel::from_memory(&runtime, onnx, metadata, Provider::Cpu)?;
    crate::timing::window_ms(&mut model)
}

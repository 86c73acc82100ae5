//! Per-window outputs of the pre-trained networks on every clip, computed once through ONNX
//! Runtime (the plugin's own decoding, resampling, features and window cutting) and cached per
//! clip, so every candidate head reads the same numbers and a rerun or an interrupted run
//! costs nothing twice.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use genrescope::features::Level;
use genrescope::inference::{
    file_windows, GenreModel, ModelInput, ModelMetadata, Provider, Runtime, WindowCutter,
};
use ndarray::Array2;
use ndarray_npy::{read_npy, write_npy};

use super::corpus::Labelled;
use crate::eval::clips::map_clips;
use crate::musicnn::graph::{self, EMBEDDING, FRAMES, TAGS};
use crate::musicnn::narrow;
use crate::musicnn::net::{self, Trunk};
use crate::musicnn::transfer::raw_metadata;
use crate::musicnn::weights::Weights;
use crate::onnx::{layers, Graph};
use genrescope::inference::runtime::repository_dirs;

/// A pre-trained musicnn whose windows the heads read: `msd`, `mtt`, or a narrowed copy such
/// as `msd@25` (a quarter of the front-end filters kept, `musicnn/narrow.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Network {
    pub source: Source,
    /// Percent of the front-end filters kept (100: the original network).
    pub percent: u8,
}

/// The training set of a pre-trained musicnn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    /// Million Song Dataset (last.fm tags).
    Msd,
    /// MagnaTagATune.
    Mtt,
}

impl Network {
    pub const MSD: Self = Self::full(Source::Msd);
    pub const MTT: Self = Self::full(Source::Mtt);

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
        };
        if self.percent == 100 {
            source.to_owned()
        } else {
            format!("{source}@{}", self.percent)
        }
    }

    /// The folder `tools/musicnn/export_weights.py` writes the original weights to, under
    /// `root`.
    pub fn weights_dir(self, root: &Path) -> PathBuf {
        root.join(match self.source {
            Source::Msd => "MSD_musicnn",
            Source::Mtt => "MTT_musicnn",
        })
    }

    /// The network's weights (narrowed where it keeps less than every filter).
    pub fn weights(self, root: &Path) -> anyhow::Result<Weights> {
        let weights = Weights::load(&self.weights_dir(root))?;
        if self.percent == 100 {
            Ok(weights)
        } else {
            narrow::narrowed(&weights, self.percent)
        }
    }
}

impl std::str::FromStr for Network {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (source, percent) = s.split_once('@').unwrap_or((s, "100"));
        let source = match source {
            "msd" => Source::Msd,
            "mtt" => Source::Mtt,
            _ => {
                return Err(format!(
                    "{source}: a network is msd or mtt (e.g. msd, mtt, msd@25)"
                ))
            }
        };
        match percent.parse::<u8>() {
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
    /// The 1 506 values that enter musicnn's first dense layer.
    PreDense,
    /// The 200-value penultimate embedding.
    Penultimate,
    /// The 50 tag probabilities.
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

    /// Where the layer sits in a [`probe`] row of `width` values (the pre-dense values are
    /// narrower in a narrowed network; the last two layers never change).
    pub fn range(self, width: usize) -> std::ops::Range<usize> {
        let pooled = width - EMBEDDING - TAGS;
        match self {
            Layer::PreDense => 0..pooled,
            Layer::Penultimate => pooled..pooled + EMBEDDING,
            Layer::Tags => pooled + EMBEDDING..width,
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

/// [`probe`], or with `int8` its int8 quantisation (`quantize.rs`); returns the graph and the
/// width.
pub fn probe_graph(weights: &Weights, int8: bool) -> anyhow::Result<(Vec<u8>, usize)> {
    let (onnx, width) = probe(weights)?;
    if !int8 {
        return Ok((onnx, width));
    }
    Ok((
        crate::quantize::graph(&onnx, &window_metadata(width))?,
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
/// median window level of the research corpus (-14.2 dB; half its windows lie within -17.5 to
/// -10.8 dB, the quietest at -39 dB), so that the network reads music at the level it usually
/// comes at, whatever level it comes at; at most 50 dB of gain, so a window 20 dB below the
/// corpus's quietest still reaches the target, and a near-silent one (below -64 dB) is not
/// raised into a loud one.
pub const WINDOW_LEVEL: Level = Level::Window {
    target_db: -14.0,
    max_gain_db: 50.0,
};

/// Metadata of a window graph with `width` raw outputs, cutting musicnn patches `FRAMES`
/// apart (musicnn's own non-overlapping patches, as the shipped model runs), each at
/// [`WINDOW_LEVEL`].
pub fn window_metadata(width: usize) -> ModelMetadata {
    let mut metadata = raw_metadata("musicnn-windows", width, FRAMES);
    if let ModelInput::Frames { features, .. } = &mut metadata.input {
        features.level = WINDOW_LEVEL;
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
    let (onnx, width) = probe_graph(&network.weights(weights_root)?, int8)?;
    let metadata = window_metadata(width);
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
    let (onnx, width) = probe(&network.weights(weights_root)?)?;
    probe_ms(&onnx, width)
}

/// Median CPU time of one window through a [`probe`] graph of `width` outputs (one thread).
pub fn probe_ms(onnx: &[u8], width: usize) -> anyhow::Result<f64> {
    let runtime = Runtime::find(&repository_dirs())?;
    let mut model = GenreModel::from_memory(&runtime, onnx, window_metadata(width), Provider::Cpu)?;
    crate::timing::window_ms(&mut model)
}

//! Per-window outputs of the pre-trained networks on every clip, computed once through ONNX
//! Runtime (the plugin's own decoding, resampling, features and window cutting) and cached per
//! clip, so every candidate head reads the same numbers and a rerun or an interrupted run
//! costs nothing twice.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use genrescope::inference::{
    file_windows, GenreModel, ModelMetadata, Provider, Runtime, WindowCutter,
};
use ndarray::Array2;
use ndarray_npy::{read_npy, write_npy};

use super::corpus::Labelled;
use crate::eval::clips::map_clips;
use crate::musicnn::graph::{self, EMBEDDING, FRAMES, TAGS};
use crate::musicnn::net::{self, Trunk, POOLED};
use crate::musicnn::transfer::raw_metadata;
use crate::musicnn::weights::Weights;
use crate::onnx::{layers, Graph};
use genrescope::inference::runtime::repository_dirs;

/// A pre-trained musicnn whose windows the heads read.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum Network {
    /// Million Song Dataset (last.fm tags).
    Msd,
    /// MagnaTagATune.
    Mtt,
}

impl Network {
    pub fn name(self) -> &'static str {
        match self {
            Network::Msd => "msd",
            Network::Mtt => "mtt",
        }
    }

    /// The folder `tools/musicnn/export_weights.py` writes its weights to, under `root`.
    pub fn weights(self, root: &Path) -> PathBuf {
        root.join(match self {
            Network::Msd => "MSD_musicnn",
            Network::Mtt => "MTT_musicnn",
        })
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

    /// Where the layer sits in a [`probe`] row.
    pub fn range(self) -> std::ops::Range<usize> {
        match self {
            Layer::PreDense => 0..POOLED,
            Layer::Penultimate => POOLED..POOLED + EMBEDDING,
            Layer::Tags => POOLED + EMBEDDING..PROBE_WIDTH,
        }
    }
}

/// Width of a probe row: every [`Layer`] side by side.
pub const PROBE_WIDTH: usize = POOLED + EMBEDDING + TAGS;

/// The network's values of every layer in one graph: `[B, 187, 96]` → `[B, PROBE_WIDTH]`.
pub fn probe(weights: &Weights) -> anyhow::Result<Vec<u8>> {
    let mut g = Graph::new();
    let (values, tags) = exported_values(&mut g, weights, "input")?;
    let row = layers::concat(&mut g, &[&values.pooled, &values.embedding, &tags], 1);
    Ok(graph::finish(
        g,
        &row,
        PROBE_WIDTH,
        "musicnn layers (probe)",
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

/// Metadata of a window graph with `width` raw outputs, cutting musicnn patches `FRAMES`
/// apart (musicnn's own non-overlapping patches, as the shipped model runs).
pub fn window_metadata(width: usize) -> ModelMetadata {
    raw_metadata("musicnn-windows", width, FRAMES)
}

/// Every clip's probe rows `[windows, PROBE_WIDTH]` for `network`, from the cache in
/// `cache/<network>/<graph hash>/` where present. Clips that cannot be decoded are an error:
/// the corpus must be whole for the folds to be comparable.
pub fn probe_rows(
    network: Network,
    weights_root: &Path,
    clips: &[Labelled],
    cache: &Path,
    threads: Option<usize>,
) -> anyhow::Result<Vec<Array2<f32>>> {
    let weights = Weights::load(&network.weights(weights_root))?;
    let onnx = probe(&weights)?;
    let dir = cache
        .join(network.name())
        .join(&blake3::hash(&onnx).to_hex()[..16]);
    std::fs::create_dir_all(&dir)?;
    let runtime = Runtime::find(&repository_dirs())?;
    let metadata = window_metadata(PROBE_WIDTH);
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

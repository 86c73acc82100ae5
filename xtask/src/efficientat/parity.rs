//! Parity with the original EfficientAT implementation: its outputs on 10 s of four corpus
//! clips (`reference/<clip>.npz`, written with PyTorch) against ours:
//! - the front end: [`Preset::EfficientAt`] features of `waveform_32k` against `mel`;
//! - the network: our graph on the reference `mel` against `logits` and `embedding`, and on
//!   its three consecutive 300-frame windows against `window_logits` / `window_embedding`.

use std::fmt;
use std::io::Read;
use std::path::Path;

use anyhow::Context;
use genrescope::features::{FeatureConfig, FeatureExtractor, Preset};
use genrescope::inference::runtime::repository_dirs;
use genrescope::inference::{GenreModel, Provider, Runtime};
use ndarray::{s, Array1, Array2, Array3, ArrayD, Axis, Ix1, Ix2};
use ndarray_npy::ReadNpyExt;

use super::{graph, net};
use crate::weights::Weights;

/// Frames of the reference's 10 s.
const REFERENCE_FRAMES: usize = 1000;

/// The largest differences allowed (absolute; the mel values span about -2..2, the logits
/// about -15..5).
#[derive(Debug, Clone, Copy)]
pub struct Tolerance {
    pub mel: f32,
    pub network: f32,
}

impl Default for Tolerance {
    fn default() -> Self {
        Self {
            mel: 1e-4,
            network: 1e-4,
        }
    }
}

/// The largest absolute differences over every reference clip.
#[derive(Debug, Default, Clone, Copy)]
pub struct Report {
    pub clips: usize,
    pub mel: f32,
    pub logits: f32,
    pub embedding: f32,
    pub window_logits: f32,
    pub window_embedding: f32,
}

impl Report {
    pub fn ensure_within(&self, tolerance: Tolerance) -> anyhow::Result<()> {
        anyhow::ensure!(self.clips > 0, "no reference clips");
        anyhow::ensure!(
            self.mel <= tolerance.mel,
            "front end: mel differs by {} (> {})",
            self.mel,
            tolerance.mel
        );
        let network = [
            self.logits,
            self.embedding,
            self.window_logits,
            self.window_embedding,
        ];
        let worst = network.into_iter().fold(0.0f32, f32::max);
        anyhow::ensure!(
            worst <= tolerance.network,
            "network: outputs differ by {worst} (> {})",
            tolerance.network
        );
        Ok(())
    }

    fn merge(self, other: Self) -> Self {
        Self {
            clips: self.clips + other.clips,
            mel: self.mel.max(other.mel),
            logits: self.logits.max(other.logits),
            embedding: self.embedding.max(other.embedding),
            window_logits: self.window_logits.max(other.window_logits),
            window_embedding: self.window_embedding.max(other.window_embedding),
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} clips, largest |difference|: mel {:.2e}, logits {:.2e}, embedding {:.2e}, \
             3-s window logits {:.2e}, 3-s window embeddings {:.2e}",
            self.clips,
            self.mel,
            self.logits,
            self.embedding,
            self.window_logits,
            self.window_embedding
        )
    }
}

/// One clip's reference arrays.
struct Reference {
    waveform: Array1<f32>,
    /// `[128, frames]`, as the original front end returns it.
    mel: Array2<f32>,
    logits: Array1<f32>,
    embedding: Array1<f32>,
    window_logits: Array2<f32>,
    window_embedding: Array2<f32>,
}

impl Reference {
    fn load(path: &Path) -> anyhow::Result<Self> {
        let mut zip = zip::ZipArchive::new(std::fs::File::open(path)?)
            .with_context(|| format!("{}: not an .npz archive", path.display()))?;
        let mut array = |name: &str| -> anyhow::Result<ArrayD<f32>> {
            let mut bytes = Vec::new();
            zip.by_name(&format!("{name}.npy"))
                .with_context(|| format!("{}: no {name}", path.display()))?
                .read_to_end(&mut bytes)?;
            Ok(ArrayD::<f32>::read_npy(bytes.as_slice())?)
        };
        // Single-clip outputs may keep a batch axis of 1.
        let vector = |a: ArrayD<f32>| -> anyhow::Result<Array1<f32>> {
            let len = a.len();
            Ok(a.into_shape_with_order(len)?.into_dimensionality::<Ix1>()?)
        };
        let matrix = |a: ArrayD<f32>| -> anyhow::Result<Array2<f32>> {
            let rows = a.shape()[0];
            let len = a.len();
            Ok(a.into_shape_with_order((rows, len / rows))?
                .into_dimensionality::<Ix2>()?)
        };
        // `[128, frames]`, perhaps behind batch and channel axes of 1.
        let mel = array("mel")?;
        let (bands, len) = (mel.shape()[mel.ndim() - 2], mel.len());
        let mel = mel
            .into_shape_with_order((bands, len / bands))?
            .into_dimensionality::<Ix2>()?;
        Ok(Self {
            waveform: vector(array("waveform_32k")?)?,
            mel,
            logits: vector(array("logits")?)?,
            embedding: vector(array("embedding")?)?,
            window_logits: matrix(array("window_logits")?)?,
            window_embedding: matrix(array("window_embedding")?)?,
        })
    }
}

/// Compares every `*.npz` in `reference` (the clips `clips.json` lists).
pub fn check(weights: &Weights, reference: &Path) -> anyhow::Result<Report> {
    let clips: Vec<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(reference.join("clips.json"))
            .with_context(|| format!("{}: no clips.json", reference.display()))?,
    )?;
    let runtime = Runtime::find(&repository_dirs())?;
    let config = FeatureConfig::preset(Preset::EfficientAt);
    // The reference's 10 s (1000 frames) and its 3-s windows (300 frames).
    let model = |frames: usize| -> anyhow::Result<GenreModel> {
        let config = FeatureConfig {
            frames,
            ..config.clone()
        };
        let onnx = graph(weights, frames)?;
        Ok(GenreModel::from_memory(
            &runtime,
            &onnx,
            raw_metadata(&config),
            Provider::Cpu,
        )?)
    };
    let (mut whole, mut windows) = (model(REFERENCE_FRAMES)?, model(config.frames)?);
    let extractor = FeatureExtractor::new(&config)?;
    let mut report = Report::default();
    for clip in clips {
        let file = clip["file"]
            .as_str()
            .context("clips.json: an entry without a file")?;
        let reference = Reference::load(&reference.join(file))?;
        report = report.merge(compare(&reference, &extractor, &mut whole, &mut windows)?);
    }
    Ok(report)
}

/// Metadata for running the graph on windows of any length (only the input matters here).
fn raw_metadata(config: &FeatureConfig) -> genrescope::inference::ModelMetadata {
    let mut metadata = crate::musicnn::transfer::raw_metadata(
        "mn04",
        net::EMBEDDING + net::CLASSES,
        config.frames,
    );
    metadata.input = genrescope::inference::ModelInput::Frames {
        features: config.clone(),
        hop_frames: config.frames,
    };
    metadata.family = "efficientat".into();
    metadata
}

fn compare(
    reference: &Reference,
    extractor: &FeatureExtractor,
    whole: &mut GenreModel,
    windows_model: &mut GenreModel,
) -> anyhow::Result<Report> {
    let samples = reference
        .waveform
        .as_slice()
        .context("contiguous waveform")?;
    let ours = extractor.extract(samples); // [frames, 128]
    let theirs = reference.mel.t(); // [frames, 128]
    anyhow::ensure!(
        ours.dim() == theirs.dim(),
        "front end: {:?} frames × bands, the reference {:?}",
        ours.dim(),
        theirs.dim()
    );
    let mel = max_difference(ours.iter(), theirs.iter());

    let outputs = run(whole, theirs.to_owned().insert_axis(Axis(0)))?;
    let (embedding, logits) = outputs.row(0).split_at(Axis(0), net::EMBEDDING);
    // The reference's windows went through the front end one by one: 3 s of samples each.
    let windows = reference.window_logits.nrows();
    let config = FeatureConfig::preset(Preset::EfficientAt);
    let (frames, span) = (config.frames, config.frames * config.hop_length);
    let mut cut = Array3::zeros((windows, frames, net::MELS));
    for w in 0..windows {
        let features = extractor.extract(&samples[w * span..(w + 1) * span]);
        anyhow::ensure!(
            features.nrows() == frames,
            "{} frames from 3 s",
            features.nrows()
        );
        cut.slice_mut(s![w, .., ..]).assign(&features);
    }
    let per_window = run(windows_model, cut)?;
    let (window_embedding, window_logits) = per_window.view().split_at(Axis(1), net::EMBEDDING);
    Ok(Report {
        clips: 1,
        mel,
        logits: max_difference(logits.iter(), reference.logits.iter()),
        embedding: max_difference(embedding.iter(), reference.embedding.iter()),
        window_logits: max_difference(window_logits.iter(), reference.window_logits.iter()),
        window_embedding: max_difference(
            window_embedding.iter(),
            reference.window_embedding.iter(),
        ),
    })
}

fn run(model: &mut GenreModel, windows: Array3<f32>) -> anyhow::Result<Array2<f32>> {
    Ok(model.outputs(windows.as_standard_layout().view())?)
}

fn max_difference<'a>(a: impl Iterator<Item = &'a f32>, b: impl Iterator<Item = &'a f32>) -> f32 {
    a.zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

//! musicnn with a genre head: the model both transfer stages train and export. The trunk's last
//! batch norm also standardises the embedding (`Trunk::standardise_output`), so the head reads
//! exactly what it was trained on in the frozen stage.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::tensor::Tensor;
use genrescope::features::{FeatureConfig, Preset};
use genrescope::inference::metadata::FORMAT_VERSION;
use genrescope::inference::{Calibration, ModelInput, ModelMetadata, OutputKind};

use super::graph;
use super::net::Trunk;
use crate::onnx::{layers, Graph};
use crate::train::calibrate;
use crate::train::fit::{Classifier, EpochLog};
use crate::train::models::Net;

#[derive(Module, Debug)]
pub struct MusicnnGenre {
    pub trunk: Trunk,
    /// A dense head on the `[batch, 1, 200]` standardised embedding.
    pub head: Net,
}

impl Classifier for MusicnnGenre {
    fn logits(&self, x: Tensor<3>) -> Tensor<2> {
        self.head
            .forward(self.trunk.forward(x).unsqueeze_dim::<3>(1))
    }
}

impl MusicnnGenre {
    /// The inference pass plus a softmax: input `[batch, 187, 96]` patches, output
    /// `[batch, classes]` probabilities.
    pub fn to_onnx(&self, classes: usize, doc: &str) -> anyhow::Result<Vec<u8>> {
        let mut g = Graph::new();
        let embedding = self.trunk.export(&mut g, "input")?;
        let logits = self.head.export_logits(&mut g, &embedding)?;
        let probabilities = layers::softmax(&mut g, &logits);
        Ok(graph::finish(g, &probabilities, classes, doc))
    }
}

/// Metadata of a musicnn genre model that runs on patches `run_hop_frames` apart, before
/// calibration ([`write()`] adds it and the validation figures).
pub fn metadata(
    name: &str,
    family: &str,
    classes: &[String],
    run_hop_frames: usize,
    training: serde_json::Value,
) -> ModelMetadata {
    ModelMetadata {
        format: FORMAT_VERSION,
        name: name.to_owned(),
        family: family.to_owned(),
        labels: classes.to_vec(),
        input: ModelInput::Frames {
            features: FeatureConfig::preset(Preset::Musicnn),
            hop_frames: run_hop_frames,
        },
        output: OutputKind::Softmax,
        calibration: Calibration::default(),
        context: None,
        training,
        metrics: serde_json::json!({}),
        licence: "Network: musicnn 0.1.0 (ISC, Copyright (c) 2019 Music Technology Group, UPF; \
                  see models/LICENCE-musicnn.md), trained by its author on the Million Song \
                  Dataset. Head (and, when fine-tuned, the network's updated weights): trained \
                  by genrescope's xtask on ../shared/music clips, which are for research and \
                  evaluation use."
            .into(),
    }
}

/// Adds the calibration and the kept epoch's validation figures to `metadata`, validates it,
/// and writes `<out>/<name>.onnx` and `.json`; returns the model's path.
pub fn write(
    out: &Path,
    onnx: &[u8],
    mut metadata: ModelMetadata,
    best_epoch: usize,
    best: &EpochLog,
    calibration: &calibrate::Fitted,
) -> anyhow::Result<PathBuf> {
    metadata.calibration.temperature = calibration.temperature;
    metadata.metrics = best.validation_metrics();
    metadata.metrics["calibration"] = calibration.to_metrics();
    metadata
        .validate()
        .map_err(|e| anyhow::anyhow!("metadata: {e}"))?;
    std::fs::create_dir_all(out)?;
    let path = out.join(format!("{}.onnx", metadata.name));
    crate::train::write_model(&path, onnx, &metadata)?;
    println!(
        "wrote {} (best epoch {best_epoch}: valid clip acc {:.3}, macro-F1 {:.3}; T {:.2}, ECE {:.3} → {:.3})",
        path.display(),
        best.valid_clip_accuracy,
        best.valid_clip_macro_f1,
        calibration.temperature,
        calibration.ece_before,
        calibration.ece_after
    );
    Ok(path)
}

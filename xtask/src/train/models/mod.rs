//! The research model families in burn, each with an ONNX export of exactly its inference
//! forward pass. Every model takes `[batch, frames, width]` (descriptor vectors are one frame)
//! and returns logits `[batch, classes]`; the exported graph appends a softmax.

pub mod blocks;
mod cnn;
mod crnn;
mod hybrid;
mod lstm;
mod mlp;
mod mobilenet;

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use genrescope::features::Preset;
use serde::{Deserialize, Serialize};

use crate::onnx::{layers, Graph};

pub use cnn::MfccCnn;
pub use crnn::Crnn;
pub use hybrid::Hybrid;
pub use lstm::MfccLstm;
pub use mlp::DescriptorMlp;
pub use mobilenet::MobileNet;

/// A model family from the research sources (see `models/REPORT.md` for the sources).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    /// 3 conv blocks (conv, ReLU, max-pool, batch norm), dense, dropout, softmax; 13 MFCC × 130.
    MfccCnn,
    /// 2 LSTM layers, dense, dropout, softmax; 13 MFCC × 130.
    MfccLstm,
    /// Conv blocks, then an LSTM over time, dense, dropout, softmax; 13 MFCC × 258 (6 s).
    Crnn,
    /// 3 dense layers and dropout on the 57-value GTZAN-table descriptor vector.
    DescriptorMlp,
    /// MobileNetV2-style inverted-residual net on 128 log-mel bands × 130 frames, from scratch.
    Mobilenet,
    /// Log-mel CNN branch + MLP branch on the window's descriptor vector, concatenated into a
    /// dense layer, dropout, softmax.
    Hybrid,
}

impl Family {
    pub const ALL: [Family; 6] = [
        Family::MfccCnn,
        Family::MfccLstm,
        Family::Crnn,
        Family::DescriptorMlp,
        Family::Mobilenet,
        Family::Hybrid,
    ];

    /// The kebab-case name used in file names and metadata.
    pub fn name(self) -> &'static str {
        match self {
            Family::MfccCnn => "mfcc-cnn",
            Family::MfccLstm => "mfcc-lstm",
            Family::Crnn => "crnn",
            Family::DescriptorMlp => "descriptor-mlp",
            Family::Mobilenet => "mobilenet",
            Family::Hybrid => "hybrid",
        }
    }

    /// The feature preset a family trains on unless told otherwise (`None`: descriptors).
    pub fn default_features(self) -> Option<Preset> {
        match self {
            Family::MfccCnn | Family::MfccLstm => Some(Preset::Mfcc13),
            Family::Crnn => Some(Preset::CrnnMfcc),
            Family::Mobilenet | Family::Hybrid => Some(Preset::LogMel128),
            Family::DescriptorMlp => None,
        }
    }
}

/// Size hyper-parameters shared by the families (each uses the ones it has).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hyper {
    /// Output channels of each conv block (CNN, CRNN).
    pub channels: Vec<usize>,
    /// Conv kernel size (odd; padded to keep the size).
    pub kernel: usize,
    /// LSTM hidden units per layer (LSTM, CRNN).
    pub hidden: usize,
    /// Dense layer widths before the output layer.
    pub dense: Vec<usize>,
    pub dropout: f64,
}

impl Hyper {
    pub fn default_for(family: Family) -> Self {
        match family {
            Family::MfccCnn => Self {
                channels: vec![32, 32, 32],
                kernel: 3,
                hidden: 0,
                dense: vec![64],
                dropout: 0.3,
            },
            Family::MfccLstm => Self {
                channels: vec![],
                kernel: 3,
                hidden: 64,
                dense: vec![64],
                dropout: 0.3,
            },
            Family::Crnn => Self {
                channels: vec![32, 64, 64],
                kernel: 3,
                hidden: 64,
                dense: vec![64],
                dropout: 0.3,
            },
            Family::DescriptorMlp => Self {
                channels: vec![],
                kernel: 3,
                hidden: 0,
                dense: vec![256, 128, 64],
                dropout: 0.3,
            },
            // Stem, the six bottleneck stages, head conv: half of MobileNetV2's
            // 32, 16, 24, 32, 64, 96, 160 and a quarter of its 1 280 head.
            Family::Mobilenet => Self {
                channels: vec![16, 8, 12, 16, 32, 48, 80, 320],
                kernel: 3,
                hidden: 0,
                dense: vec![],
                dropout: 0.2,
            },
            // CNN branch: four conv blocks (128×130 → 8×8) and a 128-unit layer; MLP branch:
            // source 002's three dense layers (the last 64 wide).
            Family::Hybrid => Self {
                channels: vec![16, 32, 64, 64],
                kernel: 3,
                hidden: 128,
                dense: vec![256, 128],
                dropout: 0.3,
            },
        }
    }
}

/// Any of the families, so training, checkpoints and export handle them alike.
// One `Net` exists per training run, so the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Net {
    MfccCnn(MfccCnn),
    MfccLstm(MfccLstm),
    Crnn(Crnn),
    DescriptorMlp(DescriptorMlp),
    Mobilenet(MobileNet),
    Hybrid(Hybrid),
}

impl Net {
    /// A freshly initialised model for inputs of `frames × width` and `classes` outputs.
    pub fn new(
        family: Family,
        hyper: &Hyper,
        frames: usize,
        width: usize,
        classes: usize,
        device: &Device,
    ) -> anyhow::Result<Self> {
        Ok(match family {
            Family::MfccCnn => Net::MfccCnn(MfccCnn::new(hyper, frames, width, classes, device)?),
            Family::MfccLstm => Net::MfccLstm(MfccLstm::new(hyper, width, classes, device)?),
            Family::Crnn => Net::Crnn(Crnn::new(hyper, frames, width, classes, device)?),
            Family::DescriptorMlp => {
                Net::DescriptorMlp(DescriptorMlp::new(hyper, frames * width, classes, device)?)
            }
            Family::Mobilenet => {
                Net::Mobilenet(MobileNet::new(hyper, frames, width, classes, device)?)
            }
            Family::Hybrid => Net::Hybrid(Hybrid::new(hyper, frames, width, classes, device)?),
        })
    }

    /// Logits `[batch, classes]` of `[batch, frames, width]`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<2> {
        match self {
            Net::MfccCnn(m) => m.forward(x),
            Net::MfccLstm(m) => m.forward(x),
            Net::Crnn(m) => m.forward(x),
            Net::DescriptorMlp(m) => m.forward(x),
            Net::Mobilenet(m) => m.forward(x),
            Net::Hybrid(m) => m.forward(x),
        }
    }

    /// Appends the inference forward pass to `g`, reading value `input`; returns the logits.
    pub fn export_logits(&self, g: &mut Graph, input: &str) -> anyhow::Result<String> {
        Ok(match self {
            Net::MfccCnn(m) => m.export(g, input)?,
            Net::MfccLstm(m) => m.export(g, input)?,
            Net::Crnn(m) => m.export(g, input)?,
            Net::DescriptorMlp(m) => m.export(g, input),
            Net::Mobilenet(m) => m.export(g, input)?,
            Net::Hybrid(m) => m.export(g, input)?,
        })
    }

    /// The inference forward pass plus a softmax, as an ONNX model with input `"input"`
    /// (`[batch, frames, width]`) and output `"probabilities"` (`[batch, classes]`).
    pub fn to_onnx(
        &self,
        frames: usize,
        width: usize,
        classes: usize,
        doc: &str,
    ) -> anyhow::Result<Vec<u8>> {
        let mut g = Graph::new();
        let input = "input";
        let logits = self.export_logits(&mut g, input)?;
        let probabilities = layers::softmax(&mut g, &logits);
        Ok(g.finish(
            (input, &[None, Some(frames), Some(width)]),
            (&probabilities, &[None, Some(classes)]),
            "probabilities",
            doc,
        ))
    }
}

#[cfg(test)]
pub mod tests;

//! The JSON file beside every `.onnx` model (`model.onnx` → `model.json`): labels, the exact
//! input the model expects, how it was trained and judged, and the licence of its weights.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::context::{Companion, PooledContext};
pub use super::input::ModelInput;
use crate::Error;

/// Current version of the metadata format.
pub const FORMAT_VERSION: u32 = 1;

/// What the model's output values are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputKind {
    /// One distribution over mutually exclusive genres (sums to 1).
    #[default]
    Softmax,
    /// Independent per-tag probabilities (musicnn's tags); they need not sum to 1.
    Sigmoid,
}

/// Probability calibration applied to the model's logits before display: `softmax(z / T)`.
/// The exported graph outputs `softmax(z)`; [`crate::inference::GenreModel`] undoes and redoes
/// it when `temperature` is not 1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    pub temperature: f32,
}

impl Default for Calibration {
    fn default() -> Self {
        Self { temperature: 1.0 }
    }
}

/// Everything the plugin, the CLI and `eval` need to know about a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMetadata {
    pub format: u32,
    /// Short name shown in the model picker.
    pub name: String,
    /// Model family (`mfcc-cnn`, `mfcc-lstm`, `crnn`, `descriptor-mlp`, ...).
    pub family: String,
    /// Output classes, in output order.
    pub labels: Vec<String>,
    pub input: ModelInput,
    #[serde(default)]
    pub output: OutputKind,
    /// Only applied to [`OutputKind::Softmax`] outputs.
    #[serde(default)]
    pub calibration: Calibration,
    /// A pooled model: the graph turns each window into an embedding (and tags), and the genre
    /// comes from a head over pooled statistics of many windows (see [`PooledContext`]);
    /// `labels`, `output` and `calibration` describe the head. `None`: the graph classifies
    /// each window itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<PooledContext>,
    /// Training data, split, seed and hyper-parameters, free-form but machine-written.
    #[serde(default)]
    pub training: serde_json::Value,
    /// Validation metrics at training time (clip level), see `models/REPORT.md`.
    #[serde(default)]
    pub metrics: serde_json::Value,
    /// Licence of the weights and of the data they were trained on.
    pub licence: String,
}

impl ModelMetadata {
    /// The metadata path of a model file: same name, `.json` extension.
    pub fn path_for(model: &Path) -> std::path::PathBuf {
        model.with_extension("json")
    }

    pub fn from_json(text: &str) -> Result<Self, Error> {
        let metadata: Self = serde_json::from_str(text)
            .map_err(|e| Error::Metadata(format!("bad metadata: {e}")))?;
        metadata.validate()?;
        Ok(metadata)
    }

    pub fn load(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Metadata(format!("cannot read {}: {e}", path.display())))?;
        Self::from_json(&text).map_err(|e| Error::Metadata(format!("{}: {e}", path.display())))
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("metadata serialises")
    }

    /// What each of the model's window graphs reads: `input`, then each companion's of its
    /// window head ([`super::context::Companion`]).
    pub fn graph_inputs(&self) -> Vec<&ModelInput> {
        std::iter::once(&self.input)
            .chain(self.companions().iter().map(|c| &c.input))
            .collect()
    }

    /// The window head's companions, in order (none without a window head).
    pub fn companions(&self) -> &[Companion] {
        let head = self.context.as_ref().and_then(|c| c.window_head.as_ref());
        head.map_or(&[], |w| &w.with)
    }

    /// Checks everything a model run relies on: a known format, unique non-empty labels, a
    /// usable feature configuration, and consistent normalisation sizes.
    pub fn validate(&self) -> Result<(), Error> {
        let fail = |msg: String| Err(Error::Metadata(msg));
        if self.format != FORMAT_VERSION {
            return fail(format!(
                "metadata format {} is not supported (expected {FORMAT_VERSION})",
                self.format
            ));
        }
        if self.labels.is_empty() {
            return fail("the model has no labels".into());
        }
        let mut sorted = self.labels.clone();
        sorted.sort();
        sorted.dedup();
        if sorted.len() != self.labels.len() || self.labels.iter().any(|l| l.trim().is_empty()) {
            return fail("labels must be unique and non-empty".into());
        }
        let t = self.calibration.temperature;
        if !(t.is_finite() && t > 0.0) {
            return fail(format!("calibration temperature {t} must be positive"));
        }
        if let Some(context) = &self.context {
            context.validate(&self.input).map_err(Error::Metadata)?;
            if self.output != OutputKind::Softmax {
                return fail("a pooled model's head must output a softmax".into());
            }
        }
        self.input.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::{FeatureConfig, Preset};

    fn example() -> ModelMetadata {
        ModelMetadata {
            format: FORMAT_VERSION,
            name: "test".into(),
            family: "mfcc-cnn".into(),
            labels: vec!["blues".into(), "rock".into()],
            input: ModelInput::Frames {
                features: FeatureConfig::preset(Preset::Mfcc13),
                hop_frames: 65,
            },
            output: Default::default(),
            calibration: Calibration::default(),
            context: None,
            training: serde_json::Value::Null,
            metrics: serde_json::Value::Null,
            licence: "CC0".into(),
        }
    }

    #[test]
    fn round_trips_and_describes_the_input() {
        let metadata = example();
        let back = ModelMetadata::from_json(&metadata.to_json()).unwrap();
        assert_eq!(back, metadata);
        assert_eq!(back.input.shape(), vec![130, 13]);
        assert!((back.input.hop_seconds() - 65.0 * 512.0 / 22_050.0).abs() < 1e-6);
    }

    #[test]
    fn rejects_what_would_break_a_run() {
        let mut bad = example();
        bad.labels = vec!["rock".into(), "rock".into()];
        assert!(bad.validate().is_err());
        let mut bad = example();
        bad.labels.clear();
        assert!(bad.validate().is_err());
        let mut bad = example();
        bad.calibration.temperature = 0.0;
        assert!(bad.validate().is_err());
        let mut bad = example();
        bad.format = 99;
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("format 99"));
        assert!(ModelMetadata::from_json("{not json").is_err());
        assert!(ModelMetadata::from_json("{}").is_err());
    }

    #[test]
    fn hybrid_inputs_need_a_row_wide_enough_and_sane_statistics() {
        let hybrid = |features: FeatureConfig, mean: Vec<f32>| {
            let std = vec![1.0; mean.len()];
            ModelMetadata {
                input: ModelInput::Hybrid {
                    features,
                    hop_seconds: 1.5,
                    mean,
                    std,
                },
                ..example()
            }
        };
        let logmel = FeatureConfig::preset(Preset::LogMel128);
        let good = hybrid(logmel.clone(), vec![0.0; 57]);
        good.validate().unwrap();
        assert_eq!(good.input.shape(), vec![131, 128]);
        assert_eq!(good.input.hop_seconds(), 1.5);
        let json = good.to_json();
        assert!(json.contains("\"kind\": \"hybrid\""));
        assert_eq!(ModelMetadata::from_json(&json).unwrap(), good);
        let narrow = hybrid(FeatureConfig::preset(Preset::Mfcc13), vec![0.0; 57]);
        assert!(narrow
            .validate()
            .unwrap_err()
            .to_string()
            .contains("do not fit"));
        // Statistics that would standardise to infinity are refused.
        assert!(hybrid(logmel.clone(), vec![3e38; 57]).validate().is_err());
        let mut tiny = hybrid(logmel, vec![0.0; 57]);
        if let ModelInput::Hybrid { std, .. } = &mut tiny.input {
            std[3] = 1e-30;
        }
        assert!(tiny.validate().is_err());
    }
}

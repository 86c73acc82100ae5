//! What a model's window graph reads: frame features cut into windows, descriptor vectors, or
//! both (the hybrid family), at a given rate.

use serde::{Deserialize, Serialize};

use crate::features::limit::{check_standardisation, RATES_HZ};
use crate::features::{FeatureConfig, FeatureExtractor};
use crate::Error;

/// What the model's single input tensor (`"input"`) holds; the output (`"probabilities"`) is
/// always `[batch, labels.len()]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ModelInput {
    /// `[batch, features.frames, features.feature_width()]`: windows of frame features cut every
    /// `hop_frames` frames.
    Frames {
        features: FeatureConfig,
        hop_frames: usize,
    },
    /// `[batch, 1, mean.len()]`: the GTZAN-table descriptor vector
    /// ([`crate::features::descriptors::clip_summary`]) of `window_seconds` of audio at
    /// `sample_rate` Hz, taken every `hop_seconds`, standardised as `(x - mean) / std`.
    Descriptors {
        sample_rate: u32,
        window_seconds: f32,
        hop_seconds: f32,
        mean: Vec<f32>,
        std: Vec<f32>,
    },
    /// `[batch, features.frames + 1, features.feature_width()]`, the hybrid family's input:
    /// every `hop_seconds`, a window of `features.frames × features.hop_length` samples gives
    /// the first `features.frames` frame features computed from the window's own samples, then one
    /// more row: the window's descriptor vector standardised by `mean`/`std`, zero-padded to
    /// the row width.
    Hybrid {
        features: FeatureConfig,
        hop_seconds: f32,
        mean: Vec<f32>,
        std: Vec<f32>,
    },
}

impl ModelInput {
    /// Sample rate (Hz) the audio is resampled to before feature extraction.
    pub fn sample_rate(&self) -> u32 {
        match self {
            Self::Frames { features, .. } | Self::Hybrid { features, .. } => features.sample_rate,
            Self::Descriptors { sample_rate, .. } => *sample_rate,
        }
    }

    /// Length of one model window in seconds.
    pub fn window_seconds(&self) -> f32 {
        match self {
            Self::Frames { features, .. } => features.window_seconds(),
            // `frames` whole hops of samples: the span the descriptors are computed over.
            Self::Hybrid { features, .. } => {
                (features.frames * features.hop_length) as f32 / features.sample_rate as f32
            }
            Self::Descriptors { window_seconds, .. } => *window_seconds,
        }
    }

    /// Distance between consecutive windows in seconds.
    pub fn hop_seconds(&self) -> f32 {
        match self {
            Self::Frames {
                features,
                hop_frames,
            } => (*hop_frames * features.hop_length) as f32 / features.sample_rate as f32,
            Self::Descriptors { hop_seconds, .. } | Self::Hybrid { hop_seconds, .. } => {
                *hop_seconds
            }
        }
    }

    /// The frame-feature extractor of a frame or hybrid input (`None` for descriptors).
    pub fn frame_extractor(&self) -> Result<Option<FeatureExtractor>, Error> {
        match self {
            Self::Frames { features, .. } | Self::Hybrid { features, .. } => {
                FeatureExtractor::new(features).map(Some)
            }
            Self::Descriptors { .. } => Ok(None),
        }
    }

    /// The highest frequency the windows read, in Hz: the top of the feature bands, or Nyquist
    /// for descriptors.
    pub fn top_hz(&self) -> f32 {
        match self {
            Self::Frames { features, .. } | Self::Hybrid { features, .. } => features.fmax_hz(),
            Self::Descriptors { sample_rate, .. } => *sample_rate as f32 / 2.0,
        }
    }

    /// Input tensor shape without the batch axis.
    pub fn shape(&self) -> Vec<usize> {
        match self {
            Self::Frames { features, .. } => vec![features.frames, features.feature_width()],
            Self::Descriptors { mean, .. } => vec![1, mean.len()],
            Self::Hybrid { features, .. } => vec![features.frames + 1, features.feature_width()],
        }
    }

    /// Checks what cutting windows relies on: a usable feature configuration, a hop, rates and
    /// windows in range, and consistent standardisation sizes.
    pub fn validate(&self) -> Result<(), Error> {
        let fail = |msg: String| Err(Error::Metadata(msg));
        match self {
            ModelInput::Frames {
                features,
                hop_frames,
            } => {
                features
                    .validate()
                    .map_err(|e| Error::Metadata(e.to_string()))?;
                if *hop_frames == 0 {
                    return fail("hop_frames must be at least 1".into());
                }
            }
            ModelInput::Descriptors {
                sample_rate,
                window_seconds,
                hop_seconds,
                mean,
                std,
            } => {
                let sane = |x: f32| x.is_finite() && x > 0.0;
                if !RATES_HZ.contains(sample_rate)
                    || !sane(*window_seconds)
                    || !sane(*hop_seconds)
                    || *window_seconds > 60.0
                {
                    return fail("descriptor window or rate out of range".into());
                }
                check_descriptor_standardisation(mean, std)?;
            }
            ModelInput::Hybrid {
                features,
                hop_seconds,
                mean,
                std,
            } => {
                features
                    .validate()
                    .map_err(|e| Error::Metadata(e.to_string()))?;
                if !(hop_seconds.is_finite() && *hop_seconds > 0.0) {
                    return fail(format!("hop_seconds {hop_seconds} must be positive"));
                }
                check_descriptor_standardisation(mean, std)?;
                if mean.len() > features.feature_width() {
                    return fail(format!(
                        "{} descriptor values do not fit a row of {} features",
                        mean.len(),
                        features.feature_width()
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Descriptor standardisation: equally long, with the bounds frame normalisation has (so
/// standardised values stay finite).
fn check_descriptor_standardisation(mean: &[f32], std: &[f32]) -> Result<(), Error> {
    if mean.is_empty() {
        return Err(Error::Metadata(
            "descriptor standardisation is empty".into(),
        ));
    }
    check_standardisation(mean, std, mean.len())
        .map_err(|e| Error::Metadata(format!("descriptor {e}")))
}

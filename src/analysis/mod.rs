//! Everything the analysis worker does with the audio it receives: resample to the analysis rate,
//! keep a rolling window, and run one [`AnalysisStep`] per hop.

pub mod levels;
pub mod resample;
pub mod window;
pub mod worker;

use serde::{Deserialize, Serialize};

/// Sample rate every analysis step sees, in Hz. Models will choose their own later.
pub const ANALYSIS_RATE_HZ: u32 = 22_050;

/// One analysis step, run on the worker thread once per hop over the latest window of mono audio
/// at [`ANALYSIS_RATE_HZ`]. This is where feature extraction and inference plug in.
///
/// The window only ever holds finite samples. The step may allocate (it runs on the worker, not
/// the audio thread) but should not need to once warmed up.
pub trait AnalysisStep: Send + 'static {
    /// What one hop publishes to the editor.
    type Output: Clone + Default + Send + 'static;

    fn analyze(&mut self, window: &[f32]) -> Self::Output;
}

/// The result of one hop, as published to the editor.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot<T> {
    /// Number of this hop since activation, starting at 1 (0 means nothing published yet).
    pub hop: u64,
    /// Stream position just past the window's last sample, in samples at [`ANALYSIS_RATE_HZ`].
    pub end_sample: u64,
    pub output: T,
}

/// User-facing analysis settings, persisted with the plugin state. The worker picks up changes
/// without a restart.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AnalysisSettings {
    /// Length of the analysed window, in seconds.
    pub window_seconds: f32,
    /// Time between two analyses, in seconds.
    pub hop_seconds: f32,
}

impl AnalysisSettings {
    pub const WINDOW_RANGE: (f32, f32) = (0.1, 30.0);
    pub const HOP_RANGE: (f32, f32) = (0.02, 10.0);

    /// The same settings with every field clamped into its range (NaN becomes the default), so
    /// garbage restored from a project can never reach the worker.
    pub fn sanitized(self) -> Self {
        let clamp = |value: f32, (lo, hi): (f32, f32), default: f32| {
            if value.is_nan() {
                default
            } else {
                value.clamp(lo, hi)
            }
        };
        let defaults = Self::default();
        Self {
            window_seconds: clamp(
                self.window_seconds,
                Self::WINDOW_RANGE,
                defaults.window_seconds,
            ),
            hop_seconds: clamp(self.hop_seconds, Self::HOP_RANGE, defaults.hop_seconds),
        }
    }

    /// Window length and hop in samples at `rate_hz`, each at least 1.
    pub fn in_samples(&self, rate_hz: u32) -> (usize, usize) {
        let settings = self.sanitized();
        let samples = |seconds: f32| ((seconds * rate_hz as f32).round() as usize).max(1);
        (
            samples(settings.window_seconds),
            samples(settings.hop_seconds),
        )
    }
}

impl Default for AnalysisSettings {
    fn default() -> Self {
        Self {
            window_seconds: 3.0,
            hop_seconds: 0.5,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_settings_are_clamped() {
        let garbage = AnalysisSettings {
            window_seconds: f32::NAN,
            hop_seconds: -5.0,
        };
        let clean = garbage.sanitized();
        assert_eq!(clean.window_seconds, 3.0);
        assert_eq!(clean.hop_seconds, AnalysisSettings::HOP_RANGE.0);
        assert_eq!(
            AnalysisSettings {
                window_seconds: 1e9,
                hop_seconds: f32::INFINITY
            }
            .sanitized(),
            AnalysisSettings {
                window_seconds: 30.0,
                hop_seconds: 10.0
            }
        );
    }

    #[test]
    fn converts_to_samples() {
        assert_eq!(
            AnalysisSettings::default().in_samples(22_050),
            (66_150, 11_025)
        );
    }
}

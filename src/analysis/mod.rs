//! Everything the analysis worker does with the audio it receives: resample to each of the
//! step's rates, and run the [`AnalysisStep`] (the genre model and the mood model beside it,
//! [`genre::GenreAnalyzer`], each through a [`model_step::ModelStep`]) on it.

pub mod genre;
pub mod levels;
pub mod model_step;
pub mod rolling;
pub mod window;
pub mod worker;

use serde::{Deserialize, Serialize};

use crate::inference::{ModelChoice, Provider};

/// What the worker runs on the audio, on its own thread.
///
/// The step may allocate (it runs on the worker, not the audio thread) but should not need to
/// per sample once warmed up.
pub trait AnalysisStep: Send + 'static {
    /// What the step publishes to the editor.
    type Output: Clone + Default + Send + 'static;

    /// Resampled streams the step reads: one per model rate (the genre model's first, then
    /// the models beside it). It may change after [`AnalysisStep::poll`]; the worker then
    /// restarts resampling.
    fn inputs(&self) -> usize {
        1
    }

    /// Rate in Hz of the samples [`AnalysisStep::process`] expects on `input` (below
    /// [`AnalysisStep::inputs`]). It may change after [`AnalysisStep::poll`] (another model);
    /// the worker then restarts resampling.
    fn sample_rate(&self, input: usize) -> u32;

    /// Called on every worker iteration, also while no audio arrives: picks up new settings
    /// (and loads models). Returns a new output when the step's state changed without audio.
    fn poll(&mut self) -> Option<Self::Output>;

    /// Feeds mono samples of `input` at its [`AnalysisStep::sample_rate`], all finite; calls
    /// `publish` for every result they complete. Every input gets the same audio, each chunk
    /// on every input in input order before the next chunk.
    fn process(&mut self, input: usize, samples: &[f32], publish: &mut dyn FnMut(Self::Output));

    /// What the worker publishes after the step panicked (the step is then dropped):
    /// `message` says why the analysis stopped.
    fn failed(message: String) -> Self::Output;
}

/// One published result.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot<T> {
    /// Number of this publication since activation, starting at 1 (0: nothing published yet).
    pub number: u64,
    pub output: T,
}

/// The persisted, non-parameter analysis settings: which model runs where. The worker picks up
/// changes without a restart.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AnalysisSettings {
    pub model: ModelChoice,
    pub provider: Provider,
}

/// What the analysis reads of the plugin's settings while it runs: the display smoothing and the
/// model choice. The plugin's parameters provide them (`GenrescopeParams`), so the analysis
/// does not depend on the plugin's parameter set.
pub trait SettingsSource: Send + Sync {
    /// Time constant of the displayed distribution's exponential smoothing, in seconds
    /// (0: every window shown as it is).
    fn smoothing_s(&self) -> f32;
    /// The model and execution provider to run now; `None` when they cannot be read (the
    /// current model keeps running).
    fn analysis_settings(&self) -> Option<AnalysisSettings>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn older_and_partial_states_load_with_defaults() {
        // Version 0.1 stored window and hop lengths here; they are ignored now.
        let old: AnalysisSettings =
            serde_json::from_str(r#"{"window_seconds":3.0,"hop_seconds":0.5}"#).unwrap();
        assert_eq!(old, AnalysisSettings::default());
        let custom: AnalysisSettings = serde_json::from_str(
            r#"{"model":{"kind":"file","path":"/m/crnn.onnx"},"provider":"cuda"}"#,
        )
        .unwrap();
        assert_eq!(custom.model, ModelChoice::File("/m/crnn.onnx".into()));
        assert_eq!(custom.provider, Provider::Cuda);
    }
}

//! Host-visible parameters and the persisted, non-parameter state.

use std::sync::{Arc, RwLock};

use nice_plug::prelude::*;

use crate::analysis::AnalysisSettings;
use crate::editor;

#[derive(Params)]
pub struct GenrescopeParams {
    /// When off, `process()` only passes audio through and the worker idles.
    #[id = "analyze"]
    pub analyze: BoolParam,

    /// Time constant of the exponential smoothing of the displayed distribution, in seconds
    /// (0: every window shown as it is).
    #[id = "smoothing"]
    pub smoothing: FloatParam,

    /// Model and execution provider; saved with the project.
    #[persist = "analysis-settings"]
    pub settings: Arc<RwLock<AnalysisSettings>>,

    /// Editor window size in logical pixels (width, height); saved with the project.
    #[persist = "editor-size"]
    pub editor_size: Arc<RwLock<(u32, u32)>>,
}

impl Default for GenrescopeParams {
    fn default() -> Self {
        Self {
            analyze: BoolParam::new("Analyze", true),
            smoothing: FloatParam::new(
                "Smoothing",
                4.0,
                FloatRange::Skewed {
                    min: 0.0,
                    max: 30.0,
                    factor: FloatRange::skew_factor(-1.5),
                },
            )
            .with_unit(" s")
            .with_step_size(0.1),
            settings: Arc::new(RwLock::new(AnalysisSettings::default())),
            editor_size: Arc::new(RwLock::new(editor::DEFAULT_SIZE)),
        }
    }
}

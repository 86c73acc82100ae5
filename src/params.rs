//! Host-visible parameters and the persisted, non-parameter state.

use std::sync::{Arc, RwLock};

use nice_plug::plugin::ParamValue;
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

impl GenrescopeParams {
    /// Clamps the float parameter values of a state about to be loaded to their ranges: nice-plug
    /// applies a state's plain values as they are, and a damaged or hand-edited state may hold
    /// any number.
    pub fn clamp_state(state: &mut PluginState) {
        let params = Self::default();
        let map = params.param_map();
        for (id, value) in &mut state.params {
            let Some((_, ptr, _)) = map.iter().find(|(param_id, ..)| param_id == id) else {
                continue;
            };
            if let (ParamPtr::FloatParam(_), ParamValue::F32(plain)) = (ptr, value) {
                // SAFETY: `ptr` points into `params`, which outlives this loop.
                let (min, max) = unsafe { (ptr.preview_plain(0.0), ptr.preview_plain(1.0)) };
                *plain = plain.clamp(min, max);
            }
        }
    }
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

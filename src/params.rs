//! Host-visible parameters and the persisted, non-parameter state.

use std::sync::{Arc, RwLock};

use nice_plug::prelude::*;

use crate::analysis::AnalysisSettings;

#[derive(Params)]
pub struct GenrescopeParams {
    /// When off, `process()` only passes audio through and the worker idles.
    #[id = "analyze"]
    pub analyze: BoolParam,

    /// Window and hop of the analysis; saved with the project.
    #[persist = "analysis-settings"]
    pub settings: Arc<RwLock<AnalysisSettings>>,
}

impl Default for GenrescopeParams {
    fn default() -> Self {
        Self {
            analyze: BoolParam::new("Analyze", true),
            settings: Arc::new(RwLock::new(AnalysisSettings::default())),
        }
    }
}

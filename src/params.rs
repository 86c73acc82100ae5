//! Host-visible parameters and the persisted, non-parameter state.

use std::sync::{Arc, RwLock};

use nice_plug::plugin::ParamValue;
use nice_plug::prelude::*;
use serde::{Deserialize, Serialize};

use crate::analysis::{AnalysisSettings, SettingsSource};

/// Default editor size, in logical pixels.
pub const DEFAULT_EDITOR_SIZE: (u32, u32) = (760, 520);

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

    /// What the editor's history heatmap shows; saved with the project (older projects, which
    /// lack it, open on the genre).
    #[persist = "history"]
    pub history: Arc<RwLock<HistoryShows>>,
}

/// Which model's history the editor's heatmap shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HistoryShows {
    /// One row per genre (or tag) of the genre model.
    #[default]
    Genre,
    /// One row per mood of the mood model.
    Mood,
}

impl SettingsSource for GenrescopeParams {
    fn smoothing_s(&self) -> f32 {
        self.smoothing.value()
    }

    fn analysis_settings(&self) -> Option<AnalysisSettings> {
        self.settings.read().ok().map(|settings| settings.clone())
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
            editor_size: Arc::new(RwLock::new(DEFAULT_EDITOR_SIZE)),
            history: Arc::default(),
        }
    }
}

/// Clamps the float parameter values of a saved state to their parameters' ranges, for
/// [`Plugin::filter_state`]: nice-plug restores saved plain values unchecked, and a damaged or
/// hand-edited project could otherwise set, say, a negative or infinite smoothing time.
pub fn clamp_saved_values(state: &mut PluginState) {
    let params = GenrescopeParams::default();
    for (id, ptr, _) in params.param_map() {
        let (ParamPtr::FloatParam(_), Some(ParamValue::F32(value))) =
            (ptr, state.params.get_mut(&id))
        else {
            continue;
        };
        // SAFETY: `ptr` points into `params`, which outlives this loop.
        let (min, max) = unsafe { (ptr.preview_plain(0.0), ptr.preview_plain(1.0)) };
        if !(min..=max).contains(value) {
            nice_warn!("saved {id} = {value} is outside {min}..={max}; clamped");
            // NaN clamps to NaN; it becomes the lower bound.
            *value = if value.is_nan() {
                min
            } else {
                value.clamp(min, max)
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_values_outside_their_range_are_clamped() {
        // The plugin_state fuzz target's first finding: `{"smoothing": {"f32": -0.5}}`.
        let mut state: PluginState = serde_json::from_str(
            r#"{"params": {"smoothing": {"f32": -0.5}, "analyze": {"bool": false}}, "fields": {}}"#,
        )
        .unwrap();
        clamp_saved_values(&mut state);
        assert!(matches!(state.params["smoothing"], ParamValue::F32(v) if v == 0.0));
        assert!(matches!(state.params["analyze"], ParamValue::Bool(false)));
        for (saved, loaded) in [(f32::INFINITY, 30.0), (f32::NAN, 0.0), (12.5, 12.5)] {
            state
                .params
                .insert("smoothing".into(), ParamValue::F32(saved));
            clamp_saved_values(&mut state);
            assert!(matches!(state.params["smoothing"], ParamValue::F32(v) if v == loaded));
        }
    }

    #[test]
    fn the_history_choice_round_trips_and_older_projects_open_on_the_genre() {
        let old = std::collections::BTreeMap::from([("editor-size".into(), "[900,600]".into())]);
        let params = GenrescopeParams::default();
        params.deserialize_fields(&old);
        assert_eq!(*params.history.read().unwrap(), HistoryShows::Genre);
        *params.history.write().unwrap() = HistoryShows::Mood;
        let saved = params.serialize_fields();
        assert_eq!(saved["history"], r#""mood""#);
        let reloaded = GenrescopeParams::default();
        reloaded.deserialize_fields(&saved);
        assert_eq!(*reloaded.history.read().unwrap(), HistoryShows::Mood);
    }
}

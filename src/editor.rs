//! The editor: live level readout, analysis settings and worker diagnostics.

use std::sync::{Arc, Mutex};

use egui::{Color32, RichText};
use nice_plug_egui::{EguiEditorState, NiceEguiApp};

use crate::analysis::levels::{Levels, SILENCE_DBFS};
use crate::analysis::worker::Published;
use crate::analysis::{AnalysisSettings, ANALYSIS_RATE_HZ};
use crate::params::GenrescopeParams;
use crate::stats::Stats;

/// Default editor size, in logical pixels.
pub const DEFAULT_SIZE: (u32, u32) = (480, 320);

/// Lowest level the meters draw, in dBFS.
const METER_FLOOR_DBFS: f32 = -60.0;

pub fn default_state() -> Arc<EguiEditorState> {
    EguiEditorState::from_size(
        nice_plug::editor::dpi::LogicalSize::new(DEFAULT_SIZE.0 as f32, DEFAULT_SIZE.1 as f32),
        1.0,
    )
}

pub struct EditorApp {
    pub params: Arc<GenrescopeParams>,
    pub published: Published<Levels>,
    pub stats: Arc<Stats>,
    /// Why analysis is off, if it is (e.g. an unsupported sample rate).
    pub analysis_error: Arc<Mutex<Option<String>>>,
    /// Set when the window opens.
    pub gui_context: Option<nice_plug::context::gui::GuiContext>,
}

impl NiceEguiApp for EditorApp {
    fn build(
        &mut self,
        _egui_ctx: egui::Context,
        nice_gui_ctx: nice_plug::context::gui::GuiContext,
        _frame: &mut nice_plug_egui::Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        self.gui_context = Some(nice_gui_ctx);
        Ok(())
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut nice_plug_egui::Frame) {
        let snapshot = match self.published.lock() {
            Ok(mut output) => output.read().clone(),
            Err(_) => Default::default(),
        };
        let stats = self.stats.snapshot();

        ui.heading("genrescope");
        if let Some(err) = self.analysis_error.lock().ok().and_then(|e| e.clone()) {
            ui.colored_label(
                Color32::LIGHT_RED,
                format!("Analysis off: {err}. Audio passes through unchanged."),
            );
        }
        if stats.worker_failed {
            ui.colored_label(
                Color32::LIGHT_RED,
                "Analysis stopped after an internal error; audio is unaffected. Re-activate the plugin to restart it.",
            );
        }
        if snapshot.hop == 0 {
            ui.label("Waiting for the first analysis window…");
        }
        meter(ui, "RMS", snapshot.output.rms_dbfs);
        meter(ui, "Peak", snapshot.output.peak_dbfs);
        ui.separator();

        if let Some(ctx) = &self.gui_context {
            let setter = ctx.param_setter();
            let mut analyze = self.params.analyze.value();
            if ui.checkbox(&mut analyze, "Analyze").changed() {
                setter.begin_set_parameter(&self.params.analyze);
                setter.set_parameter(&self.params.analyze, analyze);
                setter.end_set_parameter(&self.params.analyze);
            }
        }
        settings_controls(ui, &self.params);
        ui.separator();

        ui.label(format!(
            "host {} Hz, analysis {ANALYSIS_RATE_HZ} Hz · hops {} · received {} · dropped {} · non-finite {}",
            stats.host_rate_hz, snapshot.hop, stats.received, stats.dropped, stats.nonfinite
        ));
    }
}

/// A horizontal level bar with its value in dBFS.
fn meter(ui: &mut egui::Ui, label: &str, dbfs: f32) {
    let fraction = ((dbfs - METER_FLOOR_DBFS) / -METER_FLOOR_DBFS).clamp(0.0, 1.0);
    let text = if dbfs <= SILENCE_DBFS {
        format!("{label}: silence")
    } else {
        format!("{label}: {dbfs:.1} dBFS")
    };
    ui.add(
        egui::ProgressBar::new(fraction)
            .text(RichText::new(text).size(18.0).color(Color32::WHITE))
            .fill(Color32::from_rgb(30, 130, 200)),
    );
}

/// Window and hop sliders. The settings lock is only written when a slider moved, so the
/// worker's reads are not held up every frame.
fn settings_controls(ui: &mut egui::Ui, params: &GenrescopeParams) {
    let Ok(current) = params.settings.read().map(|s| *s) else {
        return;
    };
    let mut edited = current;
    let (lo, hi) = AnalysisSettings::WINDOW_RANGE;
    ui.add(egui::Slider::new(&mut edited.window_seconds, lo..=hi).text("window (s)"));
    let (lo, hi) = AnalysisSettings::HOP_RANGE;
    ui.add(egui::Slider::new(&mut edited.hop_seconds, lo..=hi).text("hop (s)"));
    if edited != current {
        if let Ok(mut settings) = params.settings.write() {
            *settings = edited;
        }
    }
}

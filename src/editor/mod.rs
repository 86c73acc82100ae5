//! The editor: the live genre distribution, its history (or the mood's), the track summary with
//! tag export, the model and provider pickers, smoothing, and diagnostics.

mod export;
mod format;
mod latency;
mod names;
mod views;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use egui::{Color32, RichText};
use nice_plug::prelude::ParamSetter;
use nice_plug_egui::widgets::ParamSlider;
use nice_plug_egui::{EguiEditorState, NiceEguiApp};

use crate::analysis::genre::{GenreView, ModelStatus, MoodView};
use crate::analysis::worker::Published;
use crate::inference::catalog::{self, user_models_dir};
use crate::inference::Provider;
use crate::params::{GenrescopeParams, HistoryShows, DEFAULT_EDITOR_SIZE};
use crate::stats::Stats;

/// Smallest size the saved editor size is clamped to, in logical pixels.
const MIN_SIZE: (u32, u32) = (360, 260);

const WARNING: Color32 = Color32::from_rgb(255, 140, 120);
/// A finished action's confirmation (the tag export).
const DONE: Color32 = Color32::from_rgb(130, 220, 130);

/// The editor state for the next window, at the size saved with the project.
pub fn state(params: &GenrescopeParams) -> Arc<EguiEditorState> {
    let (w, h) = saved_size(params);
    EguiEditorState::from_size(nice_plug::editor::dpi::LogicalSize::new(w, h), 1.0)
}

/// The editor size saved with the project, in logical pixels, clamped to a usable size.
fn saved_size(params: &GenrescopeParams) -> (f32, f32) {
    let (w, h) = params
        .editor_size
        .read()
        .map_or(DEFAULT_EDITOR_SIZE, |s| *s);
    (
        w.clamp(MIN_SIZE.0, 8192) as f32,
        h.clamp(MIN_SIZE.1, 8192) as f32,
    )
}

pub struct EditorApp {
    pub params: Arc<GenrescopeParams>,
    pub published: Published<GenreView>,
    pub stats: Arc<Stats>,
    /// Why analysis is off, if it is (e.g. an unsupported sample rate).
    pub analysis_error: Arc<Mutex<Option<String>>>,
    /// Set when the window opens.
    pub gui_context: Option<nice_plug::context::gui::GuiContext>,
    /// Result of the last tag export, shown under the summary: what was written, or why not.
    pub export_message: Option<Result<export::Exported, String>>,
    /// The current model's genre names.
    names: names::Names,
    /// The latest window's audio→display latency.
    latency: latency::Latency,
}

impl EditorApp {
    pub fn new(
        params: Arc<GenrescopeParams>,
        published: Published<GenreView>,
        stats: Arc<Stats>,
        analysis_error: Arc<Mutex<Option<String>>>,
    ) -> Self {
        Self {
            params,
            published,
            stats,
            analysis_error,
            gui_context: None,
            export_message: None,
            names: names::Names::default(),
            latency: latency::Latency::default(),
        }
    }
}

impl NiceEguiApp for EditorApp {
    fn build(
        &mut self,
        egui_ctx: egui::Context,
        nice_gui_ctx: nice_plug::context::gui::GuiContext,
        _frame: &mut nice_plug_egui::Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        self.gui_context = Some(nice_gui_ctx);
        // nice-plug creates the editor state once, when the plugin is created, so a size loaded
        // with a project later only reaches the window here: ask for it when the window opens.
        let (w, h) = saved_size(&self.params);
        egui_ctx.send_viewport_cmd(egui::ViewportCommand::InnerSize(egui::vec2(w, h)));
        Ok(())
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut nice_plug_egui::Frame) {
        self.remember_size(ui.ctx());
        let stats = self.stats.snapshot();
        let published = self.published.clone();
        // Only editors and tests take this lock; the worker publishes lock-free. The view is
        // drawn by reference instead of cloning its history every frame.
        let mut reader = match published.lock() {
            Ok(reader) => reader,
            Err(poisoned) => poisoned.into_inner(),
        };
        let snapshot = reader.read();
        let view = &snapshot.output;
        let names = self.names.of(&view.labels);

        let latency = latency::text(views::input_silent(view), self.latency.of(view));
        let diagnostics = |ui: &egui::Ui| views::diagnostics(ui, view, &stats, &latency);

        egui::Frame::NONE
            .inner_margin(egui::Margin::same(MARGIN))
            .show(ui, |ui| {
                self.top_bar(ui);
                self.banners(ui, view);
                ui.separator();
                if ui.available_width() >= TWO_COLUMNS_MIN_WIDTH {
                    // The body takes what the diagnostics lines at the bottom leave.
                    let diagnostics = diagnostics(ui);
                    let body_height =
                        (ui.available_height() - diagnostics.size().y - SEPARATOR_HEIGHT).max(0.0);
                    self.two_columns(ui, view, &names, body_height);
                    ui.separator();
                    ui.label(diagnostics);
                } else {
                    self.one_column(ui, view, &names, diagnostics);
                }
            });
    }
}

/// Empty space around the editor's content, in logical pixels.
const MARGIN: i8 = 10;
/// Height of a separator line with its spacing, in logical pixels.
const SEPARATOR_HEIGHT: f32 = 14.0;
/// Width of the smoothing label, slider and value box together, in logical pixels: the top bar
/// starts a new row for them rather than drawing them past the window's edge.
const SMOOTHING_WIDTH: f32 = 220.0;
/// Narrower windows stack the views in one scrolling column, in logical pixels.
const TWO_COLUMNS_MIN_WIDTH: f32 = 560.0;
/// Height of the current distribution in the one-column layout above its bars, and of each
/// bar row there, in logical pixels.
const HEADLINE_HEIGHT: f32 = 90.0;
const ROW_HEIGHT: f32 = 24.0;
/// Most bars the one-column layout makes room for (a tagger's top ones).
const MAX_ROWS: usize = 14;
/// Height of the history heatmap in the one-column layout, in logical pixels.
const HISTORY_HEIGHT: f32 = 200.0;

impl EditorApp {
    /// The current distribution on the left; history and track summary on the right, each
    /// column scrolled when the window is too short for it.
    fn two_columns(&mut self, ui: &mut egui::Ui, view: &GenreView, names: &[String], height: f32) {
        ui.horizontal_top(|ui| {
            let width = ui.available_width();
            scrolled_area(ui, "current", egui::vec2(width * 0.42, height), |ui| {
                views::current(ui, view, names);
            });
            // A plain separator would claim the whole remaining height of the window.
            ui.add_sized([6.0, height], egui::Separator::default().vertical());
            let size = egui::vec2(ui.available_width(), height);
            scrolled_area(ui, "history", size, |ui| {
                let shown = ui.horizontal(|ui| {
                    ui.label(RichText::new("History").strong());
                    self.history_switch(ui, &view.mood)
                });
                views::history(ui, view, shown.inner, names, (height * 0.55).max(80.0));
                ui.separator();
                self.summary(ui, view, names);
            });
        });
    }

    /// Small windows: every view one below the other in one scrolled column, the current
    /// distribution with room for all its bars, history and diagnostics in sections that fold.
    fn one_column(
        &mut self,
        ui: &mut egui::Ui,
        view: &GenreView,
        names: &[String],
        diagnostics: impl FnOnce(&egui::Ui) -> std::sync::Arc<egui::Galley>,
    ) {
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                let rows = names.len().clamp(1, MAX_ROWS) as f32;
                let size = egui::vec2(ui.available_width(), HEADLINE_HEIGHT + rows * ROW_HEIGHT);
                fixed_area(ui, size, |ui| views::current(ui, view, names));
                ui.separator();
                self.summary(ui, view, names);
                egui::CollapsingHeader::new(RichText::new("History").strong())
                    .default_open(true)
                    .show(ui, |ui| {
                        let shown = ui.horizontal(|ui| self.history_switch(ui, &view.mood));
                        views::history(ui, view, shown.inner, names, HISTORY_HEIGHT);
                    });
                egui::CollapsingHeader::new(RichText::new("Diagnostics").strong())
                    .default_open(false)
                    .show(ui, |ui| {
                        let diagnostics = diagnostics(ui);
                        ui.label(diagnostics);
                    });
            });
    }

    /// Saves the window's current size so the project reopens it at that size.
    fn remember_size(&self, ctx: &egui::Context) {
        let size = ctx.content_rect().size();
        let size = (size.x.round() as u32, size.y.round() as u32);
        if size.0 >= MIN_SIZE.0 && size.1 >= MIN_SIZE.1 {
            if let Ok(mut saved) = self.params.editor_size.write() {
                if *saved != size {
                    *saved = size;
                }
            }
        }
    }

    /// The history's *Genre* / *Mood* switch, remembered with the project; *Mood* is off, and
    /// says why on hover, without a mood model. Returns what the history shows.
    fn history_switch(&self, ui: &mut egui::Ui, mood: &MoodView) -> HistoryShows {
        let chosen = self
            .params
            .history
            .read()
            .map_or(HistoryShows::Genre, |h| *h);
        let mut shown = views::history_shown(chosen, mood);
        let before = shown;
        ui.selectable_value(&mut shown, HistoryShows::Genre, "Genre")
            .on_hover_text("One row per genre");
        ui.add_enabled_ui(views::has_mood_model(mood), |ui| {
            let reason = match &mood.status {
                ModelStatus::Failed(message) => format!("No mood model: {message}"),
                _ => String::new(),
            };
            ui.selectable_value(&mut shown, HistoryShows::Mood, "Mood")
                .on_hover_text("One row per mood")
                .on_disabled_hover_text(reason);
        });
        if shown != before {
            if let Ok(mut saved) = self.params.history.write() {
                *saved = shown;
            }
        }
        shown
    }

    fn top_bar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal_wrapped(|ui| {
            ui.heading("genrescope");
            ui.separator();
            self.model_picker(ui);
            self.provider_picker(ui);
            if let Some(ctx) = &self.gui_context {
                let setter = ctx.param_setter();
                analyze_toggle(ui, &self.params, &setter);
                if ui.available_size_before_wrap().x < SMOOTHING_WIDTH {
                    ui.end_row();
                }
                ui.label("Smoothing");
                ui.add(ParamSlider::for_param(&self.params.smoothing, &setter).with_width(90.0));
            }
        });
    }

    fn model_picker(&mut self, ui: &mut egui::Ui) {
        let Ok(current) = self.params.settings.read().map(|s| s.model.clone()) else {
            return;
        };
        let mut chosen = None;
        egui::ComboBox::from_id_salt("model")
            .selected_text(current.name())
            .width(170.0)
            .show_ui(ui, |ui| {
                // Listed while the menu is open, so new files appear without a restart.
                let dir = user_models_dir();
                for choice in catalog::list(dir.as_deref()) {
                    let name = choice.name();
                    let item = ui.selectable_label(choice == current, name);
                    // What the model names, by genre name; read only while hovered.
                    let item = item.on_hover_ui(|ui| {
                        if let Some(trade_off) = choice.trade_off() {
                            ui.label(trade_off);
                        }
                        ui.label(match choice.metadata() {
                            Ok(metadata) => names::model_details(&metadata),
                            Err(e) => e.to_string(),
                        });
                    });
                    if item.clicked() {
                        chosen = Some(choice);
                    }
                }
                if let Some(dir) = dir {
                    ui.label(
                        RichText::new(format!("Add models (.onnx + .json) to {}", dir.display()))
                            .small()
                            .weak(),
                    );
                }
            });
        if let Some(choice) = chosen {
            if let Ok(mut settings) = self.params.settings.write() {
                // NOTE: the worker loads the model on its own thread; the audio never waits.
                settings.model = choice;
            }
        }
    }

    fn provider_picker(&mut self, ui: &mut egui::Ui) {
        let Ok(current) = self.params.settings.read().map(|s| s.provider) else {
            return;
        };
        let mut chosen = current;
        egui::ComboBox::from_id_salt("provider")
            .selected_text(current.label())
            .width(90.0)
            .show_ui(ui, |ui| {
                for provider in Provider::for_platform() {
                    ui.selectable_value(&mut chosen, provider, provider.label());
                }
            });
        if chosen != current {
            if let Ok(mut settings) = self.params.settings.write() {
                settings.provider = chosen;
            }
        }
    }

    /// Why analysis is off or degraded: no worker, or the model status (which also carries a
    /// worker that stopped after a panic).
    fn banners(&self, ui: &mut egui::Ui, view: &GenreView) {
        if let Some(err) = self.analysis_error.lock().ok().and_then(|e| e.clone()) {
            ui.colored_label(
                WARNING,
                format!("Analysis off: {err}. Audio passes through unchanged."),
            );
        }
        match &view.status {
            ModelStatus::Failed(message) => {
                ui.colored_label(WARNING, format!("No analysis: {message}"));
            }
            ModelStatus::Ready {
                notice: Some(notice),
                ..
            } => {
                ui.colored_label(WARNING, notice);
            }
            _ => {}
        }
    }

    fn summary(&mut self, ui: &mut egui::Ui, view: &GenreView, names: &[String]) {
        ui.horizontal(|ui| {
            ui.label(RichText::new("Track summary").strong());
            if ui
                .button("Reset")
                .on_hover_text("Start a new summary (also happens when the host starts playing)")
                .clicked()
            {
                self.stats.summary_resets.fetch_add(1, Ordering::Release);
            }
            let tags = export::live_tags(view);
            ui.add_enabled_ui(tags.is_some(), |ui| {
                if ui
                    .button("Export tags")
                    .on_hover_text("Write JSON and CSV files and copy the tags to the clipboard")
                    .clicked()
                {
                    if let Some(tags) = &tags {
                        ui.ctx().copy_text(export::clipboard_text(tags));
                        self.export_message = Some(export::write_files(tags));
                    }
                }
            });
        });
        views::summary(ui, view, names);
        match &self.export_message {
            Some(Ok(exported)) => {
                let folder = exported.json.parent().unwrap_or(&exported.json);
                ui.colored_label(DONE, exported.message())
                    .on_hover_text(format!("In {}", folder.display()));
            }
            Some(Err(failed)) => {
                ui.colored_label(WARNING, failed);
            }
            None => {}
        }
    }
}

/// Lays `add_contents` out top-down in exactly `size` (the views fill the space they get).
fn fixed_area(ui: &mut egui::Ui, size: egui::Vec2, add_contents: impl FnOnce(&mut egui::Ui)) {
    let top_down = egui::Layout::top_down(egui::Align::Min);
    ui.allocate_ui_with_layout(size, top_down, |ui| {
        ui.set_min_size(size);
        add_contents(ui);
    });
}

/// [`fixed_area`] with a vertical scroll bar when `add_contents` is taller than `size`.
fn scrolled_area(
    ui: &mut egui::Ui,
    id: &str,
    size: egui::Vec2,
    add_contents: impl FnOnce(&mut egui::Ui),
) {
    fixed_area(ui, size, |ui| {
        egui::ScrollArea::vertical()
            .id_salt(id)
            .max_height(size.y)
            .auto_shrink([false, false])
            .show(ui, add_contents);
    });
}

fn analyze_toggle(ui: &mut egui::Ui, params: &GenrescopeParams, setter: &ParamSetter) {
    let mut analyze = params.analyze.value();
    if ui.checkbox(&mut analyze, "Analyze").changed() {
        setter.begin_set_parameter(&params.analyze);
        setter.set_parameter(&params.analyze, analyze);
        setter.end_set_parameter(&params.analyze);
    }
}

//! The editor's drawings: current distribution, history heatmap, track summary, diagnostics.

use std::borrow::Cow;

use egui::{Align2, Color32, FontId, Rect, RichText, Sense, Stroke};

use crate::analysis::genre::{GenreView, ModelStatus, MoodView};
use crate::analysis::levels::SILENCE_DBFS;
use crate::analysis::rolling::{Rolling, HISTORY_SECONDS};
use crate::audioset::{Category, Heard};
use crate::inference::decision::ranked;
use crate::inference::OutputKind;
use crate::params::HistoryShows;
use crate::stats::StatsSnapshot;

use super::format;

const BAR: Color32 = Color32::from_rgb(40, 150, 230);
const TOP: Color32 = Color32::from_rgb(255, 210, 60);

/// The top genre in large high-contrast type, then every genre as a sorted bar. `names[i]` is
/// how `view.labels[i]` reads ([`super::names`]).
pub fn current(ui: &mut egui::Ui, view: &GenreView, names: &[String]) {
    let distribution = &view.rolling.smoothed;
    if distribution.is_empty() {
        let text = match &view.status {
            ModelStatus::Loading => "Loading model…".to_owned(),
            ModelStatus::Failed(_) => "No analysis".to_owned(),
            ModelStatus::Ready { window_s, .. } => {
                format!("Listening… first result after {window_s:.1} s of audio")
            }
        };
        ui.label(RichText::new(text).size(20.0));
        return;
    }
    let top = ranked(distribution)[0];
    // The headline shrinks with the column so that long names (R&B / Soul) stay on one line,
    // and with the window so that a small one keeps room for the bars.
    let window_height = ui.ctx().content_rect().height();
    let headline = (ui.available_width() * 0.11)
        .min(window_height * 0.08)
        .clamp(24.0, 44.0);
    ui.label(
        RichText::new(&names[top])
            .size(headline)
            .strong()
            .color(TOP),
    );
    let tags = matches!(
        view.status,
        ModelStatus::Ready {
            output: OutputKind::Sigmoid,
            ..
        }
    );
    let confidence = if tags {
        format!("{:.0}% tag probability", distribution[top] * 100.0)
    } else {
        format!("{:.0}% confident", distribution[top] * 100.0)
    };
    let confidence = match view.status {
        ModelStatus::Ready { hop_s, .. } if view.context_windows > 1 => format!(
            "{confidence} · last {:.0} s",
            view.context_windows as f32 * hop_s
        ),
        _ => confidence,
    };
    let caption = if view.silent {
        format!("{confidence} · input is silent, holding the last result")
    } else {
        confidence
    };
    ui.label(
        RichText::new(caption)
            .size((headline * 0.5).max(14.0))
            .color(Color32::WHITE),
    );
    let styles = style_line(&view.style_labels, &view.styles);
    if !styles.is_empty() {
        ui.label(
            RichText::new(styles)
                .size((headline * 0.4).max(12.0))
                .color(Color32::LIGHT_GRAY),
        );
    }
    let mood = mood_line(&view.mood, &view.mood.latest, &view.mood.heard);
    if !mood.is_empty() {
        ui.label(
            RichText::new(mood)
                .size((headline * 0.4).max(12.0))
                .color(Color32::WHITE),
        );
    }
    ui.add_space(6.0);
    // The rows share what is left of the column (its max rect is the space the editor gave it).
    let height = ui.max_rect().bottom() - ui.cursor().top();
    bars(ui, distribution, names, top, height);
}

/// As many of the most likely labels as fit `height` at a readable size (all 13 genres
/// usually; the top ones of a 50-tag model), each a row of name and bar.
fn bars(ui: &mut egui::Ui, distribution: &[f32], names: &[String], top: usize, height: f32) {
    let order = ranked(distribution);
    let gap = 2.0 + ui.spacing().item_spacing.y;
    let shown = ((height / (MIN_ROW + gap)) as usize).clamp(1, order.len());
    let row_height = (height / shown as f32 - gap).clamp(MIN_ROW, 24.0);
    let font = FontId::proportional(row_height * 0.7);
    let shown_names = order[..shown].iter().map(|&i| names[i].as_str());
    let name_width = name_column(ui, shown_names, &font, ui.available_width() * 0.45);
    for &i in &order[..shown] {
        let (rect, _) =
            ui.allocate_exact_size(egui::vec2(ui.available_width(), row_height), Sense::hover());
        let (name_rect, bar_rect) = rect.split_left_right_at_x(rect.left() + name_width);
        let color = if i == top { TOP } else { Color32::WHITE };
        let painter = ui.painter_at(name_rect);
        painter.text(
            name_rect.left_center(),
            Align2::LEFT_CENTER,
            &names[i],
            font.clone(),
            color,
        );
        let fill_color = if i == top { TOP } else { BAR };
        probability_bar(ui, bar_rect, distribution[i], fill_color, &font);
        ui.add_space(2.0);
    }
}

/// Height of a bar row below which rows are left out rather than squeezed, in logical pixels.
const MIN_ROW: f32 = 14.0;

/// Width of a column holding `names` in `font` with a gap after them, at most `max`: names are
/// drawn in their own column, never over a bar or a heatmap.
fn name_column<'a>(
    ui: &egui::Ui,
    names: impl Iterator<Item = &'a str>,
    font: &FontId,
    max: f32,
) -> f32 {
    let painter = ui.painter();
    let widest = names
        .map(|name| {
            let galley = painter.layout_no_wrap(name.to_owned(), font.clone(), Color32::WHITE);
            galley.size().x
        })
        .fold(0.0f32, f32::max);
    (widest + 8.0).min(max)
}

/// One probability's bar with its percentage on the right, dark over the filled part and light
/// over the rest, so it reads at any fill.
fn probability_bar(
    ui: &egui::Ui,
    rect: Rect,
    probability: f32,
    fill_color: Color32,
    font: &FontId,
) {
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, Color32::from_gray(35));
    let mut fill = rect;
    fill.set_width(rect.width() * probability.clamp(0.0, 1.0));
    painter.rect_filled(fill, 2.0, fill_color);
    let percent = format!("{:.0}%", probability * 100.0);
    let rest = Rect::from_min_max(egui::pos2(fill.right(), rect.top()), rect.max);
    for (clip, color) in [(fill, Color32::from_gray(10)), (rest, Color32::WHITE)] {
        painter.with_clip_rect(clip).text(
            rect.right_center() - egui::vec2(4.0, 0.0),
            Align2::RIGHT_CENTER,
            &percent,
            font.clone(),
            color,
        );
    }
}

/// The three most likely style and mood tags, `dance · House · 00s` (empty without tags).
pub fn style_line(labels: &[String], values: &[f32]) -> String {
    crate::inference::decision::top_tags(labels, values, 3)
        .into_iter()
        .map(|(tag, _)| format::tag(tag))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The likeliest mood of `distribution` (in `mood.labels` order) and what was heard:
/// `Happy / Energetic · House, Disco · Synthesizer · Female singing`; empty before the mood
/// model's first answer (or without one).
pub fn mood_line(mood: &MoodView, distribution: &[f32], heard: &Heard) -> String {
    let Some(&top) = ranked(distribution).first() else {
        return String::new();
    };
    let name = crate::moods::name_of(mood.labels.get(top).map_or("", String::as_str));
    let mut parts = vec![format!("{name} {:.0}%", distribution[top] * 100.0)];
    parts.extend(
        [Category::Style, Category::Instrument, Category::Voice]
            .into_iter()
            .map(|category| heard.names(category))
            .filter(|names| !names.is_empty()),
    );
    parts.join(" · ")
}

/// Whether there is a mood model whose history the editor can show (one that is loading
/// counts; one that failed or is missing does not).
pub fn has_mood_model(mood: &MoodView) -> bool {
    !matches!(mood.status, ModelStatus::Failed(_))
}

/// What the history shows when `chosen` is asked for: the genre without a mood model.
pub fn history_shown(chosen: HistoryShows, mood: &MoodView) -> HistoryShows {
    match chosen {
        HistoryShows::Mood if has_mood_model(mood) => HistoryShows::Mood,
        _ => HistoryShows::Genre,
    }
}

/// The history the heatmap draws for `chosen` ([`history_shown`]) and the names of its rows:
/// the genre's with `genre_names`, or the mood's with the moods' names.
pub fn history_rows<'a>(
    view: &'a GenreView,
    chosen: HistoryShows,
    genre_names: &'a [String],
) -> (&'a Rolling, Cow<'a, [String]>) {
    match history_shown(chosen, &view.mood) {
        HistoryShows::Genre => (&view.rolling, Cow::Borrowed(genre_names)),
        HistoryShows::Mood => {
            let names = view.mood.labels.iter();
            let names = names.map(|label| crate::moods::name_of(label).to_owned());
            (&view.mood.rolling, Cow::Owned(names.collect()))
        }
    }
}

/// Heatmap of the smoothed distribution over the last minutes: one row per label (each genre,
/// or each mood: [`history_rows`]), named in a column of its own on the left, time running left
/// to right, brighter = more likely; silent stretches stay dark.
pub fn history(
    ui: &mut egui::Ui,
    view: &GenreView,
    chosen: HistoryShows,
    genre_names: &[String],
    height: f32,
) {
    let (rect, response) =
        ui.allocate_exact_size(egui::vec2(ui.available_width(), height), Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 0.0, Color32::from_gray(20));
    let (rolling, names) = history_rows(view, chosen, genre_names);
    let history = &rolling.history;
    let (Some(first), Some(last)) = (history.front(), history.back()) else {
        return;
    };
    let row_height = (rect.height() - AXIS_HEIGHT) / names.len().max(1) as f32;
    let font = FontId::proportional((row_height * 0.85).clamp(7.0, 14.0));
    let label_width = name_column(
        ui,
        names.iter().map(String::as_str),
        &font,
        rect.width() * 0.35,
    );
    let plot = Rect::from_min_max(
        rect.min + egui::vec2(label_width, 0.0),
        rect.max - egui::vec2(0.0, AXIS_HEIGHT),
    );
    // Time span shown: what the history holds, at least one minute, at most its full length.
    let span = (last.time_s - first.time_s).clamp(60.0, HISTORY_SECONDS);
    let axis = TimeAxis {
        plot,
        start: last.time_s - span,
        span,
    };
    for (k, entry) in history.iter().enumerate() {
        let x0 = axis.x_of(entry.time_s.max(axis.start));
        let x1 = history
            .get(k + 1)
            .map_or(plot.right(), |next| axis.x_of(next.time_s))
            .max(x0 + 1.0);
        for row in 0..names.len() {
            let value = entry
                .probabilities
                .as_ref()
                .and_then(|p| p.get(row).copied());
            let y0 = plot.top() + row as f32 * row_height;
            let cell = Rect::from_min_max(egui::pos2(x0, y0), egui::pos2(x1, y0 + row_height));
            painter.rect_filled(cell, 0.0, value.map_or(Color32::from_gray(28), heat));
        }
    }
    row_names(
        &painter.with_clip_rect(rect.with_max_x(plot.left())),
        &names,
        &plot,
        &font,
    );
    axis.draw(&painter);
    if let Some(pos) = response.hover_pos().filter(|p| plot.contains(*p)) {
        let row = ((pos.y - plot.top()) / row_height) as usize;
        if let Some(label) = names.get(row) {
            response.on_hover_text(label.as_str());
        }
    }
}

/// Height of the history's time axis under the heatmap, in logical pixels.
const AXIS_HEIGHT: f32 = 14.0;
/// Least room between the centres of two time-axis labels, in logical pixels.
const TICK_SPACING: f32 = 48.0;

/// The heatmap's row names, every `step` rows where rows are thinner than the text (50-tag
/// models), drawn left of `plot` by a painter clipped to that column.
fn row_names(painter: &egui::Painter, names: &[String], plot: &Rect, font: &FontId) {
    let row_height = plot.height() / names.len().max(1) as f32;
    let step = (8.0 / row_height).ceil().max(1.0) as usize;
    for (row, label) in names.iter().enumerate().step_by(step) {
        let y = plot.top() + (row as f32 + 0.5) * row_height;
        painter.text(
            egui::pos2(painter.clip_rect().left() + 2.0, y),
            Align2::LEFT_CENTER,
            label,
            font.clone(),
            Color32::LIGHT_GRAY,
        );
    }
}

/// The history's time axis: `span` seconds ending at `start + span`, across `plot`.
struct TimeAxis {
    plot: Rect,
    start: f64,
    span: f64,
}

impl TimeAxis {
    fn x_of(&self, t: f64) -> f32 {
        self.plot.left() + ((t - self.start) / self.span) as f32 * self.plot.width()
    }

    /// Ticks under the plot labelled as time ago, far enough apart that no two labels touch.
    fn draw(&self, painter: &egui::Painter) {
        let step = tick_step(self.span, self.plot.width());
        let now = self.start + self.span;
        let mut ago = 0.0;
        while ago <= self.span {
            let x = self.x_of(now - ago);
            let tick = [
                egui::pos2(x, self.plot.bottom()),
                egui::pos2(x, self.plot.bottom() + 4.0),
            ];
            painter.line_segment(tick, Stroke::new(1.0, Color32::GRAY));
            // "now" ends at the right edge; the others are centred on their tick.
            let align = if ago == 0.0 {
                Align2::RIGHT_BOTTOM
            } else {
                Align2::CENTER_BOTTOM
            };
            painter.text(
                egui::pos2(x, self.plot.bottom() + AXIS_HEIGHT),
                align,
                tick_label(ago, step),
                FontId::proportional(10.0),
                Color32::GRAY,
            );
            ago += step;
        }
    }
}

/// The shortest of 10 s, 20 s, 30 s, 1, 2, 5 and 10 min whose ticks lie [`TICK_SPACING`] apart
/// on an axis of `span` seconds `width` pixels wide.
fn tick_step(span: f64, width: f32) -> f64 {
    const STEPS: [f64; 7] = [10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0];
    let pixels_per_second = f64::from(width) / span.max(1.0);
    STEPS
        .into_iter()
        .find(|step| step * pixels_per_second >= f64::from(TICK_SPACING))
        .unwrap_or(STEPS[STEPS.len() - 1])
}

/// `now`, `-30s`, `-90s`, `-2m`: a tick `ago` seconds before the latest window, in seconds
/// while the ticks are `step` < 1 min apart.
fn tick_label(ago: f64, step: f64) -> String {
    if ago == 0.0 {
        "now".to_owned()
    } else if step < 60.0 {
        format!("-{ago:.0}s")
    } else {
        format!("-{:.0}m", ago / 60.0)
    }
}

/// Black → blue → yellow as the probability goes 0 → 1.
fn heat(p: f32) -> Color32 {
    let p = p.clamp(0.0, 1.0).sqrt();
    let lerp = |a: u8, b: u8, t: f32| (f32::from(a) + (f32::from(b) - f32::from(a)) * t) as u8;
    if p < 0.5 {
        let t = p * 2.0;
        Color32::from_rgb(lerp(10, 30, t), lerp(10, 90, t), lerp(20, 200, t))
    } else {
        let t = (p - 0.5) * 2.0;
        Color32::from_rgb(lerp(30, 255, t), lerp(90, 220, t), lerp(200, 60, t))
    }
}

/// Top-3 genres of the track summary, its style tags, and how much audio it reads.
pub fn summary(ui: &mut egui::Ui, view: &GenreView, names: &[String]) {
    let windows = view.rolling.summary_windows;
    if windows == 0 {
        ui.label("No audio analysed since the last reset.");
        return;
    }
    let summary = view.rolling.summary();
    for (rank, line) in super::names::summary_lines(names, &summary, 3)
        .into_iter()
        .enumerate()
    {
        ui.label(RichText::new(line).size(if rank == 0 { 20.0 } else { 16.0 }));
    }
    let styles = style_line(&view.style_labels, &view.summary_styles);
    if !styles.is_empty() {
        ui.label(RichText::new(format!("Styles: {styles}")).size(16.0));
    }
    let mood = mood_line(&view.mood, &view.mood.rolling.summary(), &Heard::default());
    if !mood.is_empty() {
        ui.label(RichText::new(format!("Mood: {mood}")).size(16.0));
    }
    if let ModelStatus::Ready { hop_s, .. } = view.status {
        ui.label(
            RichText::new(format!(
                "{} since the last reset ({} of audio)",
                format::count(windows, "window"),
                format::minutes_seconds(windows as f32 * hop_s)
            ))
            .weak(),
        );
    }
}

/// The diagnostics lines, laid out for the current width so the caller can leave room for
/// their height before they are drawn ([`egui::Label`] takes the galley): provider, inference
/// time, worker load, drops, `latency` ([`super::latency::text`]), rates, windows and input
/// level. The window count is every window since the model loaded, silent ones included; the
/// track summary counts the non-silent ones since its reset.
pub fn diagnostics(
    ui: &egui::Ui,
    view: &GenreView,
    stats: &StatsSnapshot,
    latency: &str,
) -> std::sync::Arc<egui::Galley> {
    let (provider, rates, window) = match &view.status {
        ModelStatus::Ready {
            provider,
            rates_hz,
            window_s,
            hop_s,
            ..
        } => (
            provider.label(),
            rates_hz
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(" + "),
            format!("{window_s:.1}-s windows every {hop_s:.2} s"),
        ),
        _ => (
            "no model",
            stats.analysis_rate_hz.to_string(),
            String::new(),
        ),
    };
    let text = format!(
        "{provider} · inference {:.2} ms · worker load {:.2}% · dropped {} · non-finite {} · {latency}\n\
         host {} Hz, model {rates} Hz · {window} · {} since the model loaded · input {}",
        view.inference_ms,
        stats.worker_load_ppm as f32 / 1e4,
        stats.dropped,
        stats.nonfinite,
        stats.host_rate_hz,
        format::count(view.windows, "window"),
        input_level(view),
    );
    ui.painter().layout(
        text,
        FontId::proportional(12.0),
        ui.visuals().text_color(),
        ui.available_width(),
    )
}

/// Whether the input was silent at the latest window: the window itself, or the level since.
pub fn input_silent(view: &GenreView) -> bool {
    view.silent || view.level.rms_dbfs <= SILENCE_DBFS
}

/// `silent` or the input's RMS level, `-18 dBFS`.
fn input_level(view: &GenreView) -> String {
    if view.level.rms_dbfs <= SILENCE_DBFS {
        "silent".to_owned()
    } else {
        format!("{:.0} dBFS", view.level.rms_dbfs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audioset::Sound;

    #[test]
    fn the_mood_line_names_the_mood_and_what_was_heard() {
        let mood = MoodView {
            labels: ["q1", "q2", "q3", "q4"].map(String::from).into(),
            ..MoodView::default()
        };
        let sound = |name: &str| Sound {
            name: name.into(),
            audioset: name.into(),
            probability: 0.5,
        };
        let heard = Heard {
            styles: vec![sound("House"), sound("Disco")],
            instruments: vec![sound("Synthesizer")],
            voices: vec![sound("Female singing")],
        };
        assert_eq!(
            mood_line(&mood, &[0.1, 0.05, 0.15, 0.7], &heard),
            "Calm / Tender 70% · House, Disco · Synthesizer · Female singing"
        );
        assert_eq!(
            mood_line(&mood, &[0.6, 0.2, 0.1, 0.1], &Heard::default()),
            "Happy / Energetic 60%"
        );
        assert_eq!(mood_line(&mood, &[], &heard), "");
    }

    /// A view with a genre history of two genres and a mood model in `status` with a mood
    /// history.
    fn view_with_histories(status: ModelStatus) -> GenreView {
        use crate::analysis::rolling::WindowAnswer;
        let window = |probabilities| WindowAnswer {
            time_s: 3.0,
            hop_s: 3.0,
            probabilities,
            silent: false,
        };
        let mut view = GenreView::default();
        view.rolling.push(window(&[0.7, 0.3]), 0.0);
        view.mood = MoodView {
            status,
            labels: ["q1", "q2", "q3", "q4"].map(String::from).into(),
            ..MoodView::default()
        };
        view.mood.rolling.push(window(&[0.1, 0.2, 0.3, 0.4]), 0.0);
        view
    }

    fn ready() -> ModelStatus {
        ModelStatus::Ready {
            name: "mood".into(),
            rates_hz: vec![32_000],
            provider: crate::inference::Provider::Cpu,
            notice: None,
            output: OutputKind::Softmax,
            window_s: 3.0,
            hop_s: 3.0,
        }
    }

    #[test]
    fn the_history_rows_are_the_genres_or_the_four_moods_by_name() {
        let view = view_with_histories(ready());
        let genres = ["Blues", "Jazz"].map(String::from);
        let (rolling, names) = history_rows(&view, HistoryShows::Genre, &genres);
        assert!(std::ptr::eq(rolling, &view.rolling));
        assert_eq!(*names, genres);
        let (rolling, names) = history_rows(&view, HistoryShows::Mood, &genres);
        assert!(std::ptr::eq(rolling, &view.mood.rolling));
        assert_eq!(
            *names,
            ["Happy / Energetic", "Tense / Angry", "Sad", "Calm / Tender"].map(String::from)
        );
    }

    #[test]
    fn without_a_mood_model_the_switch_is_off_and_the_genre_history_shows() {
        let view = view_with_histories(ModelStatus::Failed("no mood model".into()));
        assert!(!has_mood_model(&view.mood));
        assert_eq!(
            history_shown(HistoryShows::Mood, &view.mood),
            HistoryShows::Genre
        );
        let genres = ["Blues", "Jazz"].map(String::from);
        let (rolling, names) = history_rows(&view, HistoryShows::Mood, &genres);
        assert!(std::ptr::eq(rolling, &view.rolling));
        assert_eq!(*names, genres);
        // A mood model still loading has its switch: its history fills in once it runs.
        for status in [ModelStatus::Loading, ready()] {
            let view = view_with_histories(status);
            assert_eq!(
                history_shown(HistoryShows::Mood, &view.mood),
                HistoryShows::Mood
            );
        }
    }

    #[test]
    fn time_axis_labels_stay_apart() {
        // One minute across 200 px: 10-s ticks would be 33 px apart ("-10snow").
        assert_eq!(tick_step(60.0, 200.0), 20.0);
        assert_eq!(tick_step(60.0, 600.0), 10.0);
        assert_eq!(tick_step(600.0, 300.0), 120.0);
        assert_eq!(tick_step(600.0, 10.0), 600.0);
        for (span, width) in [(60.0, 150.0), (300.0, 250.0), (600.0, 900.0)] {
            let step = tick_step(span, width);
            assert!(step / span * f64::from(width) >= f64::from(TICK_SPACING));
        }
    }

    #[test]
    fn time_axis_labels_read_as_time_ago() {
        assert_eq!(tick_label(0.0, 30.0), "now");
        assert_eq!(tick_label(90.0, 30.0), "-90s");
        assert_eq!(tick_label(120.0, 60.0), "-2m");
    }
}

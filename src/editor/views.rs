//! The editor's drawings: current distribution, history heatmap, track summary, diagnostics.

use egui::{Align2, Color32, FontId, Rect, RichText, Sense, Stroke};

use crate::analysis::genre::{GenreView, ModelStatus};
use crate::analysis::levels::SILENCE_DBFS;
use crate::analysis::rolling::HISTORY_SECONDS;
use crate::inference::decision::ranked;
use crate::inference::OutputKind;
use crate::stats::StatsSnapshot;

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
    let order = ranked(distribution);
    let top = order[0];
    // The headline shrinks with the column so that long names (R&B / Soul) stay on one line.
    let headline = (ui.available_width() * 0.11).clamp(24.0, 44.0);
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
            .size(headline * 0.5)
            .color(Color32::WHITE),
    );
    let styles = style_line(&view.style_labels, &view.styles);
    if !styles.is_empty() {
        ui.label(
            RichText::new(styles)
                .size(headline * 0.4)
                .color(Color32::LIGHT_GRAY),
        );
    }
    ui.add_space(6.0);

    // Rows share what is left of the column (its max rect is the space the editor gave it).
    let left = ui.max_rect().bottom() - ui.cursor().top();
    // As many of the most likely labels as fit at a readable height (all 14 genres usually;
    // the top ones of a 50-tag model).
    let gap = 2.0 + ui.spacing().item_spacing.y;
    let shown = ((left / (12.0 + gap)) as usize).clamp(1, order.len());
    let row_height = (left / shown as f32 - gap).clamp(12.0, 24.0);
    for &i in &order[..shown] {
        let (rect, _) =
            ui.allocate_exact_size(egui::vec2(ui.available_width(), row_height), Sense::hover());
        let fill_color = if i == top { TOP } else { BAR };
        probability_bar(ui, rect, &names[i], distribution[i], fill_color);
        ui.add_space(2.0);
    }
}

/// One genre's bar: `name` on the left and the percentage on the right, dark over the filled
/// part and light over the rest, so both read at any fill.
fn probability_bar(ui: &egui::Ui, rect: Rect, name: &str, probability: f32, fill_color: Color32) {
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, Color32::from_gray(35));
    let mut fill = rect;
    fill.set_width(rect.width() * probability.clamp(0.0, 1.0));
    painter.rect_filled(fill, 2.0, fill_color);
    let font = FontId::proportional((rect.height() * 0.7).max(9.0));
    let percent = format!("{:.0}%", probability * 100.0);
    let rest = Rect::from_min_max(egui::pos2(fill.right(), rect.top()), rect.max);
    for (clip, color) in [(fill, Color32::from_gray(10)), (rest, Color32::WHITE)] {
        let painter = painter.with_clip_rect(clip);
        painter.text(
            rect.left_center() + egui::vec2(4.0, 0.0),
            Align2::LEFT_CENTER,
            name,
            font.clone(),
            color,
        );
        painter.text(
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
        .map(|(tag, _)| tag)
        .collect::<Vec<_>>()
        .join(" · ")
}

/// Heatmap of the smoothed distribution over the last minutes: one row per genre, time running
/// left to right, brighter = more likely; silent stretches stay dark. Rows are named by `names`.
pub fn history(ui: &mut egui::Ui, view: &GenreView, names: &[String], height: f32) {
    ui.label(RichText::new("History").strong());
    let (rect, response) =
        ui.allocate_exact_size(egui::vec2(ui.available_width(), height), Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 0.0, Color32::from_gray(20));
    let history = &view.rolling.history;
    let (Some(first), Some(last)) = (history.front(), history.back()) else {
        return;
    };
    let labels = names.len().max(1);
    let label_width = 90.0f32.min(rect.width() * 0.3);
    let axis_height = 14.0;
    let plot = Rect::from_min_max(
        rect.min + egui::vec2(label_width, 0.0),
        rect.max - egui::vec2(0.0, axis_height),
    );
    // Time span shown: what the history holds, at least one minute, at most its full length.
    let span = (last.time_s - first.time_s).clamp(60.0, HISTORY_SECONDS);
    let start = last.time_s - span;
    let x_of = |t: f64| plot.left() + ((t - start) / span) as f32 * plot.width();
    let row_height = plot.height() / labels as f32;
    for (k, entry) in history.iter().enumerate() {
        let x0 = x_of(entry.time_s.max(start));
        let x1 = history
            .get(k + 1)
            .map_or(plot.right(), |next| x_of(next.time_s))
            .max(x0 + 1.0);
        for row in 0..labels {
            let value = entry
                .probabilities
                .as_ref()
                .and_then(|p| p.get(row).copied());
            let color = match value {
                Some(p) => heat(p),
                None => Color32::from_gray(28),
            };
            let y0 = plot.top() + row as f32 * row_height;
            painter.rect_filled(
                Rect::from_min_max(egui::pos2(x0, y0), egui::pos2(x1, y0 + row_height)),
                0.0,
                color,
            );
        }
    }
    let font = FontId::proportional(row_height.clamp(7.0, 12.0));
    // Labels every `step` rows where rows are thinner than the text (50-tag models).
    let step = (8.0 / row_height).ceil().max(1.0) as usize;
    for (row, label) in names.iter().enumerate().step_by(step) {
        painter.text(
            egui::pos2(
                rect.left() + 2.0,
                plot.top() + (row as f32 + 0.5) * row_height,
            ),
            Align2::LEFT_CENTER,
            label,
            font.clone(),
            Color32::LIGHT_GRAY,
        );
    }
    // Time axis: ticks every minute (every 10 s below two minutes), labelled as time ago.
    let step = if span <= 120.0 { 10.0 } else { 60.0 };
    let mut ago = 0.0;
    while ago <= span {
        let x = x_of(last.time_s - ago);
        painter.line_segment(
            [
                egui::pos2(x, plot.bottom()),
                egui::pos2(x, plot.bottom() + 4.0),
            ],
            Stroke::new(1.0, Color32::GRAY),
        );
        let text = if ago == 0.0 {
            "now".to_owned()
        } else if step < 60.0 {
            format!("-{ago:.0}s")
        } else {
            format!("-{:.0}m", ago / 60.0)
        };
        let align = if ago == 0.0 {
            Align2::RIGHT_BOTTOM
        } else {
            Align2::CENTER_BOTTOM
        };
        painter.text(
            egui::pos2(x, rect.bottom()),
            align,
            text,
            FontId::proportional(10.0),
            Color32::GRAY,
        );
        ago += step;
    }
    if let Some(pos) = response.hover_pos().filter(|p| plot.contains(*p)) {
        let row = ((pos.y - plot.top()) / row_height) as usize;
        if let Some(label) = names.get(row) {
            response.on_hover_text(label.as_str());
        }
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

/// Top-3 genres of the track summary.
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
    if let ModelStatus::Ready { hop_s, .. } = view.status {
        let seconds = windows as f32 * hop_s;
        ui.label(
            RichText::new(format!(
                "{windows} windows, {:.0}:{:02.0} of audio",
                (seconds / 60.0).floor(),
                seconds % 60.0
            ))
            .weak(),
        );
    }
}

/// One line: provider, inference time, worker load, drops, latency, rates and input level.
/// The diagnostics lines laid out for the current width, so the body can leave room for their
/// height before they are drawn ([`egui::Label`] takes the galley).
pub fn diagnostics(
    ui: &egui::Ui,
    view: &GenreView,
    stats: &StatsSnapshot,
) -> std::sync::Arc<egui::Galley> {
    let (provider, window) = match &view.status {
        ModelStatus::Ready {
            provider,
            window_s,
            hop_s,
            ..
        } => (
            provider.label(),
            format!("{window_s:.1}-s windows every {hop_s:.2} s"),
        ),
        _ => ("no model", String::new()),
    };
    // Audio→display latency: audio still queued behind the window when it was classified,
    // plus the time since it was published (the editor repaints on publication).
    let latency_ms = view.backlog_ms
        + view
            .published_at
            .map_or(0.0, |t| t.elapsed().as_secs_f32() * 1e3);
    let level = if view.level.rms_dbfs <= SILENCE_DBFS {
        "silent".to_owned()
    } else {
        format!("{:.0} dBFS", view.level.rms_dbfs)
    };
    let text = format!(
        "{provider} · inference {:.2} ms · worker load {:.2}% · dropped {} · non-finite {} · latency {:.0} ms\n\
         host {} Hz, model {} Hz · {window} · {} windows · input {level}",
        view.inference_ms,
        stats.worker_load_ppm as f32 / 1e4,
        stats.dropped,
        stats.nonfinite,
        latency_ms,
        stats.host_rate_hz,
        stats.analysis_rate_hz,
        view.windows,
    );
    ui.painter().layout(
        text,
        FontId::proportional(12.0),
        ui.visuals().text_color(),
        ui.available_width(),
    )
}

//! PNG plots with `plotters`, text in egui's bundled Ubuntu font (no system fonts needed).

use std::path::Path;
use std::sync::Once;

use genrescope::inference::ModelMetadata;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontStyle;

use crate::metrics::Confusion;
use crate::train::fit::EpochLog;

const FONT: &str = "sans-serif";

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = plotters::style::register_font(
            FONT,
            FontStyle::Normal,
            epaint_default_fonts::UBUNTU_LIGHT,
        );
    });
}

fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow::anyhow!("plot: {e:?}")
}

/// Heatmap of the row-normalised confusion matrix with the counts written in the cells.
pub fn confusion(confusion: &Confusion, title: &str, path: &Path) -> anyhow::Result<()> {
    register_font();
    let n = confusion.labels.len();
    let side = 160 + 44 * n as u32;
    let root = BitMapBackend::new(path, (side + 40, side)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("{title}: confusion (rows: truth)"), (FONT, 18))
        .margin(10)
        .x_label_area_size(120)
        .y_label_area_size(130)
        .build_cartesian_2d((0..n).into_segmented(), (0..n).into_segmented())
        .map_err(err)?;
    // Row i is drawn at y = n - 1 - i so the first label is the top row.
    let labels = confusion.labels.clone();
    let x_label = move |v: &SegmentValue<usize>| match v {
        SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
        _ => String::new(),
    };
    let labels = confusion.labels.clone();
    let y_label = move |v: &SegmentValue<usize>| match v {
        SegmentValue::CenterOf(i) if *i < n => labels[n - 1 - i].clone(),
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(n)
        .y_labels(n)
        .x_label_formatter(&x_label)
        .y_label_formatter(&y_label)
        .x_label_style(TextStyle::from((FONT, 12)).transform(FontTransform::Rotate90))
        .y_label_style((FONT, 12))
        .x_desc("predicted")
        .draw()
        .map_err(err)?;
    for (t, row) in confusion.matrix.iter().enumerate() {
        let total: usize = row.iter().sum();
        for (p, &count) in row.iter().enumerate() {
            let share = count as f64 / total.max(1) as f64;
            let y = n - 1 - t;
            let color = RGBColor(
                (255.0 * (1.0 - 0.8 * share)) as u8,
                (255.0 * (1.0 - 0.6 * share)) as u8,
                255,
            );
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [
                        (SegmentValue::Exact(p), SegmentValue::Exact(y)),
                        (SegmentValue::Exact(p + 1), SegmentValue::Exact(y + 1)),
                    ],
                    color.filled(),
                )))
                .map_err(err)?;
            if count > 0 {
                chart
                    .draw_series(std::iter::once(Text::new(
                        count.to_string(),
                        (SegmentValue::CenterOf(p), SegmentValue::CenterOf(y)),
                        (FONT, 14)
                            .into_font()
                            .color(&BLACK)
                            .pos(Pos::new(HPos::Center, VPos::Center)),
                    )))
                    .map_err(err)?;
            }
        }
    }
    root.present().map_err(err)?;
    Ok(())
}

/// Loss and accuracy per epoch from the metadata's training history; `false` when there is
/// none (e.g. a model not trained by `cargo xtask train`).
pub fn training_curves(metadata: &ModelMetadata, path: &Path) -> anyhow::Result<bool> {
    let Some(history) = metadata
        .training
        .get("history")
        .and_then(|h| serde_json::from_value::<Vec<EpochLog>>(h.clone()).ok())
        .filter(|h| !h.is_empty())
    else {
        return Ok(false);
    };
    register_font();
    let root = BitMapBackend::new(path, (900, 400)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let (left, right) = root.split_horizontally(450);
    let epochs = history.len() as f64;
    let series = |area: &DrawingArea<BitMapBackend, plotters::coord::Shift>,
                  title: &str,
                  lines: &[(&str, Vec<f64>, RGBColor)]|
     -> anyhow::Result<()> {
        let max = lines
            .iter()
            .flat_map(|(_, v, _)| v.iter().copied())
            .fold(0.0f64, f64::max)
            .max(1e-3)
            * 1.05;
        let mut chart = ChartBuilder::on(area)
            .caption(title, (FONT, 16))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(40)
            .build_cartesian_2d(1.0..epochs.max(2.0), 0.0..max)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .label_style((FONT, 12))
            .draw()
            .map_err(err)?;
        for (name, values, color) in lines {
            let color = *color;
            chart
                .draw_series(LineSeries::new(
                    values.iter().enumerate().map(|(i, &v)| (i as f64 + 1.0, v)),
                    color.stroke_width(2),
                ))
                .map_err(err)?
                .label(*name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .label_font((FONT, 12))
            .border_style(BLACK)
            .background_style(WHITE.mix(0.8))
            .draw()
            .map_err(err)?;
        Ok(())
    };
    let get = |f: fn(&EpochLog) -> f64| history.iter().map(f).collect::<Vec<_>>();
    series(
        &left,
        &format!("{}: loss", metadata.name),
        &[
            ("train", get(|e| e.train_loss), BLUE),
            ("validation", get(|e| e.valid_loss), RED),
        ],
    )?;
    series(
        &right,
        "accuracy / macro-F1",
        &[
            ("train (windows)", get(|e| e.train_accuracy), BLUE),
            ("valid (windows)", get(|e| e.valid_accuracy), RED),
            ("valid clip acc", get(|e| e.valid_clip_accuracy), GREEN),
            (
                "valid clip macro-F1",
                get(|e| e.valid_clip_macro_f1),
                MAGENTA,
            ),
        ],
    )?;
    root.present().map_err(err)?;
    Ok(true)
}

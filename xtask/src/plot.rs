//! What every PNG plot of the xtask shares (`plotters`): text in egui's bundled Ubuntu font (no
//! system fonts needed), error conversion, and a labelled square heatmap with values in the
//! cells (`eval`'s confusion matrix, `embed`'s genre similarity).

use std::path::Path;
use std::sync::Once;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontStyle;

/// Family name the bundled font is registered under.
pub const FONT: &str = "sans-serif";

/// Registers the bundled font once per process; call before drawing text.
pub fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = plotters::style::register_font(
            FONT,
            FontStyle::Normal,
            epaint_default_fonts::UBUNTU_LIGHT,
        );
    });
}

pub fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow::anyhow!("plot: {e:?}")
}

/// One heatmap cell: its fill and the text written in it (none: left blank).
pub struct Cell {
    pub color: RGBColor,
    pub text: Option<String>,
}

/// An `n × n` heatmap, row `i` and column `i` both named `labels[i]`, first row on top;
/// `cell(row, column)` gives each cell. The image grows with `n` (44 px per cell).
pub fn heatmap(
    title: &str,
    labels: &[String],
    x_desc: &str,
    cell: impl Fn(usize, usize) -> Cell,
    path: &Path,
) -> anyhow::Result<()> {
    register_font();
    let n = labels.len();
    let side = 160 + 44 * n as u32;
    let root = BitMapBackend::new(path, (side + 40, side)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FONT, 18))
        .margin(10)
        .x_label_area_size(120)
        .y_label_area_size(130)
        .build_cartesian_2d((0..n).into_segmented(), (0..n).into_segmented())
        .map_err(err)?;
    // Row i is drawn at y = n - 1 - i so the first label is the top row.
    let x_label = |v: &SegmentValue<usize>| match v {
        SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
        _ => String::new(),
    };
    let y_label = |v: &SegmentValue<usize>| match v {
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
        .x_desc(x_desc)
        .draw()
        .map_err(err)?;
    for row in 0..n {
        for column in 0..n {
            let Cell { color, text } = cell(row, column);
            let y = n - 1 - row;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [
                        (SegmentValue::Exact(column), SegmentValue::Exact(y)),
                        (SegmentValue::Exact(column + 1), SegmentValue::Exact(y + 1)),
                    ],
                    color.filled(),
                )))
                .map_err(err)?;
            if let Some(text) = text {
                chart
                    .draw_series(std::iter::once(Text::new(
                        text,
                        (SegmentValue::CenterOf(column), SegmentValue::CenterOf(y)),
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

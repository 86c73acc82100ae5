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

/// Pixels per heatmap cell.
const CELL: i32 = 44;

/// An `n × n` heatmap, row `i` and column `i` both named `labels[i]`, first row on top;
/// `cell(row, column)` gives each cell. Drawn in pixels (plotters' segmented axes clip rotated
/// labels): row labels on the left, column labels rotated below, `x_desc` (if any) under them.
pub fn heatmap(
    title: &str,
    labels: &[String],
    x_desc: &str,
    cell: impl Fn(usize, usize) -> Cell,
    path: &Path,
) -> anyhow::Result<()> {
    register_font();
    let n = labels.len() as i32;
    let (left, top, bottom) = (150, 50, 150);
    let (width, height) = (left + n * CELL + 30, top + n * CELL + bottom);
    let root = BitMapBackend::new(path, (width.max(400) as u32, height as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let centred = |size| {
        (FONT, size)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Center))
    };
    root.draw(&Text::new(title, (width / 2, top / 2), centred(18)))
        .map_err(err)?;
    for row in 0..n {
        for column in 0..n {
            let Cell { color, text } = cell(row as usize, column as usize);
            let (x, y) = (left + column * CELL, top + row * CELL);
            root.draw(&Rectangle::new(
                [(x, y), (x + CELL, y + CELL)],
                color.filled(),
            ))
            .map_err(err)?;
            if let Some(text) = text {
                root.draw(&Text::new(text, (x + CELL / 2, y + CELL / 2), centred(14)))
                    .map_err(err)?;
            }
        }
    }
    root.draw(&Rectangle::new(
        [(left, top), (left + n * CELL, top + n * CELL)],
        BLACK.stroke_width(1),
    ))
    .map_err(err)?;
    for (i, label) in labels.iter().enumerate() {
        let middle = i as i32 * CELL + CELL / 2;
        let row_label = (FONT, 13)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Right, VPos::Center));
        root.draw(&Text::new(
            label.as_str(),
            (left - 8, top + middle),
            row_label,
        ))
        .map_err(err)?;
        // Read top to bottom, starting just under the grid.
        let column_label = TextStyle::from((FONT, 13))
            .transform(FontTransform::Rotate90)
            .color(&BLACK);
        root.draw(&Text::new(
            label.as_str(),
            (left + middle + 7, top + n * CELL + 8),
            column_label,
        ))
        .map_err(err)?;
    }
    if !x_desc.is_empty() {
        root.draw(&Text::new(
            x_desc,
            (left + n * CELL / 2, height - 14),
            centred(14),
        ))
        .map_err(err)?;
    }
    root.present().map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heatmap_png_grows_with_the_labels() {
        let labels: Vec<String> = ["blues", "classical", "pop-rock(allmusic)"]
            .map(String::from)
            .to_vec();
        let path =
            std::env::temp_dir().join(format!("genrescope-heatmap-{}.png", std::process::id()));
        heatmap(
            "test: heatmap",
            &labels,
            "predicted",
            |r, c| Cell {
                color: RGBColor(255, 255 - 60 * r as u8, 255 - 60 * c as u8),
                text: Some(format!("{:.2}", r as f64 - c as f64 * 0.5)),
            },
            &path,
        )
        .unwrap();
        let png = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        // PNG IHDR: width and height, big-endian, at bytes 16..24.
        let size = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
        assert_eq!((size(16), size(20)), (400, 50 + 3 * 44 + 150));
    }
}

//! The evaluation's PNG plots: confusion matrix and training curves.

use std::path::Path;

use genrescope::genres::Vocabulary;
use genrescope::inference::ModelMetadata;
use plotters::prelude::*;

use crate::metrics::Confusion;
use crate::plot::{self, err, register_font, Cell, FONT};
use crate::train::fit::EpochLog;

/// What the confusion plot's rows and columns read: genre names ([`Vocabulary::names`]),
/// never dataset labels such as `pop-rock(allmusic)` or ids.
fn axis_names(confusion: &Confusion) -> Vec<String> {
    Vocabulary::builtin().names(&confusion.labels)
}

/// Heatmap of the row-normalised confusion matrix with the counts written in the cells; rows
/// and columns are named by genre name.
pub fn confusion(confusion: &Confusion, title: &str, path: &Path) -> anyhow::Result<()> {
    plot::heatmap(
        &format!("{title}: confusion (rows: truth)"),
        &axis_names(confusion),
        "predicted",
        |t, p| {
            let row = &confusion.matrix[t];
            let count = row[p];
            let share = count as f64 / row.iter().sum::<usize>().max(1) as f64;
            Cell {
                color: RGBColor(
                    (255.0 * (1.0 - 0.8 * share)) as u8,
                    (255.0 * (1.0 - 0.6 * share)) as u8,
                    255,
                ),
                text: (count > 0).then(|| count.to_string()),
            }
        },
        path,
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_confusion_plot_names_its_axes_by_genre_name() {
        let labels = ["hiphop", "international", "pop-rock(allmusic)", "rnb"].map(String::from);
        let confusion = Confusion::new(&labels, &[0, 1, 2, 3], &[0, 1, 3, 3]);
        assert_eq!(
            axis_names(&confusion),
            ["Hip-Hop", "World", "Pop or Rock", "R&B / Soul"]
        );
        let path = std::env::temp_dir().join(format!(
            "genrescope-confusion-names-{}.png",
            std::process::id()
        ));
        super::confusion(&confusion, "m", &path).unwrap();
        let png = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(&png[1..4], b"PNG");
    }
}

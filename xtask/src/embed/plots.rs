//! The embedding PNGs: 2-D maps with one dot per clip coloured by genre, and the genre
//! similarity heatmap.

use std::path::Path;

use ndarray::ArrayView2;
use plotters::prelude::*;

use genrescope::genres::Vocabulary;

use crate::plot::{self, err, register_font, Cell, FONT};

/// Distinct genre colours (Tableau 10 without its grey, then 9 more); they repeat past 18
/// genres. Grey is kept for "other".
const PALETTE: [RGBColor; 18] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
    RGBColor(0, 0, 128),
    RGBColor(255, 200, 0),
    RGBColor(0, 128, 128),
    RGBColor(128, 0, 0),
    RGBColor(0, 0, 0),
    RGBColor(255, 0, 255),
    RGBColor(120, 200, 120),
    RGBColor(250, 160, 160),
    RGBColor(90, 60, 0),
];
const OTHER: RGBColor = RGBColor(190, 190, 190);

/// A 2-D map: `points[i]` (first two columns) drawn in the colour of genre `group[i]`
/// (`None`: "other", grey, underneath). `legend` names each genre (a dataset label, shown by
/// its genre name) with its clip count, and `other` counts the grey dots.
pub fn map(
    title: &str,
    (x_desc, y_desc): (&str, &str),
    points: ArrayView2<f32>,
    group: &[Option<usize>],
    legend: &[(String, usize)],
    other: usize,
    path: &Path,
) -> anyhow::Result<()> {
    register_font();
    let root = BitMapBackend::new(path, (1150, 820)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let (area, key) = root.split_horizontally(900);
    let range = |c: usize| {
        let (lo, hi) = points
            .column(c)
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        let pad = ((hi - lo) * 0.04).max(1e-3);
        (lo - pad) as f64..(hi + pad) as f64
    };
    let mut chart = ChartBuilder::on(&area)
        .caption(title, (FONT, 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(range(0), range(1))
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .label_style((FONT, 13))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(err)?;
    let color = |g: Option<usize>| g.map_or(OTHER, |g| PALETTE[g % PALETTE.len()]);
    // "other" first, so genre dots are drawn over it.
    for grey in [true, false] {
        let dots = points
            .rows()
            .into_iter()
            .zip(group)
            .filter(|(_, g)| g.is_none() == grey)
            .map(|(p, &g)| {
                Circle::new(
                    (p[0] as f64, p[1] as f64),
                    if grey { 3 } else { 4 },
                    color(g).mix(0.85).filled(),
                )
            });
        chart.draw_series(dots).map_err(err)?;
    }
    let labels: Vec<String> = legend.iter().map(|(label, _)| label.clone()).collect();
    let names = Vocabulary::builtin().names(&labels);
    let entries = legend
        .iter()
        .zip(&names)
        .enumerate()
        .map(|(g, ((_, n), name))| (format!("{name} ({n})"), color(Some(g))))
        .chain((other > 0).then(|| (format!("other ({other})"), OTHER)));
    for (row, (text, c)) in entries.enumerate() {
        let y = 60 + 24 * row as i32;
        key.draw(&Circle::new((14, y), 6, c.filled()))
            .map_err(err)?;
        key.draw(&Text::new(text, (28, y - 8), (FONT, 15)))
            .map_err(err)?;
    }
    root.present().map_err(err)?;
    Ok(())
}

/// Heatmap of the genre similarity matrix, values in the cells, blue below 0 and red above,
/// full colour at the largest |value|; `labels` (dataset labels) are shown by genre name.
pub fn similarity(
    title: &str,
    labels: &[String],
    matrix: &[Vec<f64>],
    path: &Path,
) -> anyhow::Result<()> {
    let scale = matrix
        .iter()
        .flatten()
        .filter(|v| v.is_finite())
        .fold(0.0f64, |m, v| m.max(v.abs()))
        .max(1e-9);
    plot::heatmap(
        title,
        &Vocabulary::builtin().names(labels),
        "",
        |a, b| {
            let v = matrix[a][b];
            let fade = |share: f64| (255.0 * (1.0 - 0.75 * share.clamp(0.0, 1.0))) as u8;
            Cell {
                color: match v {
                    v if v.is_nan() => WHITE,
                    v if v >= 0.0 => RGBColor(255, fade(v / scale), fade(v / scale)),
                    v => RGBColor(fade(-v / scale), fade(-v / scale), 255),
                },
                text: v.is_finite().then(|| format!("{v:.2}")),
            }
        },
        path,
    )
}

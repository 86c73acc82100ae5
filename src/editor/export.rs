//! "Export tags": the track summary as JSON and CSV files in the user's data folder.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::analysis::genre::{GenreView, ModelStatus};
use crate::tags::Tags;

/// Where exports go: `<platform data dir>/genrescope/exports` (the temp folder if the platform
/// has no data dir).
pub fn export_dir() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("genrescope")
        .join("exports")
}

/// The track summary as tags, once at least one window is in it.
pub fn live_tags(view: &GenreView) -> Option<Tags> {
    let ModelStatus::Ready { name, hop_s, .. } = &view.status else {
        return None;
    };
    let windows = view.rolling.summary_windows;
    (windows > 0).then(|| {
        Tags::new(
            "live",
            name,
            windows as f64 * f64::from(*hop_s),
            windows,
            &view.labels,
            &view.rolling.summary(),
        )
    })
}

/// Writes `genrescope-tags-<unix time>.json` and `.csv`; returns a message for the user.
pub fn write_files(tags: &Tags) -> String {
    let dir = export_dir();
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let base = dir.join(format!("genrescope-tags-{stamp}"));
    let json = base.with_extension("json");
    let csv = base.with_extension("csv");
    let written = std::fs::create_dir_all(&dir)
        .and_then(|()| {
            std::fs::write(
                &json,
                serde_json::to_string_pretty(tags).expect("tags serialise"),
            )
        })
        .and_then(|()| std::fs::write(&csv, format!("{}\n{}", Tags::CSV_HEADER, tags.csv_rows())));
    match written {
        Ok(()) => format!(
            "Copied \"{}\"; saved {} and .csv",
            tags.summary_line(3),
            json.display()
        ),
        Err(e) => format!(
            "Copied to the clipboard; could not write to {}: {e}",
            dir.display()
        ),
    }
}

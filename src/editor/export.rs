//! "Export tags": the track summary as text on the clipboard (`Hip-Hop 71%, ...`) and as JSON
//! and CSV files in the user's data folder, with genre names and ids.

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

/// What "Export tags" copies to the clipboard: the top 3 genres by name.
pub fn clipboard_text(tags: &Tags) -> String {
    tags.summary_line(3)
}

/// The JSON and CSV files' contents.
pub fn file_contents(tags: &Tags) -> (String, String) {
    (
        serde_json::to_string_pretty(tags).expect("tags serialise"),
        format!("{}\n{}", Tags::CSV_HEADER, tags.csv_rows()),
    )
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
    let (json_text, csv_text) = file_contents(tags);
    let written = std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(&json, json_text))
        .and_then(|()| std::fs::write(&csv, csv_text));
    match written {
        Ok(()) => format!(
            "Copied \"{}\"; saved {} and .csv",
            clipboard_text(tags),
            json.display()
        ),
        Err(e) => format!(
            "Copied to the clipboard; could not write to {}: {e}",
            dir.display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live() -> Tags {
        let labels = ["blues", "hiphop", "international", "rnb"].map(String::from);
        Tags::new(
            "live",
            "musicnn-transfer",
            60.0,
            20,
            &labels,
            &[0.04, 0.71, 0.1, 0.15],
        )
    }

    #[test]
    fn the_clipboard_gets_genre_names() {
        assert_eq!(
            clipboard_text(&live()),
            "Hip-Hop 71%, R&B / Soul 15%, World 10%"
        );
    }

    #[test]
    fn the_files_carry_names_and_ids() {
        let (json, csv) = file_contents(&live());
        let json: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(json["source"], "live");
        let genres = json["genres"].as_array().unwrap();
        let read: Vec<(&str, &str)> = genres
            .iter()
            .map(|g| (g["genre"].as_str().unwrap(), g["id"].as_str().unwrap()))
            .collect();
        assert_eq!(
            read,
            [
                ("Hip-Hop", "hip-hop"),
                ("R&B / Soul", "rnb"),
                ("World", "world"),
                ("Blues", "blues")
            ]
        );
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "source,model,rank,genre,probability,id");
        assert_eq!(lines[1], "live,musicnn-transfer,1,Hip-Hop,0.710000,hip-hop");
        assert_eq!(lines[3], "live,musicnn-transfer,3,World,0.100000,world");
        assert_eq!(lines.len(), 5);
    }
}

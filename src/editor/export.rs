//! "Export tags": the track summary as text on the clipboard (`Hip-Hop 71%, ...`) and as JSON
//! and CSV files in the user's data folder, with genre names and ids.

use std::path::{Path, PathBuf};

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

/// A finished export: what went to the clipboard and where the JSON file went (the CSV file is
/// beside it).
#[derive(Debug)]
pub struct Exported {
    pub copied: String,
    pub json: PathBuf,
}

impl Exported {
    /// `Copied "Hip-Hop 71%, ..."; saved genrescope-2026-12-07-1532.json and .csv`: short
    /// enough for a narrow window (the folder is [`Self::json`]'s).
    pub fn message(&self) -> String {
        let name = self.json.file_name().unwrap_or_default().to_string_lossy();
        format!("Copied \"{}\"; saved {name} and .csv", self.copied)
    }
}

/// Writes the JSON and CSV files, named by the local time (`genrescope-2026-12-07-1532.json`);
/// `Err` says why nothing could be written.
pub fn write_files(tags: &Tags) -> Result<Exported, String> {
    let dir = export_dir();
    let stem = file_stem(&chrono::Local::now().naive_local());
    let (json_text, csv_text) = file_contents(tags);
    let json = std::fs::create_dir_all(&dir)
        .map(|()| free_base(&dir, &stem))
        .and_then(|base| {
            let json = base.with_extension("json");
            std::fs::write(&json, json_text)?;
            std::fs::write(base.with_extension("csv"), csv_text)?;
            Ok(json)
        });
    match json {
        Ok(json) => Ok(Exported {
            copied: clipboard_text(tags),
            json,
        }),
        Err(e) => Err(format!(
            "Copied to the clipboard, but could not write to {}: {e}",
            dir.display()
        )),
    }
}

/// `genrescope-2026-12-07-1532`: the export's date and time to the minute.
fn file_stem(time: &chrono::NaiveDateTime) -> String {
    format!("genrescope-{}", time.format("%Y-%m-%d-%H%M"))
}

/// `dir/stem`, or `dir/stem-2`, `-3`, ... when an export of the same minute is already there.
fn free_base(dir: &Path, stem: &str) -> PathBuf {
    let taken = |base: &PathBuf| base.with_extension("json").exists();
    (1..)
        .map(|n| match n {
            1 => dir.join(stem),
            n => dir.join(format!("{stem}-{n}")),
        })
        .find(|base| !taken(base))
        .expect("some name is free")
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
    fn file_names_read_as_a_date_and_time() {
        let time = chrono::NaiveDate::from_ymd_opt(2026, 12, 7)
            .and_then(|d| d.and_hms_opt(15, 32, 9))
            .unwrap();
        assert_eq!(file_stem(&time), "genrescope-2026-12-07-1532");
    }

    #[test]
    fn the_confirmation_names_the_file_not_its_folder() {
        let exported = Exported {
            copied: "Hip-Hop 71%".to_owned(),
            json: PathBuf::from(
                "/home/dj/.local/share/genrescope/exports/genrescope-2026-12-07-1532.json",
            ),
        };
        assert_eq!(
            exported.message(),
            "Copied \"Hip-Hop 71%\"; saved genrescope-2026-12-07-1532.json and .csv"
        );
    }

    #[test]
    fn a_second_export_in_the_same_minute_gets_its_own_name() {
        let dir = tempfile::tempdir().unwrap();
        let stem = "genrescope-2026-12-07-1532";
        assert_eq!(free_base(dir.path(), stem), dir.path().join(stem));
        std::fs::write(dir.path().join(format!("{stem}.json")), "{}").unwrap();
        assert_eq!(
            free_base(dir.path(), stem),
            dir.path().join(format!("{stem}-2"))
        );
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

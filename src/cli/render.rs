//! What `analyze` prints and `merge` writes: a [`FileReport`] per file (its genre
//! distribution, style tags, optional timeline, or its error) in an [`Output`], rendered as
//! text, JSON or CSV with genre names where people read them.

use serde::{Deserialize, Serialize};

use super::{Format, MoodEngine};
use crate::audioset::{Category, Heard};
use crate::genres::Vocabulary;
use crate::inference::decision::top_tags;
use crate::inference::ClipAnalysis;
use crate::moods::MoodReading;
use crate::tags::{csv_field, Tags};

/// One window of a timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub start_s: f32,
    pub end_s: f32,
    /// The most likely label as the model stores it (as earlier versions wrote it).
    pub top: String,
    /// Its name, as people read it, and its stable id.
    pub top_genre: String,
    pub top_id: String,
    pub probabilities: Vec<f32>,
}

/// A style or mood tag of the whole file (a pooled model's tags, e.g. musicnn's `dance`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Style {
    pub tag: String,
    /// Mean tag probability over the file's windows.
    pub probability: f32,
}

/// Style tags shown beside the genre.
pub const STYLES: usize = 5;

/// The AudioSet categories in the order text and CSV show them, with their text labels.
const CATEGORIES: [(Category, &str); 3] = [
    (Category::Style, "DJ styles"),
    (Category::Instrument, "instruments"),
    (Category::Voice, "voices"),
];

/// The columns CSV adds after `error` (empty without a mood model).
pub const MOOD_CSV_HEADER: &str = "mood,mood_id,audioset_styles,instruments,voices";

/// What one file gave.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FileReport {
    pub file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Tags>,
    /// The most likely style tags, most likely first (models with tags only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub styles: Vec<Style>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Vec<TimelineEntry>>,
    /// The mood model's answer for the whole file (with a mood model only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mood: Option<MoodReading>,
    /// The styles DJs name beyond the genres, the instruments and the voices the mood model's
    /// AudioSet classes heard ([`crate::audioset`]): `audioset_styles`, `instruments`, `voices`.
    #[serde(flatten)]
    pub heard: Heard,
    /// Packets the decoder could not read; their audio is missing from the analysis.
    #[serde(skip_serializing_if = "is_zero")]
    #[serde(default)]
    pub skipped_packets: usize,
    /// Seconds of audio a truncated file's header promises and the file does not hold.
    #[serde(default, skip_serializing_if = "is_zero_seconds")]
    pub missing_seconds: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn is_zero_seconds(seconds: &f64) -> bool {
    *seconds == 0.0
}

impl FileReport {
    /// Adds the mood model's answer for the file.
    pub fn with_mood(mut self, mood: &MoodEngine, clip: &ClipAnalysis) -> Self {
        self.mood = MoodReading::new(&mood.labels, &clip.summary);
        self.heard = mood.sounds.pick(&mood.tags, &clip.tags);
        self
    }

    /// `  mood: Sad (55%) · DJ styles: Ambient · instruments: Piano, Strings · voices: Choir`,
    /// the text line under the genre (`None` without a mood model).
    pub fn mood_line(&self) -> Option<String> {
        let mood = self.mood.as_ref()?;
        let mut line = format!("  mood: {}", mood.summary());
        for (category, what) in CATEGORIES {
            let names: Vec<&str> = self
                .heard
                .of(category)
                .iter()
                .map(|s| s.name.as_str())
                .collect();
            if !names.is_empty() {
                line += &format!(" · {what}: {}", names.join(", "));
            }
        }
        Some(line)
    }

    /// The CSV columns of the mood: name, id, and `name:probability;…` per category.
    fn mood_csv(&self) -> String {
        let Some(mood) = &self.mood else {
            return ",,,,".into();
        };
        let lists = CATEGORIES.map(|(category, _)| {
            let items: Vec<String> = self
                .heard
                .of(category)
                .iter()
                .map(|s| format!("{}:{:.3}", s.name, s.probability))
                .collect();
            csv_field(&items.join(";"))
        });
        format!("{},{},{}", csv_field(&mood.name), mood.top, lists.join(","))
    }

    /// What the analysis of an analysed file lacks, as the text line ends:
    /// ` · 2 unreadable packets skipped · truncated: 23.8 s of audio missing`, or nothing.
    pub fn warnings(&self) -> String {
        let mut warnings = match self.skipped_packets {
            0 => String::new(),
            1 => " · 1 unreadable packet skipped".to_owned(),
            n => format!(" · {n} unreadable packets skipped"),
        };
        if self.missing_seconds > 0.0 {
            warnings += &format!(
                " · truncated: {:.1} s of audio missing",
                self.missing_seconds
            );
        }
        warnings
    }
}

#[derive(Debug, Serialize)]
pub struct Output<'a> {
    pub model: String,
    /// The model's labels, in the order of a timeline's probabilities.
    pub labels: &'a [String],
    /// Their names (what people read) and stable ids, in the same order.
    pub names: Vec<String>,
    pub ids: Vec<String>,
    pub files: Vec<FileReport>,
}

impl<'a> Output<'a> {
    pub fn new(model: String, labels: &'a [String], files: Vec<FileReport>) -> Self {
        let named = Vocabulary::builtin().model_labels(labels);
        Self {
            model,
            labels,
            names: named.iter().map(|n| n.name.clone()).collect(),
            ids: named.into_iter().map(|n| n.id).collect(),
            files,
        }
    }
}

pub fn report(
    file: String,
    outcome: Result<ClipAnalysis, String>,
    model: &str,
    labels: &[String],
    style_labels: &[String],
    timeline: bool,
) -> FileReport {
    match outcome {
        Ok(clip) => {
            let tags = Tags::new(
                &file,
                model,
                clip.seconds,
                clip.answers.nrows() as u64,
                labels,
                &clip.summary,
            );
            let window_s = clip.window_seconds;
            let names = Vocabulary::builtin().model_labels(labels);
            let timeline = timeline.then(|| {
                clip.answers
                    .rows()
                    .into_iter()
                    .enumerate()
                    .map(|(i, row)| {
                        let start_s = i as f32 * clip.hop_seconds;
                        let probabilities = row.to_vec();
                        let top = crate::inference::decision::ranked(&probabilities)[0];
                        TimelineEntry {
                            start_s,
                            end_s: start_s + window_s,
                            top: labels[top].clone(),
                            top_genre: names[top].name.clone(),
                            top_id: names[top].id.clone(),
                            probabilities,
                        }
                    })
                    .collect()
            });
            let styles = top_tags(style_labels, &clip.tags, STYLES)
                .into_iter()
                .map(|(tag, probability)| Style {
                    tag: tag.to_owned(),
                    probability,
                })
                .collect();
            FileReport {
                file,
                tags: Some(tags),
                styles,
                timeline,
                skipped_packets: clip.skipped_packets,
                missing_seconds: clip.missing_seconds,
                ..FileReport::default()
            }
        }
        Err(error) => FileReport {
            file,
            error: Some(error),
            ..FileReport::default()
        },
    }
}

/// What `analyze` prints on stdout: JSON, CSV (a row per genre, or with `--timeline` a row
/// per window and a column per genre) or text, with genre names where people read them.
pub fn render(output: &Output, format: Format, timeline: bool) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    if format == Format::Json {
        out = serde_json::to_string_pretty(output).expect("reports serialise") + "\n";
    } else if format == Format::Csv && timeline {
        let header: Vec<String> = output.names.iter().map(|l| csv_field(l)).collect();
        let _ = writeln!(out, "source,start_s,end_s,top,top_id,{}", header.join(","));
        for file in &output.files {
            for entry in file.timeline.iter().flatten() {
                let values: Vec<String> = entry
                    .probabilities
                    .iter()
                    .map(|p| format!("{p:.6}"))
                    .collect();
                let _ = writeln!(
                    out,
                    "{},{:.3},{:.3},{},{},{}",
                    csv_field(&file.file),
                    entry.start_s,
                    entry.end_s,
                    csv_field(&entry.top_genre),
                    csv_field(&entry.top_id),
                    values.join(",")
                );
            }
        }
    } else if format == Format::Csv {
        // Every file has rows: a failed one a single row with its reason in the last column.
        let _ = writeln!(out, "{},error,{MOOD_CSV_HEADER}", Tags::CSV_HEADER);
        for file in &output.files {
            match &file.tags {
                Some(tags) => {
                    let mood = file.mood_csv();
                    for row in tags.csv_rows().lines() {
                        let _ = writeln!(out, "{row},,{mood}");
                    }
                }
                None => {
                    let _ = writeln!(
                        out,
                        "{},{},,,,,{},,,,,",
                        csv_field(&file.file),
                        csv_field(&output.model),
                        csv_field(file.error.as_deref().unwrap_or_default())
                    );
                }
            }
        }
    } else {
        for file in &output.files {
            match (&file.tags, &file.error) {
                (Some(tags), _) => {
                    let top = tags.top().expect("every model has labels");
                    let warnings = file.warnings();
                    let styles: Vec<&str> =
                        file.styles.iter().take(3).map(|s| s.tag.as_str()).collect();
                    let styles = match styles.len() {
                        0 => String::new(),
                        _ => format!(" · styles: {}", styles.join(", ")),
                    };
                    let _ = writeln!(
                        out,
                        "{}: {} ({:.0}%) · {}{styles} · {} windows, {:.1} s{warnings}",
                        file.file,
                        top.genre,
                        top.probability * 100.0,
                        tags.summary_line(3),
                        tags.windows,
                        tags.seconds
                    );
                    if let Some(line) = file.mood_line() {
                        let _ = writeln!(out, "{line}");
                    }
                    for entry in file.timeline.iter().flatten() {
                        let best = entry.probabilities.iter().fold(0.0f32, |m, &p| m.max(p));
                        let _ = writeln!(
                            out,
                            "  {:>7.1}–{:<7.1} {} ({:.0}%)",
                            entry.start_s,
                            entry.end_s,
                            entry.top_genre,
                            best * 100.0
                        );
                    }
                }
                (None, Some(error)) => {
                    let _ = writeln!(out, "{}: error: {error}", file.file);
                }
                (None, None) => unreachable!("a report has tags or an error"),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use ndarray::Array2;

    #[test]
    fn skipped_packets_reach_the_report_and_only_when_there_are_some() {
        let labels = vec!["jazz".to_owned(), "rock".to_owned()];
        let clip = |skipped_packets| ClipAnalysis {
            answers: Array2::from_shape_vec((2, 2), vec![0.7, 0.3, 0.5, 0.5]).unwrap(),
            summary: vec![0.6, 0.4],
            tags: Vec::new(),
            hop_seconds: 3.0,
            window_seconds: 3.0,
            seconds: 6.0,
            skipped_packets,
            missing_seconds: 0.0,
        };
        let damaged = report("a.ogg".into(), Ok(clip(2)), "m", &labels, &[], false);
        assert_eq!(damaged.skipped_packets, 2);
        let json = serde_json::to_value(&damaged).unwrap();
        assert_eq!(json["skipped_packets"], 2);
        let clean = serde_json::to_value(report(
            "b.ogg".into(),
            Ok(clip(0)),
            "m",
            &labels,
            &[],
            false,
        ))
        .unwrap();
        assert!(clean.get("skipped_packets").is_none(), "{clean}");
    }

    #[test]
    fn a_truncated_file_is_analysed_with_a_warning() {
        let labels = vec!["jazz".to_owned(), "rock".to_owned()];
        let clip = ClipAnalysis {
            answers: Array2::from_shape_vec((1, 2), vec![0.7, 0.3]).unwrap(),
            summary: vec![0.7, 0.3],
            tags: Vec::new(),
            hop_seconds: 3.0,
            window_seconds: 3.0,
            seconds: 6.2,
            skipped_packets: 1,
            missing_seconds: 23.8,
        };
        let file = report("a.mp3".into(), Ok(clip), "m", &labels, &[], false);
        let json = serde_json::to_value(&file).unwrap();
        assert!((json["missing_seconds"].as_f64().unwrap() - 23.8).abs() < 1e-9);
        let text = render(
            &Output::new("m".into(), &labels, vec![file]),
            Format::Text,
            false,
        );
        assert!(
            text.ends_with(" · 1 unreadable packet skipped · truncated: 23.8 s of audio missing\n"),
            "{text}"
        );
    }

    /// `analyze` output for one good file of a model with dataset labels, and one bad file.
    fn rendered(flags: &[&str]) -> String {
        let labels: Vec<String> = ["hiphop", "rnb", "pop-rock(allmusic)"]
            .map(String::from)
            .to_vec();
        let clip = ClipAnalysis {
            answers: Array2::from_shape_vec((2, 3), vec![0.7, 0.2, 0.1, 0.1, 0.3, 0.6]).unwrap(),
            summary: vec![0.4, 0.25, 0.35],
            tags: Vec::new(),
            hop_seconds: 3.0,
            window_seconds: 3.0,
            seconds: 6.0,
            skipped_packets: 0,
            missing_seconds: 0.0,
        };
        let files = vec![
            report("a.ogg".into(), Ok(clip), "m", &labels, &[], true),
            report(
                "b.wav".into(),
                Err("cannot decode".into()),
                "m",
                &labels,
                &[],
                true,
            ),
        ];
        let args = super::super::AnalyzeArgs::try_parse_from(
            ["genrescope analyze", "a.ogg"].iter().chain(flags),
        )
        .unwrap();
        render(
            &Output::new("m".into(), &labels, files),
            args.format(),
            args.timeline,
        )
    }

    #[test]
    fn text_shows_genre_names_only() {
        let text = rendered(&["--timeline"]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "a.ogg: Hip-Hop (40%) · Hip-Hop 40%, Pop or Rock 35%, R&B / Soul 25% · 2 windows, 6.0 s"
        );
        assert_eq!(lines[1], "      0.0–3.0     Hip-Hop (70%)");
        assert_eq!(lines[2], "      3.0–6.0     Pop or Rock (60%)");
        assert_eq!(lines[3], "b.wav: error: cannot decode");
        for artefact in ["hiphop", "rnb", "allmusic"] {
            assert!(!text.contains(artefact), "{artefact} in {text}");
        }
    }

    #[test]
    fn json_carries_names_and_ids_beside_the_model_labels() {
        let json: serde_json::Value =
            serde_json::from_str(&rendered(&["--json", "--timeline"])).unwrap();
        assert_eq!(json["labels"][0], "hiphop");
        assert_eq!(
            json["names"],
            serde_json::json!(["Hip-Hop", "R&B / Soul", "Pop or Rock"])
        );
        assert_eq!(
            json["ids"],
            serde_json::json!(["hip-hop", "rnb", "pop|rock"])
        );
        let tags = &json["files"][0]["tags"];
        let top = &tags["genres"][0];
        assert_eq!(top["genre"], "Hip-Hop");
        assert_eq!(top["id"], "hip-hop");
        assert_eq!(top["label"], "hiphop");
        assert!((top["probability"].as_f64().unwrap() - 0.4).abs() < 1e-6);
        let window = &json["files"][0]["timeline"][1];
        assert_eq!(window["top"], "pop-rock(allmusic)");
        assert_eq!(window["top_genre"], "Pop or Rock");
        assert_eq!(window["top_id"], "pop|rock");
        assert_eq!(json["files"][1]["error"], "cannot decode");
    }

    #[test]
    fn csv_has_a_name_column_an_id_column_and_a_row_for_a_failed_file() {
        let csv = rendered(&["--csv"]);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines,
            [
                "source,model,rank,genre,probability,id,error,mood,mood_id,audioset_styles,instruments,voices",
                "a.ogg,m,1,Hip-Hop,0.400000,hip-hop,,,,,,",
                "a.ogg,m,2,Pop or Rock,0.350000,pop|rock,,,,,,",
                "a.ogg,m,3,R&B / Soul,0.250000,rnb,,,,,,",
                "b.wav,m,,,,,cannot decode,,,,,",
            ]
        );
        let timeline = rendered(&["--csv", "--timeline"]);
        let lines: Vec<&str> = timeline.lines().collect();
        assert_eq!(
            lines,
            [
                "source,start_s,end_s,top,top_id,Hip-Hop,R&B / Soul,Pop or Rock",
                "a.ogg,0.000,3.000,Hip-Hop,hip-hop,0.700000,0.200000,0.100000",
                "a.ogg,3.000,6.000,Pop or Rock,pop|rock,0.100000,0.300000,0.600000",
            ]
        );
    }

    #[test]
    fn styles_of_a_tagged_model_appear_beside_the_genre() {
        let labels = vec!["jazz".to_owned(), "rock".to_owned()];
        let styles: Vec<String> = ["dance", "House", "00s", "sad"].map(String::from).to_vec();
        let clip = ClipAnalysis {
            answers: Array2::from_shape_vec((1, 2), vec![0.3, 0.7]).unwrap(),
            summary: vec![0.3, 0.7],
            tags: vec![0.1, 0.6, 0.4, 0.05],
            hop_seconds: 3.0,
            window_seconds: 3.0,
            seconds: 3.0,
            skipped_packets: 0,
            missing_seconds: 0.0,
        };
        let file = report("a.ogg".into(), Ok(clip), "m", &labels, &styles, false);
        let json = serde_json::to_value(&file).unwrap();
        assert_eq!(json["styles"][0]["tag"], "House");
        assert_eq!(json["styles"][1]["tag"], "00s");
        assert_eq!(json["styles"].as_array().unwrap().len(), 4);
        let text = render(
            &Output::new("m".into(), &labels, vec![file]),
            Format::Text,
            false,
        );
        assert!(text.contains("Rock (70%)"), "{text}");
        assert!(text.contains(" · styles: House, 00s, dance · "), "{text}");
    }

    #[test]
    fn mood_styles_instruments_and_voices_reach_text_json_and_csv() {
        let labels = vec!["jazz".to_owned(), "rock".to_owned()];
        let clip = |summary: Vec<f32>, tags: Vec<f32>| ClipAnalysis {
            answers: Array2::from_shape_vec((1, summary.len()), summary.clone()).unwrap(),
            summary,
            tags,
            hop_seconds: 3.0,
            window_seconds: 3.0,
            seconds: 3.0,
            skipped_packets: 0,
            missing_seconds: 0.0,
        };
        let mood = MoodEngine {
            choice: crate::inference::ModelChoice::Fast,
            labels: ["q1", "q2", "q3", "q4"].map(String::from).to_vec(),
            tags: ["Speech", "House music", "Disco", "Piano", "Female singing"]
                .map(String::from)
                .to_vec(),
            sounds: crate::audioset::Sounds::builtin().clone(),
        };
        let genre = clip(vec![0.3, 0.7], Vec::new());
        let file = report("a.ogg".into(), Ok(genre), "m", &labels, &[], false).with_mood(
            &mood,
            &clip(vec![0.6, 0.2, 0.1, 0.1], vec![0.9, 0.25, 0.5, 0.1, 0.4]),
        );
        let json = serde_json::to_value(&file).unwrap();
        assert_eq!(json["mood"]["top"], "q1");
        assert_eq!(json["mood"]["name"], "Happy / Energetic");
        assert_eq!(json["mood"]["quadrants"][1]["id"], "q2");
        assert_eq!(json["mood"]["quadrants"][1]["name"], "Tense / Angry");
        assert_eq!(json["audioset_styles"][0]["name"], "Disco");
        assert_eq!(json["audioset_styles"][1]["audioset"], "House music");
        assert_eq!(json["voices"][0]["name"], "Female singing");
        // Piano (0.1) is below its threshold; Speech is no listed class.
        assert!(json.get("instruments").is_none(), "{json}");
        let output = Output::new("m".into(), &labels, vec![file.clone()]);
        let text = render(&output, Format::Text, false);
        assert_eq!(
            text.lines().nth(1),
            Some("  mood: Happy / Energetic (60%) · DJ styles: Disco, House · voices: Female singing")
        );
        let csv = render(&output, Format::Csv, false);
        assert_eq!(
            csv.lines().nth(1),
            Some(
                "a.ogg,m,1,Rock,0.700000,rock,,Happy / Energetic,q1,Disco:0.500;House:0.250,,\
                 Female singing:0.400"
            )
        );
        // A report read back from a journal keeps the mood.
        let back: FileReport = serde_json::from_value(json).unwrap();
        assert_eq!(back, file);
    }
}

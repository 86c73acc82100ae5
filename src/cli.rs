//! `genrescope analyze <files|folders>`: the plugin's model pipeline on whole files, in
//! parallel, with per-file errors that never stop the batch.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::genres::Vocabulary;
use crate::inference::decision::top_tags;
use crate::inference::runtime::default_dirs;
use crate::inference::{analyze_files, ClipAnalysis, ModelChoice, Provider, Runtime, WindowCutter};
use crate::tags::{csv_field, Tags};

/// File extensions `analyze` picks up inside folders.
const AUDIO_EXTENSIONS: &[&str] = &["wav", "flac", "ogg", "mp3", "aif", "aiff", "au", "snd"];

/// `genrescope analyze --help` shows these after the options.
const EXAMPLES: &str = "\
Examples:
  genrescope analyze song.flac more/songs/       top genre and top 3 per file
  genrescope analyze songs/ --json --timeline    JSON, with every window's distribution
  genrescope analyze songs/ --csv > tags.csv     source,model,rank,genre,probability
  genrescope analyze songs/ --model mfcc-cnn     a faster, less accurate built-in model
  genrescope analyze songs/ --model ~/.local/share/genrescope/models/crnn.onnx

Folders are searched recursively for WAV, FLAC, Ogg, MP3, AIFF and AU files. ONNX Runtime is
looked for in ORT_DYLIB_PATH, then beside this binary (`cargo xtask bundle genrescope --release`
puts it there). Exit code 0: every file analysed, 1: some failed, 2: nothing could run.";

/// Genre analysis of audio files with the same model code as the plugin.
#[derive(Debug, Parser)]
#[command(name = "genrescope analyze", after_help = EXAMPLES)]
pub struct AnalyzeArgs {
    /// Audio files, and folders searched recursively for audio files.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// `default` (the built-in model) or a model `.onnx` file with its `.json` beside it.
    #[arg(long, default_value = "default")]
    pub model: String,
    /// Execution provider: auto, cpu, cuda, tensorrt, directml, coreml (falls back to CPU).
    #[arg(long, default_value = "cpu", value_parser = parse_provider)]
    pub provider: Provider,
    /// Print JSON instead of text.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print CSV instead of text.
    #[arg(long)]
    pub csv: bool,
    /// Also print every window's distribution.
    #[arg(long)]
    pub timeline: bool,
    /// Files analysed at once (default: all cores), each with its own single-threaded session.
    #[arg(long)]
    pub threads: Option<usize>,
}

fn parse_provider(text: &str) -> Result<Provider, String> {
    serde_json::from_value(serde_json::Value::String(text.to_lowercase()))
        .map_err(|_| format!("unknown provider {text:?}"))
}

/// One window of a timeline.
#[derive(Debug, Serialize)]
struct TimelineEntry {
    start_s: f32,
    end_s: f32,
    /// The most likely label as the model stores it (as earlier versions wrote it).
    top: String,
    /// Its name, as people read it, and its stable id.
    top_genre: String,
    top_id: String,
    probabilities: Vec<f32>,
}

/// A style or mood tag of the whole file (a pooled model's tags, e.g. musicnn's `dance`).
#[derive(Debug, Serialize)]
struct Style {
    tag: String,
    /// Mean tag probability over the file's windows.
    probability: f32,
}

/// Style tags shown beside the genre.
const STYLES: usize = 5;

/// What one file gave.
#[derive(Debug, Serialize)]
struct FileReport {
    file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<Tags>,
    /// The most likely style tags, most likely first (models with tags only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    styles: Vec<Style>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timeline: Option<Vec<TimelineEntry>>,
    /// Packets the decoder could not read; their audio is missing from the analysis.
    #[serde(skip_serializing_if = "is_zero")]
    skipped_packets: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[derive(Debug, Serialize)]
struct Output<'a> {
    model: String,
    /// The model's labels, in the order of a timeline's probabilities.
    labels: &'a [String],
    /// Their names (what people read) and stable ids, in the same order.
    names: Vec<String>,
    ids: Vec<String>,
    files: Vec<FileReport>,
}

impl<'a> Output<'a> {
    fn new(model: String, labels: &'a [String], files: Vec<FileReport>) -> Self {
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

/// Runs `analyze` on already-split arguments (after the `analyze` word). Returns the process
/// exit code: 0 when every file was analysed, 1 when some failed, 2 when nothing could run.
pub fn analyze(args: impl IntoIterator<Item = String>) -> i32 {
    let args = match AnalyzeArgs::try_parse_from(
        std::iter::once("genrescope analyze".to_owned()).chain(args),
    ) {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match run(&args) {
        Ok(all_ok) => i32::from(!all_ok),
        Err(message) => {
            eprintln!("genrescope analyze: {message}");
            2
        }
    }
}

fn run(args: &AnalyzeArgs) -> Result<bool, String> {
    let runtime = Runtime::find(&default_dirs()).map_err(|e| e.to_string())?;
    let choice = ModelChoice::parse(&args.model);
    // Load once up front so that an unusable model is one clear error, not one per file.
    let probe = choice
        .load(&runtime, args.provider)
        .map_err(|e| format!("model {}: {e}", args.model))?;
    if let Some(notice) = &probe.notice {
        eprintln!("note: {notice}");
    }
    let labels = probe.metadata.labels.clone();
    let style_labels = probe
        .metadata
        .context
        .as_ref()
        .map_or_else(Vec::new, |c| c.tags.clone());
    let model_name = probe.metadata.name.clone();
    drop(probe);

    let files = collect_files(&args.paths);
    if files.is_empty() {
        return Err("no audio files found".into());
    }
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, files.len());
    let bar = ProgressBar::new(files.len() as u64).with_style(
        ProgressStyle::with_template("analyze {bar:40} {pos}/{len} files, ETA {eta}")
            .expect("valid template"),
    );
    let results: Mutex<Vec<(usize, Result<ClipAnalysis, String>)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| -> Result<(), String> {
        let handles: Vec<_> = (0..threads)
            .map(|worker| {
                let (runtime, choice, files, results, bar) =
                    (&runtime, &choice, &files, &results, &bar);
                scope.spawn(move || -> Result<(), String> {
                    let mut model = choice
                        .load(runtime, args.provider)
                        .map_err(|e| e.to_string())?;
                    let cutter =
                        WindowCutter::new(&model.metadata.input).map_err(|e| e.to_string())?;
                    let mine = (worker..files.len()).step_by(threads);
                    let mine = mine.map(|index| (index, files[index].as_path()));
                    analyze_files(&mut model, &cutter, mine, |index, outcome| {
                        results.lock().expect("no panics").push((index, outcome));
                        bar.inc(1);
                    });
                    Ok(())
                })
            })
            .collect();
        for handle in handles {
            handle.join().map_err(|_| "an analysis thread panicked")??;
        }
        Ok(())
    })?;
    bar.finish_and_clear();
    let mut results = results.into_inner().expect("no panics");
    results.sort_by_key(|(i, _)| *i);

    let reports: Vec<FileReport> = results
        .into_iter()
        .map(|(index, outcome)| {
            let file = files[index].display().to_string();
            report(
                file,
                outcome,
                &model_name,
                &labels,
                &style_labels,
                args.timeline,
            )
        })
        .collect();
    let all_ok = reports.iter().all(|r| r.error.is_none());
    let output = Output::new(model_name, &labels, reports);
    print!("{}", render(&output, args));
    if args.json || args.csv {
        // Machine-readable output on stdout: errors go to stderr as well, so they are seen.
        for file in &output.files {
            if let Some(error) = &file.error {
                eprintln!("{}: error: {error}", file.file);
            }
        }
    }
    Ok(all_ok)
}

fn report(
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
                clip.windows.nrows() as u64,
                labels,
                &clip.summary,
            );
            let window_s = clip.window_seconds;
            let names = Vocabulary::builtin().model_labels(labels);
            let timeline = timeline.then(|| {
                clip.windows
                    .rows()
                    .into_iter()
                    .enumerate()
                    .map(|(i, row)| {
                        let start_s = i as f32 * clip.hop_seconds;
                        let probabilities = row.to_vec();
                        let top = crate::analysis::rolling::ranked(&probabilities)[0];
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
                error: None,
            }
        }
        Err(error) => FileReport {
            file,
            tags: None,
            styles: Vec::new(),
            timeline: None,
            skipped_packets: 0,
            error: Some(error),
        },
    }
}

/// What `analyze` prints on stdout: JSON, CSV (a row per genre, or with `--timeline` a row
/// per window and a column per genre) or text, with genre names where people read them.
fn render(output: &Output, args: &AnalyzeArgs) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    if args.json {
        out = serde_json::to_string_pretty(output).expect("reports serialise") + "\n";
    } else if args.csv && args.timeline {
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
    } else if args.csv {
        let _ = writeln!(out, "{}", Tags::CSV_HEADER);
        for tags in output.files.iter().filter_map(|f| f.tags.as_ref()) {
            out += &tags.csv_rows();
        }
    } else {
        for file in &output.files {
            match (&file.tags, &file.error) {
                (Some(tags), _) => {
                    let top = tags.top().expect("every model has labels");
                    let skipped = match file.skipped_packets {
                        0 => String::new(),
                        1 => " · 1 unreadable packet skipped".to_owned(),
                        n => format!(" · {n} unreadable packets skipped"),
                    };
                    let styles: Vec<&str> =
                        file.styles.iter().take(3).map(|s| s.tag.as_str()).collect();
                    let styles = match styles.len() {
                        0 => String::new(),
                        _ => format!(" · styles: {}", styles.join(", ")),
                    };
                    let _ = writeln!(
                        out,
                        "{}: {} ({:.0}%) · {}{styles} · {} windows, {:.1} s{skipped}",
                        file.file,
                        top.genre,
                        top.probability * 100.0,
                        tags.summary_line(3),
                        tags.windows,
                        tags.seconds
                    );
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

/// Files named directly (a missing one is reported by the decoder like any unreadable file),
/// and audio files in named folders (recursively, sorted).
fn collect_files(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found = Vec::new();
            walk(path, &mut found);
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    files
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for path in entries.filter_map(|e| Some(e.ok()?.path())) {
        if path.is_dir() {
            walk(&path, found);
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        {
            found.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn skipped_packets_reach_the_report_and_only_when_there_are_some() {
        let labels = vec!["jazz".to_owned(), "rock".to_owned()];
        let clip = |skipped_packets| ClipAnalysis {
            windows: Array2::from_shape_vec((2, 2), vec![0.7, 0.3, 0.5, 0.5]).unwrap(),
            summary: vec![0.6, 0.4],
            tags: Vec::new(),
            hop_seconds: 3.0,
            window_seconds: 3.0,
            seconds: 6.0,
            skipped_packets,
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

    /// `analyze` output for one good file of a model with dataset labels, and one bad file.
    fn rendered(flags: &[&str]) -> String {
        let labels: Vec<String> = ["hiphop", "rnb", "pop-rock(allmusic)"]
            .map(String::from)
            .to_vec();
        let clip = ClipAnalysis {
            windows: Array2::from_shape_vec((2, 3), vec![0.7, 0.2, 0.1, 0.1, 0.3, 0.6]).unwrap(),
            summary: vec![0.4, 0.25, 0.35],
            tags: Vec::new(),
            hop_seconds: 3.0,
            window_seconds: 3.0,
            seconds: 6.0,
            skipped_packets: 0,
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
        let args = AnalyzeArgs::try_parse_from(["genrescope analyze", "a.ogg"].iter().chain(flags))
            .unwrap();
        render(&Output::new("m".into(), &labels, files), &args)
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
    fn csv_has_a_name_column_and_an_id_column() {
        let csv = rendered(&["--csv"]);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines,
            [
                "source,model,rank,genre,probability,id",
                "a.ogg,m,1,Hip-Hop,0.400000,hip-hop",
                "a.ogg,m,2,Pop or Rock,0.350000,pop|rock",
                "a.ogg,m,3,R&B / Soul,0.250000,rnb",
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
            windows: Array2::from_shape_vec((1, 2), vec![0.3, 0.7]).unwrap(),
            summary: vec![0.3, 0.7],
            tags: vec![0.1, 0.6, 0.4, 0.05],
            hop_seconds: 3.0,
            window_seconds: 3.0,
            seconds: 3.0,
            skipped_packets: 0,
        };
        let file = report("a.ogg".into(), Ok(clip), "m", &labels, &styles, false);
        let json = serde_json::to_value(&file).unwrap();
        assert_eq!(json["styles"][0]["tag"], "House");
        assert_eq!(json["styles"][1]["tag"], "00s");
        assert_eq!(json["styles"].as_array().unwrap().len(), 4);
        let args = AnalyzeArgs::try_parse_from(["genrescope analyze", "a.ogg"]).unwrap();
        let text = render(&Output::new("m".into(), &labels, vec![file]), &args);
        assert!(text.contains("Rock (70%)"), "{text}");
        assert!(text.contains(" · styles: House, 00s, dance · "), "{text}");
    }
}

//! `genrescope analyze <files|folders>`: the plugin's model pipeline on whole files, in
//! parallel, with per-file errors that never stop the batch.

use std::path::Path;

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};

use super::batch::{Fingerprint, Journal, JournalSink, Previous, Record, RunHeader};
use super::files::input_files;
use super::render::{render, report, FileReport, Output};
use super::{print_out, run_command, thread_count, Analyzers, Engine, Format, Input, SourceArgs};
use crate::inference::{analyze_together, FileAnalyzer};

/// `genrescope analyze --help` shows these after the options.
const EXAMPLES: &str = "\
Examples:
  genrescope analyze song.flac more/songs/            top genre and top 3 per file
  genrescope analyze songs/ --format json --timeline  JSON, with every window's distribution
  genrescope analyze songs/ --format csv > tags.csv   source,model,rank,genre,probability,id,error,mood,…
  genrescope analyze songs/ --model accurate          the plugin's default genre model: 4 points
                                                      more accurate, ~2.4x the time of `fast`
  genrescope analyze songs/ --model mfcc-cnn          a much faster, less accurate built-in model
  genrescope analyze songs/ --model ~/.local/share/genrescope/models/crnn.onnx
  genrescope analyze songs/ --exclude Samples --exclude '*.wav'   leave these out
  genrescope analyze songs/ --out runs/a              resumable: re-run to continue
  genrescope analyze songs/ --out runs/a --shard 2/8  one of 8 workers (then: genrescope merge)

Folders are searched recursively for WAV, FLAC, Ogg, MP3, AIFF, AU and M4A/MP4 (AAC) files.
ONNX Runtime is looked for in ORT_DYLIB_PATH, then beside this binary (`cargo xtask bundle genrescope --release`
puts it there). Exit code 0: every file analysed, 1: some failed, 2: nothing could
run.";

/// Genre analysis of audio files with the same model code as the plugin.
#[derive(Debug, Parser)]
#[command(name = "genrescope analyze", after_help = EXAMPLES)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Output on stdout.
    #[arg(long, value_enum, conflicts_with_all = ["json", "csv"])]
    pub format: Option<Format>,
    /// Same as `--format json` (kept for scripts).
    #[arg(long, hide = true, conflicts_with = "csv")]
    pub json: bool,
    /// Same as `--format csv` (kept for scripts).
    #[arg(long, hide = true)]
    pub csv: bool,
    /// Also print every window's distribution.
    #[arg(long)]
    pub timeline: bool,
}

impl AnalyzeArgs {
    /// `--format`, or the older `--json`/`--csv`; text by default.
    pub fn format(&self) -> Format {
        match (self.format, self.json, self.csv) {
            (Some(format), _, _) => format,
            (None, true, _) => Format::Json,
            (None, _, true) => Format::Csv,
            _ => Format::Text,
        }
    }
}

/// Runs `analyze` on already-split arguments (after the `analyze` word). Returns the process
/// exit code: 0 when every file was analysed, 1 when some failed, 2 when nothing could run.
pub fn analyze(args: impl IntoIterator<Item = String>) -> i32 {
    run_command::<AnalyzeArgs>("analyze", args, run)
}

/// A progress bar on stderr for `len` files.
pub(super) fn progress(verb: &str, len: usize) -> ProgressBar {
    ProgressBar::new(len as u64).with_style(
        ProgressStyle::with_template(&format!(
            "{verb} {{bar:40}} {{pos}}/{{len}} files, ETA {{eta}}"
        ))
        .expect("valid template"),
    )
}

/// The analysis of one file as a report, or its error. With a mood model, both models read
/// one decode of the file; a file the genre model analysed gets its mood too, and one the
/// mood model cannot read (too short for its window) keeps its genre, with the reason on
/// stderr.
pub(super) fn analyze_one(
    engine: &Engine,
    analyzers: &mut Analyzers,
    path: &Path,
    timeline: bool,
) -> FileReport {
    let mut models: Vec<&mut FileAnalyzer> = std::iter::once(&mut analyzers.genre)
        .chain(analyzers.mood.as_mut())
        .collect();
    let (genre, mood) = match analyze_together(&mut models, path) {
        Ok(mut outcomes) => {
            let mood = (outcomes.len() > 1).then(|| outcomes.pop()).flatten();
            (outcomes.pop().expect("the genre model's"), mood)
        }
        Err(e) => (Err(e), None),
    };
    // The report names the file itself.
    let report = report(
        path.display().to_string(),
        genre.map_err(|e| e.reason()),
        &engine.model_name,
        &engine.labels,
        &engine.style_labels,
        timeline,
    );
    match (&engine.mood, mood) {
        (Some(engine), Some(Ok(clip))) if report.error.is_none() => report.with_mood(engine, &clip),
        (_, Some(Err(e))) if report.error.is_none() => {
            eprintln!("{}: no mood: {}", path.display(), e.reason());
            report
        }
        _ => report,
    }
}

/// The files of this run (after `--shard`), or an error when there are none. What the folders
/// held that is left out is said on stderr.
pub(super) fn inputs(source: &SourceArgs) -> Result<Vec<Input>, String> {
    let files = input_files(&source.files)?;
    Ok(match source.shard {
        Some(shard) => shard.select(files),
        None => files,
    })
}

/// The journal of `--out`, if any, with this run's header, and the records of earlier runs.
pub(super) fn open_journal(
    source: &SourceArgs,
    engine: &Engine,
    command: &str,
) -> Result<(Option<Journal>, Option<Previous>), String> {
    let Some(dir) = &source.out else {
        return Ok((None, None));
    };
    let (journal, previous) = Journal::open(
        dir,
        source.shard,
        RunHeader {
            command: command.to_owned(),
            model: engine.model_name.clone(),
            model_id: engine.model_id.clone(),
            labels: engine.labels.clone(),
        },
    )?;
    Ok((Some(journal), Some(previous)))
}

/// With a journal: the file's fingerprint now (`None` without one, or when the file cannot be
/// read: its record then says it failed, and a re-run tries it again).
pub(super) fn fingerprint(journaled: bool, input: &Input) -> Option<Fingerprint> {
    journaled
        .then(|| Fingerprint::of(&input.path).ok())
        .flatten()
}

/// One file, as a worker thread leaves it.
struct Step {
    report: FileReport,
    /// The file as analysed (with `--out`).
    fingerprint: Option<Fingerprint>,
    /// Its journal record still matched: not analysed again, nothing to record.
    skipped: bool,
}

fn run(args: &AnalyzeArgs) -> Result<bool, String> {
    let engine = Engine::load(&args.source)?;
    let files = inputs(&args.source)?;
    let (journal, previous) = open_journal(&args.source, &engine, "analyze")?;
    let mut journal = JournalSink::new(journal);
    let journaled = journal.is_open();

    let mut reports: Vec<Option<FileReport>> = vec![None; files.len()];
    let bar = progress("analyze", files.len());
    engine.run(
        &files,
        thread_count(args.source.threads),
        |analyzers, input| {
            // Hashing happens here, on the worker threads, in parallel.
            let fingerprint = fingerprint(journaled, input);
            if let (Some(previous), Some(current)) = (&previous, &fingerprint) {
                if let Some(record) = previous.matching(input, current, &engine.model_id) {
                    return Step {
                        report: record.report.clone(),
                        fingerprint: None,
                        skipped: true,
                    };
                }
            }
            Step {
                report: analyze_one(&engine, analyzers, &input.path, args.timeline),
                fingerprint,
                skipped: false,
            }
        },
        |i, step| {
            if !step.skipped {
                journal.append(|| Record {
                    path: files[i].path.display().to_string(),
                    relative: files[i].relative.clone(),
                    fingerprint: step.fingerprint,
                    model_id: engine.model_id.clone(),
                    report: step.report.clone(),
                    tag: None,
                });
            }
            reports[i] = Some(step.report);
            bar.inc(1);
        },
    )?;
    bar.finish_and_clear();
    journal.close()?;

    let reports: Vec<FileReport> = reports
        .into_iter()
        .map(|r| r.expect("every file done"))
        .collect();
    let all_ok = reports.iter().all(|r| r.error.is_none());
    let output = Output::new(engine.model_name.clone(), &engine.labels, reports);
    let format = args.format();
    print_out(&render(&output, format, args.timeline))?;
    if format != Format::Text {
        // Machine-readable output on stdout: errors and warnings go to stderr as well, so they
        // are seen.
        for file in &output.files {
            if let Some(error) = &file.error {
                eprintln!("{}: error: {error}", file.file);
            }
            let warnings = file.warnings();
            if let Some(warnings) = warnings.strip_prefix(" · ") {
                eprintln!("{}: warning: {warnings}", file.file);
            }
        }
    }
    Ok(all_ok)
}

//! `genrescope tag <files|folders>`: analyses each file and writes its genre into the file's
//! own tags ([`crate::tagging`]), optionally with a rekordbox library XML of the batch. One
//! line per file on stdout, in the order of the files (command line, then path), and a
//! [`Summary`] on stderr.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::Parser;
use serde::{Deserialize, Serialize};

use super::analyze::{analyze_one, fingerprint, inputs, open_journal, progress};
use super::batch::{Fingerprint, JournalSink, Record};
use super::render::FileReport;
use super::summary::Summary;
use super::{print_out, run_command, thread_count, Analyzers, Engine, Input, SourceArgs};
use crate::audioset::{Category, Sound};
use crate::tagging::rekordbox::{self, Track};
use crate::tagging::{
    folder_of, percent_list, remove_stale_temporaries, Change, TagFile, Wanted, FIELD_GENRES,
    FIELD_INSTRUMENTS, FIELD_MODEL, FIELD_MOOD, FIELD_STYLES, FIELD_VOICES,
};

/// `genrescope tag --help` shows these after the options.
const EXAMPLES: &str = "\
Examples:
  genrescope tag music/ --dry-run                 what would change, nothing written
  genrescope tag music/                           top genre into each file's genre field
  genrescope tag music/ --top 2 --styles 1        `Electronic; Pop; House`
  genrescope tag music/ --instruments             also GENRESCOPE_INSTRUMENTS and _VOICES
  genrescope tag music/ --overwrite               replace genres people wrote, too
  genrescope tag music/ --only-missing            only files without a genre
  genrescope tag music/ --exclude Samples --exclude '*.wav'
  genrescope tag music/ --rekordbox-xml lib.xml   also a library for rekordbox's Import
  genrescope tag music/ --out runs/tag --shard 3/8   resumable, one of 8 workers

The genre goes into ID3v2 TCON (MP3, WAV, AIFF; WAV also RIFF INFO IGNR), Vorbis GENRE
(FLAC, Ogg Vorbis) or MP4 ©gen; the distribution, style tags and model go into GENRESCOPE_*
fields (TXXX frames, Vorbis fields, MP4 freeform atoms). With a mood model, the mood's name goes
into ID3v2 TMOO, Vorbis MOOD or MP4 ----:com.apple.iTunes:MOOD. A genre or mood that genrescope
did not write is kept unless --overwrite (and then remembered for `genrescope untag`). Files are rewritten
through a temporary copy in the same folder, renamed over the original when complete; the
audio data and the other tags are copied unchanged, and a file whose tags already say all of
it is not rewritten. The last line on stderr counts the files: tagged, kept (a person's genre),
unchanged (not rewritten), failed, skipped (--only-missing, --out journal). Exit code 0: no
file failed, 1: some failed, 2: nothing could run.";

/// Writes each file's genre, as the model hears it, into the file's own tags.
#[derive(Debug, Parser)]
#[command(name = "genrescope tag", after_help = EXAMPLES)]
pub struct TagArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Print what would change; write nothing (no tags, journal or library XML).
    #[arg(long, conflicts_with_all = ["out", "rekordbox_xml"])]
    pub dry_run: bool,
    /// Replace a genre that a person wrote (kept by default; `genrescope untag` puts it back).
    #[arg(long)]
    pub overwrite: bool,
    /// Only files without a genre: files with one are skipped without being analysed.
    #[arg(long, conflicts_with = "overwrite")]
    pub only_missing: bool,
    /// Genres written into the genre field, most likely first.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=5))]
    pub top: u8,
    /// Style tags added to the genre field after the genres: with a mood model first the
    /// styles DJs name that its AudioSet classes heard (`House`, `Metal`), then the genre
    /// model's own tags.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=5))]
    pub styles: u8,
    /// Also write the instruments and voices the mood model heard, into GENRESCOPE_INSTRUMENTS
    /// and GENRESCOPE_VOICES (`Piano 45%;Strings 31%`).
    #[arg(long)]
    pub instruments: bool,
    /// Also write a rekordbox library XML (File > Import library XML) of the tagged files.
    #[arg(long, value_name = "FILE")]
    pub rekordbox_xml: Option<PathBuf>,
}

/// What tagging did to one file (the journal's `tag` field).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TagResult {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<Change>,
    /// Whether the file was rewritten (false in a dry run or on error).
    pub written: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artist: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Something the person should know about a file that was written (its hard links).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// One file's analysis and tagging.
struct Outcome {
    report: FileReport,
    tag: TagResult,
    /// The file after tagging (for the journal).
    fingerprint: Option<Fingerprint>,
    /// Why the file was left as it is, without a journal record.
    skip: Option<Skip>,
}

/// Why `tag` left a file alone this time.
#[derive(Debug, Clone, PartialEq)]
enum Skip {
    /// Its `--out` record says it is done.
    Journal,
    /// `--only-missing`, and it has this genre.
    HasGenre(String),
}

/// The outcomes the closing [`Summary`] counts, in its order.
const OUTCOMES: &[&str] = &[TAGGED, KEPT, UNCHANGED, FAILED, SKIPPED];
/// Genre written (or, in a dry run, to be written).
const TAGGED: &str = "tagged";
/// A person's genre kept (our fields written beside it where needed).
const KEPT: &str = "kept";
/// The tags already said everything: not rewritten.
const UNCHANGED: &str = "unchanged";
const FAILED: &str = "failed";
/// `--only-missing` or the `--out` journal.
const SKIPPED: &str = "skipped";

impl Outcome {
    /// A file that could not be tagged.
    fn failed(report: FileReport, error: String) -> Self {
        Self {
            report,
            tag: TagResult {
                error: Some(error),
                ..TagResult::default()
            },
            fingerprint: None,
            skip: None,
        }
    }

    /// What the summary counts this file as.
    fn counted_as(&self) -> &'static str {
        if self.tag.error.is_some() || self.report.error.is_some() {
            return FAILED;
        }
        match (&self.skip, &self.tag.change) {
            (Some(_), _) | (None, None) => SKIPPED,
            (None, Some(change)) if change.kept_existing_genre => KEPT,
            (None, Some(change)) if change.unchanged => UNCHANGED,
            (None, Some(_)) => TAGGED,
        }
    }
}

/// Runs `tag` on already-split arguments (after the `tag` word); returns the exit code.
pub fn tag(args: impl IntoIterator<Item = String>) -> i32 {
    run_command::<TagArgs>("tag", args, run)
}

/// What the genre field and our fields should say for `report`.
fn wanted(report: &FileReport, args: &TagArgs, model_id: &str) -> Option<Wanted> {
    let tags = report.tags.as_ref()?;
    let mut genres: Vec<String> = tags
        .genres
        .iter()
        .take(usize::from(args.top))
        .map(|t| t.genre.clone())
        .collect();
    // Style tags that only repeat a genre (`hip hop` beside `Hip-Hop`) or another style are
    // left out; the next ones take their place.
    let wanted_len = genres.len() + usize::from(args.styles);
    let styles = report.heard.styles.iter().map(|s| s.name.as_str());
    for style in styles.chain(report.styles.iter().map(|s| s.tag.as_str())) {
        if genres.len() == wanted_len {
            break;
        }
        if !genres.iter().any(|g| same_name(g, style)) {
            genres.push(style.to_owned());
        }
    }
    let mut fields = vec![
        (
            FIELD_GENRES.to_owned(),
            percent_list(
                tags.genres
                    .iter()
                    .take(5)
                    .map(|t| (t.genre.as_str(), t.probability)),
            ),
        ),
        (
            FIELD_MODEL.to_owned(),
            format!("{model_id} (genrescope {})", env!("CARGO_PKG_VERSION")),
        ),
    ];
    if !report.styles.is_empty() {
        fields.push((
            FIELD_STYLES.to_owned(),
            percent_list(
                report
                    .styles
                    .iter()
                    .map(|s| (s.tag.as_str(), s.probability)),
            ),
        ));
    }
    if args.instruments {
        fields.extend(instrument_fields(report));
    }
    Some(Wanted {
        genres,
        fields,
        mood: report.mood.as_ref().map(|m| m.name.clone()),
    })
}

/// [`FIELD_INSTRUMENTS`] and [`FIELD_VOICES`] (`Piano 45%;Strings 31%`), each where something
/// was heard (`tag --instruments`).
fn instrument_fields(report: &FileReport) -> impl Iterator<Item = (String, String)> + '_ {
    [
        (FIELD_INSTRUMENTS, &report.heard.instruments),
        (FIELD_VOICES, &report.heard.voices),
    ]
    .into_iter()
    .filter(|(_, heard)| !heard.is_empty())
    .map(|(field, heard): (&str, &Vec<Sound>)| {
        let list = heard.iter().map(|s| (s.name.as_str(), s.probability));
        (field.to_owned(), percent_list(list))
    })
}

/// Whether two names say the same, case, spaces and punctuation aside (`Hip-Hop`, `hip hop`).
fn same_name(a: &str, b: &str) -> bool {
    let key = |name: &str| -> String {
        name.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect()
    };
    key(a) == key(b)
}

/// Reads the file's tags, analyses it and (unless `--dry-run`) writes the change.
fn tag_one(engine: &Engine, args: &TagArgs, analyzers: &mut Analyzers, input: &Input) -> Outcome {
    let file_name = input.path.display().to_string();
    // Tags first: a file that cannot be tagged is not worth analysing.
    let file = match TagFile::open(&input.path) {
        Ok(file) => file,
        Err(e) => {
            let error = e.to_string();
            return Outcome::failed(file_report(&file_name, Some(&error)), error);
        }
    };
    if args.only_missing && !file.has_no_genre() {
        return Outcome {
            report: file_report(&file_name, None),
            tag: TagResult::default(),
            fingerprint: None,
            skip: Some(Skip::HasGenre(file.genres().join("; "))),
        };
    }
    let report = analyze_one(engine, analyzers, &input.path, false);
    let Some(wanted) = wanted(&report, args, &engine.model_id) else {
        let error = report.error.clone().unwrap_or_default();
        return Outcome::failed(report, error);
    };
    let change = file.plan(&wanted, args.overwrite);
    let mut result = TagResult {
        change: Some(change.clone()),
        title: file.title(),
        artist: file.artist(),
        warning: file.hard_link_note().filter(|_| !change.unchanged),
        ..TagResult::default()
    };
    if !args.dry_run {
        match file.save(&change, &wanted.genres) {
            Ok(written) => result.written = written,
            Err(e) => result.error = Some(e.to_string()),
        }
    }
    // Written or already as wanted: the journal records the file as it now is.
    let done = !args.dry_run && result.error.is_none();
    Outcome {
        report,
        fingerprint: done.then(|| Fingerprint::of(&input.path).ok()).flatten(),
        tag: result,
        skip: None,
    }
}

/// The report of a file that was not analysed.
fn file_report(file: &str, error: Option<&str>) -> FileReport {
    FileReport {
        file: file.to_owned(),
        error: error.map(str::to_owned),
        ..FileReport::default()
    }
}

/// The line `tag` prints for a file.
fn describe(outcome: &Outcome, dry_run: bool) -> String {
    let (report, tag) = (&outcome.report, &outcome.tag);
    let file = &report.file;
    if let Some(Skip::HasGenre(genre)) = &outcome.skip {
        return format!("{file}: skipped: has a genre (\"{genre}\"; --only-missing)");
    }
    let skipped = outcome.skip == Some(Skip::Journal);
    if let Some(error) = tag.error.as_ref().or(report.error.as_ref()) {
        return format!("{file}: error: {error}");
    }
    let heard = report
        .tags
        .as_ref()
        .and_then(|t| t.top())
        .map(|t| {
            format!(
                "{} ({:.0}%){}",
                t.genre,
                t.probability * 100.0,
                report.warnings()
            )
        })
        .unwrap_or_default();
    let Some(change) = &tag.change else {
        return format!("{file}: {heard}");
    };
    let quoted = |g: &Option<String>| {
        g.as_ref()
            .map_or_else(|| "none".to_owned(), |g| format!("\"{g}\""))
    };
    let action = if skipped {
        "already tagged (journal)".to_owned()
    } else if change.kept_existing_genre {
        format!(
            "kept genre {} (not written by genrescope; --overwrite replaces it)",
            quoted(&change.genre_before)
        )
    } else if change.genre_changes() {
        let verb = if dry_run { "would write" } else { "genre" };
        format!(
            "{verb} {} (was {})",
            quoted(&change.genre_after),
            quoted(&change.genre_before)
        )
    } else {
        format!("genre {} unchanged", quoted(&change.genre_after))
    };
    let mood = mood_action(change);
    let rewrite = if change.unchanged && !skipped {
        " · file unchanged, not rewritten"
    } else {
        ""
    };
    let warning = tag
        .warning
        .as_ref()
        .map_or_else(String::new, |w| format!(" · warning: {w}"));
    format!("{file}: {heard} · {action}{mood}{rewrite}{warning}")
}

/// ` · mood "Sad"` when genrescope writes the mood, ` · kept mood "Chill" (...)` when a
/// person's stays, nothing without a mood model.
fn mood_action(change: &Change) -> String {
    let writes = change.fields.iter().any(|(name, _)| name == FIELD_MOOD);
    match (&change.mood_before, &change.mood_after) {
        (Some(mood), _) if change.kept_existing_mood => {
            format!(" · kept mood \"{mood}\" (not written by genrescope; --overwrite replaces it)")
        }
        (_, Some(mood)) if writes => format!(" · mood \"{mood}\""),
        _ => String::new(),
    }
}

fn run(args: &TagArgs) -> Result<bool, String> {
    let engine = Engine::load(&args.source)?;
    let files = inputs(&args.source)?;
    if !args.dry_run {
        remove_temporaries_of_killed_runs(&files);
    }
    let done = tag_all(args, &engine, &files)?;
    let mut summary = Summary::new(OUTCOMES);
    for outcome in &done {
        summary.add(outcome.counted_as());
    }
    if let Some(xml) = &args.rekordbox_xml {
        write_library(xml, &files, &done)?;
    }
    let dry = if args.dry_run { "dry run: " } else { "" };
    eprintln!("{dry}{summary}");
    Ok(summary.count(FAILED) == 0)
}

/// Tags every file (a file its `--out` record says is done is skipped), printing one line per
/// file in the order of `files` as soon as the files before it are done; returns the outcomes
/// in that order.
fn tag_all(args: &TagArgs, engine: &Engine, files: &[Input]) -> Result<Vec<Outcome>, String> {
    let (journal, previous) = open_journal(&args.source, engine, "tag")?;
    let mut journal = JournalSink::new(journal);
    let journaled = journal.is_open();
    let mut done: Vec<Option<Outcome>> = (0..files.len()).map(|_| None).collect();
    let mut printed = 0;
    let bar = progress(if args.dry_run { "dry run" } else { "tag" }, files.len());
    engine.run(
        files,
        thread_count(args.source.threads),
        |analyzers, input| {
            let current = fingerprint(journaled, input);
            match (&previous, &current) {
                (Some(previous), Some(current)) => previous
                    .matching(input, current, &engine.model_id)
                    .and_then(journaled_outcome),
                _ => None,
            }
            .unwrap_or_else(|| tag_one(engine, args, analyzers, input))
        },
        |i, outcome| {
            if outcome.skip.is_none() {
                journal.append(|| Record {
                    path: files[i].path.display().to_string(),
                    relative: files[i].relative.clone(),
                    fingerprint: outcome.fingerprint.clone(),
                    model_id: engine.model_id.clone(),
                    report: outcome.report.clone(),
                    tag: serde_json::to_value(&outcome.tag).ok(),
                });
            }
            done[i] = Some(outcome);
            // The lines only report: the files and the journal are the record, so tagging goes
            // on when stdout fails.
            while let Some(Some(next)) = done.get(printed) {
                let line = describe(next, args.dry_run);
                bar.suspend(|| {
                    let _ = print_out(&format!("{line}\n"));
                });
                printed += 1;
            }
            bar.inc(1);
        },
    )?;
    bar.finish_and_clear();
    journal.close()?;
    Ok(done
        .into_iter()
        .map(|d| d.expect("every file done"))
        .collect())
}

/// The outcome an earlier run's `--out` record holds, if it has one.
fn journaled_outcome(record: &Record) -> Option<Outcome> {
    let tag = serde_json::from_value(record.tag.clone()?).ok()?;
    Some(Outcome {
        report: record.report.clone(),
        tag,
        fingerprint: None,
        skip: Some(Skip::Journal),
    })
}

/// Removes what killed `tag` and `untag` runs left in the folders of `files`: their temporary
/// copies ([`remove_stale_temporaries`]), each said on stderr.
pub(super) fn remove_temporaries_of_killed_runs(files: &[Input]) {
    let folders: std::collections::BTreeSet<&Path> =
        files.iter().map(|input| folder_of(&input.path)).collect();
    for folder in folders {
        for removed in remove_stale_temporaries(folder) {
            eprintln!(
                "{}: removed (a temporary copy left by a genrescope tag that was killed)",
                removed.display()
            );
        }
    }
}

/// The rekordbox track of a tagged (or, in a dry run, analysed) file.
fn track(path: &Path, report: &FileReport, tag: &TagResult) -> Option<Track> {
    if tag.error.is_some() {
        return None;
    }
    let tags = report.tags.as_ref()?;
    let genre = tag.change.as_ref()?.genre_after.clone()?;
    Some(Track {
        path: path.to_owned(),
        name: tag.title.clone().unwrap_or_else(|| {
            path.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        }),
        artist: tag.artist.clone(),
        genre,
        comments: comments(report, tags),
        size: std::fs::metadata(path).map_or(0, |m| m.len()),
        seconds: tags.seconds,
    })
}

/// A track's rekordbox `Comments` (what rekordbox's search reads): the top three genres, then
/// with a mood model the mood and the styles DJs name:
/// `Electronic 61%, Pop 20%, Rock 9% · Mood: Happy / Energetic · Styles: House, Disco`.
fn comments(report: &FileReport, tags: &crate::tags::Tags) -> String {
    let mut comments = tags.summary_line(3);
    if let Some(mood) = &report.mood {
        comments += &format!(" · Mood: {}", mood.name);
    }
    let styles = report.heard.names(Category::Style);
    if !styles.is_empty() {
        comments += &format!(" · Styles: {styles}");
    }
    comments
}

/// Writes the rekordbox library of the files tagged (or, in a dry run, analysed) through a
/// temporary file renamed into place. Files rekordbox does not import are left out, each said
/// on stderr.
fn write_library(path: &Path, files: &[Input], done: &[Outcome]) -> Result<(), String> {
    let (tracks, left_out): (Vec<Track>, Vec<Track>) = files
        .iter()
        .zip(done)
        .filter_map(|(input, outcome)| track(&input.path, &outcome.report, &outcome.tag))
        .partition(|track| rekordbox::imports(&track.path));
    for track in &left_out {
        eprintln!(
            "{}: not in the rekordbox library: {}",
            track.path.display(),
            rekordbox::IMPORTED
        );
    }
    let error = |e: std::io::Error| format!("--rekordbox-xml {}: {e}", path.display());
    let temp = path.with_extension("xml.genrescope.tmp");
    let mut file = std::fs::File::create(&temp).map_err(error)?;
    rekordbox::write(&mut file, &tracks).map_err(error)?;
    file.flush().map_err(error)?;
    file.sync_all().map_err(error)?;
    std::fs::rename(&temp, path).map_err(error)?;
    eprintln!(
        "rekordbox library: {} ({} tracks)",
        path.display(),
        tracks.len()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A report whose top genres are Hip-Hop then Rock, with these style tags.
    fn report(styles: &[&str]) -> FileReport {
        let tag = |genre: &str, probability: f32| serde_json::json!({"genre": genre, "id": genre, "probability": probability, "label": genre});
        let styles: Vec<_> = styles
            .iter()
            .map(|s| serde_json::json!({"tag": s, "probability": 0.5}))
            .collect();
        serde_json::from_value(serde_json::json!({
            "file": "a.mp3",
            "tags": {"source": "a.mp3", "model": "m", "seconds": 30.0, "windows": 10,
                     "genres": [tag("Hip-Hop", 0.6), tag("Rock", 0.3)]},
            "styles": styles,
        }))
        .unwrap()
    }

    fn genres(styles: &[&str], arguments: &[&str]) -> Vec<String> {
        let args =
            TagArgs::try_parse_from(["genrescope tag", "a.mp3"].iter().chain(arguments)).unwrap();
        wanted(&report(styles), &args, "m@1").unwrap().genres
    }

    #[test]
    fn styles_that_repeat_a_genre_or_each_other_are_left_out() {
        assert_eq!(
            genres(
                &["Hip-Hop", "hip hop", "funk", "Funk", "soul"],
                &["--styles", "2"]
            ),
            ["Hip-Hop", "funk", "soul"]
        );
        assert_eq!(
            genres(&["rock", "indie"], &["--top", "2", "--styles", "1"]),
            ["Hip-Hop", "Rock", "indie"]
        );
        assert_eq!(genres(&["hiphop"], &["--styles", "3"]), ["Hip-Hop"]);
    }

    #[test]
    fn audioset_styles_come_first_and_instruments_only_when_asked() {
        let sound = |name: &str, probability| Sound {
            name: name.into(),
            audioset: name.into(),
            probability,
        };
        let mut report = report(&["dance", "House"]);
        report.heard.styles = vec![sound("House", 0.6), sound("Disco", 0.4)];
        report.heard.instruments = vec![sound("Synthesizer", 0.5)];
        report.mood = crate::moods::MoodReading::new(&["q1".into(), "q3".into()], &[0.7, 0.3]);
        let args = |more: &[&str]| {
            TagArgs::try_parse_from(["genrescope tag", "a.mp3"].iter().chain(more)).unwrap()
        };
        let wanted_with = |more: &[&str]| wanted(&report, &args(more), "m@1").unwrap();
        let styled = wanted_with(&["--styles", "3"]);
        // `House` once, from AudioSet; then the genre model's own tag.
        assert_eq!(styled.genres, ["Hip-Hop", "House", "Disco", "dance"]);
        assert_eq!(styled.mood.as_deref(), Some("Happy / Energetic"));
        let field = |w: &Wanted, name: &str| {
            w.fields
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(field(&styled, FIELD_INSTRUMENTS), None);
        let asked = wanted_with(&["--instruments"]);
        assert_eq!(asked.genres, ["Hip-Hop"]);
        assert_eq!(
            field(&asked, FIELD_INSTRUMENTS).as_deref(),
            Some("Synthesizer 50%")
        );
        assert_eq!(
            field(&asked, FIELD_VOICES),
            None,
            "no voice heard, no field"
        );
    }
}

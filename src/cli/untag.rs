//! `genrescope untag <files|folders>`: undoes what `genrescope tag` wrote
//! ([`crate::tagging::TagFile::plan_undo`]): the genre goes back to what it was, our fields
//! go, the audio and every other tag stay. One line per file on stdout and a [`Summary`] on
//! stderr. No model is loaded: it reads and writes tags only.

use clap::Parser;

use super::files::{input_files, FileArgs};
use super::summary::Summary;
use super::tag::remove_temporaries_of_killed_runs;
use super::{print_out, run_command, Input};
use crate::tagging::{TagFile, Undo};

/// `genrescope untag --help` shows these after the options.
const EXAMPLES: &str = "\
Examples:
  genrescope untag music/ --dry-run     what would change, nothing written
  genrescope untag music/               genres back as they were, GENRESCOPE_* fields removed

A genre that still says what genrescope wrote goes back to the genre it replaced (--overwrite
remembered it) or is removed; a genre someone changed since is kept. Files are rewritten as
`tag` rewrites them (a temporary copy renamed over the original; audio and other tags copied
unchanged); a file with nothing of genrescope's is not rewritten. The last line on stderr
counts the files: untagged, unchanged, failed. Exit code 0: no file failed, 1: some failed,
2: nothing could run.";

/// Removes what `genrescope tag` wrote into files' tags.
#[derive(Debug, Parser)]
#[command(name = "genrescope untag", after_help = EXAMPLES)]
pub struct UntagArgs {
    #[command(flatten)]
    pub files: FileArgs,
    /// Print what would change; write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// The outcomes the closing [`Summary`] counts, in its order.
const OUTCOMES: &[&str] = &[UNTAGGED, UNCHANGED, FAILED];
/// genrescope's tagging undone (or, in a dry run, to be undone).
const UNTAGGED: &str = "untagged";
/// Nothing of genrescope's in the file: not rewritten.
const UNCHANGED: &str = "unchanged";
const FAILED: &str = "failed";

/// Runs `untag` on already-split arguments (after the `untag` word); returns the exit code.
pub fn untag(args: impl IntoIterator<Item = String>) -> i32 {
    run_command::<UntagArgs>("untag", args, run)
}

fn run(args: &UntagArgs) -> Result<bool, String> {
    let files = input_files(&args.files)?;
    if !args.dry_run {
        remove_temporaries_of_killed_runs(&files);
    }
    let mut summary = Summary::new(OUTCOMES);
    for input in &files {
        let (line, outcome) = match untag_one(input, args.dry_run) {
            Ok((undo, _)) if undo.is_nothing() => (describe(&undo, args.dry_run), UNCHANGED),
            Ok((undo, None)) => (describe(&undo, args.dry_run), UNTAGGED),
            Ok((undo, Some(note))) => {
                let line = describe(&undo, args.dry_run);
                (format!("{line} · warning: {note}"), UNTAGGED)
            }
            Err(error) => (format!("error: {error}"), FAILED),
        };
        summary.add(outcome);
        print_out(&format!("{}: {line}\n", input.path.display()))?;
    }
    let dry = if args.dry_run { "dry run: " } else { "" };
    eprintln!("{dry}{summary}");
    Ok(summary.count(FAILED) == 0)
}

/// Plans the undo of one file and (unless `dry_run`) writes it; with it, what the rewrite
/// does to the file's other hard links, if it has any.
fn untag_one(input: &Input, dry_run: bool) -> Result<(Undo, Option<String>), String> {
    let file = TagFile::open(&input.path).map_err(|e| e.to_string())?;
    let undo = file.plan_undo();
    let note = file.hard_link_note().filter(|_| !undo.is_nothing());
    if !dry_run {
        file.undo(&undo).map_err(|e| e.to_string())?;
    }
    Ok((undo, note))
}

/// What `untag` says about a file (after its name).
fn describe(undo: &Undo, dry_run: bool) -> String {
    if undo.is_nothing() {
        return "nothing of genrescope's, not rewritten".to_owned();
    }
    let quoted = |g: &Option<String>| {
        g.as_ref()
            .map_or_else(|| "none".to_owned(), |g| format!("\"{g}\""))
    };
    let restored = |field: &str, after: &Option<String>, before: &Option<String>| {
        format!("{field} {} (was {})", quoted(after), quoted(before))
    };
    let genre = if undo.restores_genre {
        restored("genre", &undo.genre_after, &undo.genre_before)
    } else {
        format!(
            "kept genre {} (not genrescope's)",
            quoted(&undo.genre_before)
        )
    };
    let mood = if undo.restores_mood {
        format!(
            " · {}",
            restored("mood", &undo.mood_after, &undo.mood_before)
        )
    } else {
        String::new()
    };
    let verb = if dry_run { "would remove" } else { "removed" };
    format!("{genre}{mood} · {verb} {}", undo.removed_fields.join(", "))
}

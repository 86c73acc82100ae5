//! Which files a command reads: the files named on the command line and the audio files in the
//! folders named there, each file once.
//!
//! Folders are walked with `walkdir`. Symbolic links to folders are not followed unless asked
//! (`--follow-links`); when they are, a link back to a folder above it (a loop) is reported
//! and not entered (walkdir compares (device, inode) with every ancestor). A file reached
//! twice, through a link, a hard link or two arguments, is kept once: the first path by
//! command-line order, then path order. `--exclude` globs ([`Exclude`]) leave out files and
//! whole folders. What is left out is said on stderr, never silently.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use clap::Args;
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use walkdir::{DirEntry, WalkDir};

/// The files a command reads (`analyze`, `tag`, `untag`).
#[derive(Debug, Clone, Args)]
pub struct FileArgs {
    /// Audio files, and folders searched recursively for audio files.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Enter symbolic links to folders (not followed by default). A link back to a folder
    /// above it is detected and not entered; a file reached twice is processed once.
    #[arg(long)]
    pub follow_links: bool,
    /// Leave out files and folders whose path below the folder named on the command line, or
    /// whose name, matches GLOB (`*`, `?`, `[ab]`, `{a,b}`, `**`); repeatable.
    /// `--exclude 'Samples' --exclude '*.wav'`.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
}

/// File extensions picked up inside folders (MP4/M4A: AAC, which the decoder reads).
pub const AUDIO_EXTENSIONS: &[&str] = &[
    "wav", "flac", "ogg", "mp3", "aif", "aiff", "au", "snd", "m4a", "mp4",
];

/// Audio formats people keep in music folders that genrescope does not decode, by extension,
/// with the name a skip notice gives them.
const UNDECODED_AUDIO: &[(&str, &str)] = &[
    ("opus", "Opus"),
    ("alac", "ALAC"),
    ("wma", "WMA"),
    ("ape", "Monkey's Audio"),
    ("wv", "WavPack"),
    ("mpc", "Musepack"),
    ("aac", "raw AAC (ADTS)"),
    ("dsf", "DSD"),
];

/// An audio file to process, with the name the shard hash reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// As found: the argument itself, or the argument's folder joined with the relative path.
    pub path: PathBuf,
    /// `/`-separated path relative to the folder named on the command line (a file named
    /// directly: its file name). Stable across machines that mount the catalog elsewhere.
    pub relative: String,
}

/// The files of a run, and what was left out of the named folders and why (one line each, for
/// stderr).
#[derive(Debug, Default)]
pub struct Collected {
    pub files: Vec<Input>,
    pub notes: Vec<String>,
}

/// The files of `args`, each file once ([`collect_files`]), or an error when there are none or
/// a glob is wrong. What the folders held that is left out is said on stderr.
pub fn input_files(args: &FileArgs) -> Result<Vec<Input>, String> {
    let exclude = Exclude::new(&args.exclude)?;
    let collected = collect_files(&args.paths, args.follow_links, &exclude);
    for note in &collected.notes {
        eprintln!("{note}");
    }
    if collected.files.is_empty() {
        return Err("no audio files found".into());
    }
    Ok(collected.files)
}

/// `--exclude`: globs of the files and folders a run leaves out.
#[derive(Debug, Clone, Default)]
pub struct Exclude {
    globs: GlobSet,
}

impl Exclude {
    /// The globs, as `globset` reads them (`*` and `?` do not cross a `/`; `**` does).
    pub fn new(globs: &[String]) -> Result<Self, String> {
        let mut set = GlobSetBuilder::new();
        for glob in globs {
            let glob = GlobBuilder::new(glob)
                .literal_separator(true)
                .build()
                .map_err(|e| format!("--exclude {glob:?}: {e}"))?;
            set.add(glob);
        }
        let globs = set.build().map_err(|e| format!("--exclude: {e}"))?;
        Ok(Self { globs })
    }

    /// Whether a glob matches `relative` (a `/`-separated path below the folder named on the
    /// command line) or its last part, the file or folder name.
    pub fn matches(&self, relative: &str) -> bool {
        let name = relative.rsplit('/').next().unwrap_or(relative);
        self.globs.is_match(relative) || self.globs.is_match(name)
    }
}

/// Files named directly (a missing one is reported later like any unreadable file), and audio
/// files in named folders (recursively, sorted by path), each file once, none that `exclude`
/// matches. `follow_links`: enter symbolic links to folders (loops are detected and not
/// entered).
pub fn collect_files(paths: &[PathBuf], follow_links: bool, exclude: &Exclude) -> Collected {
    let mut collected = Collected::default();
    let mut seen = HashSet::new();
    let mut other_files = 0_usize;
    let mut excluded = 0_usize;
    for path in paths {
        let found = if path.is_dir() {
            let walked = Walk {
                root: path,
                follow_links,
                exclude,
            };
            let mut found = walked.files(&mut collected.notes, &mut other_files, &mut excluded);
            found.sort();
            found
                .into_iter()
                .map(|file| Input {
                    relative: relative_name(&file, path),
                    path: file,
                })
                .collect()
        } else {
            let relative = path
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            if exclude.matches(&relative) {
                excluded += 1;
                continue;
            }
            vec![Input {
                relative,
                path: path.clone(),
            }]
        };
        for input in found {
            // A missing file has no identity and is kept, to be reported as missing.
            match file_id(&input.path) {
                Some(id) if !seen.insert(id) => collected.notes.push(format!(
                    "{}: skipped: the same file was reached by another path",
                    input.path.display()
                )),
                _ => collected.files.push(input),
            }
        }
    }
    if other_files > 0 {
        collected.notes.push(format!(
            "skipped {other_files} file(s) in folders that are not audio by their extension"
        ));
    }
    if excluded > 0 {
        collected.notes.push(format!(
            "excluded {excluded} file(s) or folder(s) (--exclude)"
        ));
    }
    collected
}

fn relative_name(file: &Path, root: &Path) -> String {
    let relative = file.strip_prefix(root).unwrap_or(file);
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// One named folder's walk.
struct Walk<'a> {
    root: &'a Path,
    follow_links: bool,
    exclude: &'a Exclude,
}

impl Walk<'_> {
    /// The audio files under the root. What is left out goes into `notes`, except files that
    /// are not audio, which are only counted into `other_files`, and what `--exclude` matches
    /// (a folder is not entered), counted into `excluded`.
    fn files(
        &self,
        notes: &mut Vec<String>,
        other_files: &mut usize,
        excluded: &mut usize,
    ) -> Vec<PathBuf> {
        let entries = WalkDir::new(self.root)
            .follow_links(self.follow_links)
            .into_iter()
            .filter_entry(|entry| {
                let keep = !self.is_excluded(entry);
                *excluded += usize::from(!keep);
                keep
            });
        let mut found = Vec::new();
        for entry in entries {
            match entry {
                Ok(entry) => {
                    if let Some(path) = audio_file(&entry, notes, other_files) {
                        found.push(path);
                    }
                }
                Err(e) => notes.push(walk_error(&e)),
            }
        }
        found
    }

    fn is_excluded(&self, entry: &DirEntry) -> bool {
        entry.depth() > 0
            && self
                .exclude
                .matches(&relative_name(entry.path(), self.root))
    }
}

/// The entry's path when it is an audio file (or a link to one). What is left out goes into
/// `notes`, except files that are not audio, which are only counted into `other_files`.
fn audio_file(
    entry: &DirEntry,
    notes: &mut Vec<String>,
    other_files: &mut usize,
) -> Option<PathBuf> {
    let path = entry.path();
    let file_type = entry.file_type();
    // Not following links, a link is reported by what it points to (`metadata` follows).
    let is_file = if file_type.is_symlink() {
        match std::fs::metadata(path) {
            Ok(target) if target.is_dir() => {
                notes.push(format!(
                    "{}: skipped: a link to a folder (--follow-links follows them)",
                    path.display()
                ));
                return None;
            }
            Ok(target) => target.is_file(),
            Err(e) => {
                notes.push(format!("{}: skipped: broken link ({e})", path.display()));
                return None;
            }
        }
    } else {
        file_type.is_file()
    };
    if !is_file {
        return None;
    }
    match classify(path) {
        Kind::Audio => return Some(path.to_owned()),
        Kind::Undecoded(format) => notes.push(format!(
            "{}: skipped: {format} is not decoded by genrescope",
            path.display()
        )),
        Kind::Other => *other_files += 1,
    }
    None
}

fn walk_error(e: &walkdir::Error) -> String {
    let path = e
        .path()
        .map_or_else(String::new, |p| p.display().to_string());
    match e.loop_ancestor() {
        Some(ancestor) => format!(
            "{path}: skipped: a link loop (back to {}), not followed again",
            ancestor.display()
        ),
        None => format!(
            "{path}: skipped: {}",
            e.io_error()
                .map_or_else(|| e.to_string(), ToString::to_string)
        ),
    }
}

/// What a file in a folder is, by its extension.
enum Kind {
    Audio,
    /// Audio in a format genrescope does not decode (its name).
    Undecoded(&'static str),
    Other,
}

fn classify(path: &Path) -> Kind {
    let Some(extension) = path.extension().and_then(|e| e.to_str()) else {
        return Kind::Other;
    };
    let extension = extension.to_ascii_lowercase();
    if AUDIO_EXTENSIONS.contains(&extension.as_str()) {
        return Kind::Audio;
    }
    UNDECODED_AUDIO
        .iter()
        .find(|(e, _)| *e == extension)
        .map_or(Kind::Other, |(_, name)| Kind::Undecoded(name))
}

/// What makes two paths one file: (device, inode) on Unix, the canonical path elsewhere.
#[cfg(unix)]
fn file_id(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt as _;
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.dev(), meta.ino()))
}

/// What makes two paths one file: (device, inode) on Unix, the canonical path elsewhere.
#[cfg(not(unix))]
fn file_id(path: &Path) -> Option<PathBuf> {
    std::fs::canonicalize(path).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(collected: &Collected) -> Vec<&str> {
        collected
            .files
            .iter()
            .map(|f| f.relative.as_str())
            .collect()
    }

    #[test]
    fn relative_names_use_slashes_and_a_file_named_directly_is_its_file_name() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path().to_owned();
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("sub/b.flac"), b"").unwrap();
        std::fs::write(dir.join("a.MP3"), b"").unwrap();
        std::fs::write(dir.join("notes.txt"), b"").unwrap();
        std::fs::write(dir.join("c.opus"), b"").unwrap();
        let collected = collect_files(
            &[dir.clone(), PathBuf::from("x/y/z.wav")],
            false,
            &Exclude::default(),
        );
        assert_eq!(names(&collected), ["a.MP3", "sub/b.flac", "z.wav"]);
        assert_eq!(collected.files[1].path, dir.join("sub/b.flac"));
        let notes = collected.notes.join("\n");
        assert!(
            notes.contains("c.opus: skipped: Opus is not decoded"),
            "{notes}"
        );
        assert!(notes.contains("skipped 1 file(s)"), "{notes}");
    }

    /// `lib/sub/deeper/loop -> ..` and `lib/again -> .` (two loops), a link to a folder
    /// outside, a link to a file and a hard link: every file once, followed or not.
    #[cfg(unix)]
    #[test]
    fn link_loops_end_and_a_file_reached_twice_is_kept_once() {
        use std::os::unix::fs::symlink;
        let temporary = tempfile::tempdir().unwrap();
        let lib = temporary.path().join("lib");
        let outside = temporary.path().join("outside");
        std::fs::create_dir_all(lib.join("sub/deeper")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(lib.join("sub/deeper/a.mp3"), b"a").unwrap();
        std::fs::write(lib.join("b.flac"), b"b").unwrap();
        std::fs::write(outside.join("c.wav"), b"c").unwrap();
        symlink("..", lib.join("sub/deeper/loop")).unwrap();
        symlink(".", lib.join("again")).unwrap();
        symlink(&outside, lib.join("outside")).unwrap();
        symlink("b.flac", lib.join("d-link.flac")).unwrap();
        std::fs::hard_link(lib.join("b.flac"), lib.join("d-hard.flac")).unwrap();

        let plain = collect_files(std::slice::from_ref(&lib), false, &Exclude::default());
        assert_eq!(names(&plain), ["b.flac", "sub/deeper/a.mp3"]);
        let notes = plain.notes.join("\n");
        assert!(
            notes.contains("outside: skipped: a link to a folder"),
            "{notes}"
        );
        assert!(
            notes.contains("d-hard.flac: skipped: the same file"),
            "{notes}"
        );

        let followed = collect_files(
            &[lib.clone(), lib.join("b.flac")],
            true,
            &Exclude::default(),
        );
        assert_eq!(
            names(&followed),
            ["b.flac", "outside/c.wav", "sub/deeper/a.mp3"]
        );
        let notes = followed.notes.join("\n");
        assert!(notes.contains("a link loop"), "{notes}");
    }

    #[test]
    fn excluded_files_and_folders_are_left_out_by_path_or_name() {
        let temporary = tempfile::tempdir().unwrap();
        let dir = temporary.path().to_owned();
        for file in [
            "a.mp3",
            "b.wav",
            "Samples/kick.flac",
            "live/Samples/snare.flac",
            "live/set.mp3",
            "live/set (edit).mp3",
        ] {
            std::fs::create_dir_all(dir.join(file).parent().unwrap()).unwrap();
            std::fs::write(dir.join(file), b"").unwrap();
        }
        let exclude = |globs: &[&str]| {
            let globs: Vec<String> = globs.iter().map(ToString::to_string).collect();
            let named = [dir.clone(), dir.join("b.wav")];
            let collected = collect_files(&named, false, &Exclude::new(&globs).unwrap());
            let notes = collected.notes.join("\n");
            (
                collected
                    .files
                    .into_iter()
                    .map(|f| f.relative)
                    .collect::<Vec<_>>(),
                notes,
            )
        };
        let (all, notes) = exclude(&[]);
        assert_eq!(all.len(), 6, "{all:?}");
        assert!(!notes.contains("excluded"), "{notes}");
        // A folder by its name anywhere, files by their name: not entered, not kept.
        let (kept, notes) = exclude(&["Samples", "*.wav"]);
        assert_eq!(kept, ["a.mp3", "live/set (edit).mp3", "live/set.mp3"]);
        assert!(notes.contains("excluded 4 file(s) or folder(s)"), "{notes}");
        // A path below the named folder; `*` does not cross `/`, `**` does.
        let (kept, _) = exclude(&["live/*.mp3"]);
        assert_eq!(kept.len(), 4, "{kept:?}");
        assert!(kept.contains(&"live/Samples/snare.flac".to_owned()));
        let (kept, _) = exclude(&["live/**", "*(edit)*"]);
        assert_eq!(kept, ["Samples/kick.flac", "a.mp3", "b.wav"]);
        assert!(Exclude::new(&["a[".to_owned()]).is_err());
    }
}

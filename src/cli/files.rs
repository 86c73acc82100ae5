//! Which files a command reads: the files named on the command line and the audio files in the
//! folders named there, each file once.
//!
//! Folders are walked with `walkdir`. Symbolic links to folders are not followed unless asked
//! (`--follow-links`); when they are, a link back to a folder above it (a loop) is reported
//! and not entered (walkdir compares (device, inode) with every ancestor). A file reached
//! twice, through a link, a hard link or two arguments, is kept once: the first path by
//! command-line order, then path order. What is left out is said on stderr, never silently.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

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

/// Files named directly (a missing one is reported later like any unreadable file), and audio
/// files in named folders (recursively, sorted by path), each file once. `follow_links`:
/// enter symbolic links to folders (loops are detected and not entered).
pub fn collect_files(paths: &[PathBuf], follow_links: bool) -> Collected {
    let mut collected = Collected::default();
    let mut seen = HashSet::new();
    let mut other_files = 0_usize;
    for path in paths {
        let found = if path.is_dir() {
            let mut found = walk(path, follow_links, &mut collected.notes, &mut other_files);
            found.sort();
            found
                .into_iter()
                .map(|file| Input {
                    relative: relative_name(&file, path),
                    path: file,
                })
                .collect()
        } else {
            vec![Input {
                relative: path
                    .file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
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

/// The audio files under `root`. What is left out goes into `notes`, except files that are
/// not audio, which are only counted into `other_files`.
fn walk(
    root: &Path,
    follow_links: bool,
    notes: &mut Vec<String>,
    other_files: &mut usize,
) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in WalkDir::new(root).follow_links(follow_links) {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                notes.push(walk_error(&e));
                continue;
            }
        };
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
                    continue;
                }
                Ok(target) => target.is_file(),
                Err(e) => {
                    notes.push(format!("{}: skipped: broken link ({e})", path.display()));
                    continue;
                }
            }
        } else {
            file_type.is_file()
        };
        if !is_file {
            continue;
        }
        match classify(path) {
            Kind::Audio => found.push(path.to_owned()),
            Kind::Undecoded(format) => notes.push(format!(
                "{}: skipped: {format} is not decoded by genrescope",
                path.display()
            )),
            Kind::Other => *other_files += 1,
        }
    }
    found
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
        let collected = collect_files(&[dir.clone(), PathBuf::from("x/y/z.wav")], false);
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

        let plain = collect_files(std::slice::from_ref(&lib), false);
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

        let followed = collect_files(&[lib.clone(), lib.join("b.flac")], true);
        assert_eq!(
            names(&followed),
            ["b.flac", "outside/c.wav", "sub/deeper/a.mp3"]
        );
        let notes = followed.notes.join("\n");
        assert!(notes.contains("a link loop"), "{notes}");
    }
}

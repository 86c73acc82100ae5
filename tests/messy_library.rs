//! A DJ library as people have them, made at test time by ffmpeg and this file: ID3v1 beside
//! ID3v2.3, ID3v2.4, an APE tag (lofty writes it), covers, VBR MP3, 24-bit/96 kHz FLAC, 8 kHz mono WAV, AIFF with a person's
//! genre, M4A, Ogg Vorbis, non-ASCII and `#%&?` names, a link loop, a hard link, a zero-byte
//! file, a truncated MP3 and text named `.mp3`. `analyze`, `tag`, a second `tag`, a `tag`
//! killed with SIGKILL while it writes, and `untag` run on it in turn; after each, every file's
//! decoded audio and every tag but the genre and genrescope's fields are as they were, and
//! `untag` leaves the genres as they were too.

mod harness;
mod media;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use genrescope::tagging::{TagFile, OUR_FIELDS};
use media::{decoded, ffmpeg, make, other_tags, state};

/// The audio files: name and what ffmpeg is asked for beyond [`media::make`]'s 3-s stereo file
/// with a title, an artist and (MP3, FLAC, M4A) a cover.
const AUDIO: &[(&str, &[&str])] = &[
    (
        "v1 and v2.3 cover.mp3",
        &[
            "-write_id3v1",
            "1",
            "-metadata",
            "album=An album",
            "-metadata",
            "track=3",
        ],
    ),
    (
        "Ünïcødé #%&? v2.4 VBR.mp3",
        &["-id3v2_version", "4", "-q:a", "4"],
    ),
    ("hi-res 24-96.flac", &["-ar", "96000", "-sample_fmt", "s32"]),
    ("mono 8 kHz.wav", &["-ar", "8000", "-ac", "1"]),
    ("a person's genre.aiff", &["-metadata", "genre=Techno"]),
    ("cover.m4a", &[]),
    ("vorbis.ogg", &[]),
    ("APE tag.mp3", &[]),
];
const TRUNCATED: &str = "truncated.mp3";
/// Files that cannot be tagged: their bytes never change.
const BROKEN: &[&str] = &["empty.mp3", "text.mp3"];

/// What must not change in an audio file: its decoded audio, its other tags, its last 128 bytes
/// (an MP3's ID3v1 tag), and its genre (compared after `untag`).
#[derive(Debug, PartialEq)]
struct Kept {
    audio: Vec<u8>,
    tags: Vec<String>,
    tail: Vec<u8>,
    genres: Vec<String>,
}

impl Kept {
    fn of(path: &Path) -> Self {
        let bytes = std::fs::read(path).unwrap();
        let tail = if path.extension().is_some_and(|e| e == "mp3") {
            bytes[bytes.len() - 128..].to_vec()
        } else {
            Vec::new()
        };
        Self {
            audio: decoded(path),
            tags: other_tags(path),
            tail,
            genres: TagFile::open(path).unwrap().genres(),
        }
    }
}

struct Library {
    _temporary: tempfile::TempDir,
    root: PathBuf,
    /// The audio files (truncated one included) as made.
    made: Vec<(PathBuf, Kept)>,
    /// The broken files' bytes and modification times.
    broken: Vec<(PathBuf, (Vec<u8>, std::time::SystemTime))>,
}

impl Library {
    fn make() -> Self {
        let temporary = tempfile::Builder::new()
            .prefix("genrescope-messy-")
            .tempdir()
            .unwrap();
        let root = temporary.path().join("library");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        let mut audio: Vec<PathBuf> = AUDIO
            .iter()
            .map(|(name, extra)| make(&root, name, extra))
            .collect();
        add_ape_tag(&root.join("APE tag.mp3"));
        // The first 4 of 10 s.
        let whole = temporary.path().join("whole.mp3");
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "sine=duration=10",
            whole.to_str().unwrap(),
        ]);
        let bytes = std::fs::read(whole).unwrap();
        std::fs::write(root.join(TRUNCATED), &bytes[..bytes.len() * 2 / 5]).unwrap();
        audio.push(root.join(TRUNCATED));
        std::fs::write(root.join(BROKEN[0]), b"").unwrap();
        std::fs::write(root.join(BROKEN[1]), b"a text file that calls itself MP3\n").unwrap();
        std::fs::hard_link(&audio[2], root.join("sub/hard link.flac")).unwrap();
        std::os::unix::fs::symlink("..", root.join("sub/loop")).unwrap();
        Self {
            made: audio.iter().map(|p| (p.clone(), Kept::of(p))).collect(),
            broken: BROKEN
                .iter()
                .map(|n| (root.join(n), state(&root.join(n))))
                .collect(),
            root,
            _temporary: temporary,
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        harness::provide_onnx_runtime();
        Command::new(env!("CARGO_BIN_EXE_genrescope"))
            .args(args)
            .arg(&self.root)
            .output()
            .expect("run genrescope")
    }

    /// Audio and other tags as made, broken files untouched, no temporary file left; with
    /// `genres_too`, the genres as made as well, and none of genrescope's fields.
    fn assert_intact(&self, step: &str, genres_too: bool) {
        for (path, made) in &self.made {
            let now = Kept::of(path);
            let name = path.file_name().unwrap().to_string_lossy();
            assert_eq!(
                now.audio, made.audio,
                "{step}: {name}: decoded audio changed"
            );
            assert_eq!(now.tags, made.tags, "{step}: {name}: other tags changed");
            assert_eq!(now.tail, made.tail, "{step}: {name}: ID3v1 changed");
            if genres_too {
                assert_eq!(now.genres, made.genres, "{step}: {name}: genre");
                let file = TagFile::open(path).unwrap();
                for field in OUR_FIELDS {
                    assert_eq!(file.field(field), None, "{step}: {name}: {field} left");
                }
            }
        }
        for (path, before) in &self.broken {
            assert_eq!(&state(path), before, "{step}: {} touched", path.display());
        }
        assert_eq!(self.temporaries(), Vec::<PathBuf>::new(), "{step}");
    }

    /// genrescope's temporary copies in the library.
    fn temporaries(&self) -> Vec<PathBuf> {
        let mut found = Vec::new();
        for folder in [self.root.clone(), self.root.join("sub")] {
            for entry in std::fs::read_dir(folder).unwrap() {
                let path = entry.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                if name.starts_with('.') && name.contains(".genrescope-") {
                    found.push(path);
                }
            }
        }
        found
    }

    /// Every file's bytes and modification time.
    fn states(&self) -> Vec<(Vec<u8>, std::time::SystemTime)> {
        self.made.iter().map(|(path, _)| state(path)).collect()
    }

    /// Starts `tag` (rewriting every file) and kills it with SIGKILL as soon as one of its
    /// temporary copies shows; returns whether one was left behind. Tries a few times: the
    /// copy of each file lives only milliseconds.
    fn kill_tag_while_it_writes(&self) -> bool {
        harness::provide_onnx_runtime();
        for attempt in 0..6 {
            let top = (2 + attempt % 2).to_string();
            let mut child = Command::new(env!("CARGO_BIN_EXE_genrescope"))
                .args(["tag", "--overwrite", "--threads", "1", "--top", &top])
                .arg(&self.root)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let start = Instant::now();
            while child.try_wait().unwrap().is_none() {
                if !self.temporaries().is_empty() {
                    child.kill().unwrap();
                    child.wait().unwrap();
                    if !self.temporaries().is_empty() {
                        return true;
                    }
                    break;
                }
                assert!(
                    start.elapsed() < Duration::from_secs(300),
                    "tag never ended"
                );
            }
        }
        false
    }
}

/// Appends an APEv2 tag (as foobar2000 and Mp3tag write them) with a title and a comment.
fn add_ape_tag(path: &Path) {
    use lofty::ape::{ApeItem, ApeTag};
    use lofty::tag::{ItemValue, TagExt};
    let mut tag = ApeTag::new();
    for (key, value) in [("Title", "An APE title"), ("Comment", "from Mp3tag")] {
        tag.insert(ApeItem::new(key.to_owned(), ItemValue::Text(value.to_owned())).unwrap());
    }
    tag.save_to_path(path, lofty::config::WriteOptions::default())
        .unwrap();
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The closing summary line of `tag` or `untag`.
fn summary(out: &Output) -> String {
    text(&out.stderr)
        .lines()
        .last()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn a_messy_library_is_analysed_tagged_and_untagged_without_damage() {
    let library = Library::make();
    let ape = &library.made[AUDIO.len() - 1].1.tags;
    assert!(ape.iter().any(|t| t.contains("An APE title")), "{ape:?}");
    analyze_reads_each_file_once(&library);
    tag_twice_rewrites_once(&library);
    a_killed_tag_damages_nothing(&library);
    untag_restores_the_library(&library);
}

/// `analyze --follow-links`: every file once (the hard link and the loop are not followed
/// twice), the bad ones as errors by name.
fn analyze_reads_each_file_once(library: &Library) {
    let all = AUDIO.len() + 1 + BROKEN.len();
    let analyzed = library.run(&["analyze", "--format", "json", "--follow-links"]);
    assert_eq!(
        analyzed.status.code(),
        Some(1),
        "{}",
        text(&analyzed.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&analyzed.stdout).unwrap();
    let files = json["files"].as_array().unwrap();
    assert_eq!(
        files.len(),
        all,
        "each file once (hard link, loop): {json:#}"
    );
    let stderr = text(&analyzed.stderr);
    assert!(stderr.contains("a link loop"), "{stderr}");
    assert!(
        stderr.contains("hard link.flac: skipped: the same file"),
        "{stderr}"
    );
    let by_name = |name: &str| {
        files
            .iter()
            .find(|f| f["file"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("{name} missing"))
    };
    assert!(by_name("empty.mp3")["error"]
        .as_str()
        .unwrap()
        .contains("empty file"));
    assert!(by_name("text.mp3")["error"].is_string());
    let missing = by_name(TRUNCATED)["missing_seconds"].as_f64();
    assert!(
        missing.is_some_and(|s| (5.5..6.5).contains(&s)),
        "{missing:?} s missing"
    );
    for (name, _) in AUDIO.iter().chain([&(TRUNCATED, &[][..])]) {
        assert!(
            by_name(name)["error"].is_null(),
            "{name}: {}",
            by_name(name)
        );
    }
    library.assert_intact("analyze", true);
}

/// `tag`, then `tag` again: nothing rewritten the second time but the hard link's file.
fn tag_twice_rewrites_once(library: &Library) {
    let tagged = library.run(&["tag"]);
    assert_eq!(tagged.status.code(), Some(1), "{}", text(&tagged.stderr));
    assert_eq!(
        summary(&tagged),
        "tagged 8 · kept 1 · unchanged 0 · failed 2 · skipped 0",
        "{}",
        text(&tagged.stdout)
    );
    let out = text(&tagged.stdout);
    assert!(
        out.contains("24-96.flac: ") && out.contains("warning: 1 other hard link(s)"),
        "{out}"
    );
    library.assert_intact("tag", false);
    for (path, _) in &library.made {
        let genres = TagFile::open(path).unwrap().genres();
        assert!(!genres.is_empty(), "{}: no genre", path.display());
    }

    // The FLAC's tagged copy replaced it under its name: the hard link kept the file as it was,
    // now a file of its own, tagged by the second run. Nothing else is rewritten.
    let before = library.states();
    let again = library.run(&["tag"]);
    assert_eq!(
        summary(&again),
        "tagged 1 · kept 1 · unchanged 8 · failed 2 · skipped 0"
    );
    assert!(
        text(&again.stdout)
            .lines()
            .any(|line| line.contains("hard link.flac: ") && line.contains("(was none)")),
        "{}",
        text(&again.stdout)
    );
    assert_eq!(library.states(), before, "a second tag rewrote files");
}

/// `tag` killed with SIGKILL while a temporary copy exists: no file damaged, and the next run
/// removes the copy.
fn a_killed_tag_damages_nothing(library: &Library) {
    let left = library.kill_tag_while_it_writes();
    assert!(left, "no kill landed while a temporary copy existed");
    let resumed = library.run(&["tag"]);
    assert!(text(&resumed.stderr).contains("removed (a temporary copy left by a genrescope tag"));
    library.assert_intact("tag after a killed tag", false);
}

/// `untag`, then `untag` again: the library as made (genres too), then nothing rewritten.
fn untag_restores_the_library(library: &Library) {
    let untagged = library.run(&["untag"]);
    assert_eq!(
        untagged.status.code(),
        Some(1),
        "{}",
        text(&untagged.stderr)
    );
    assert_eq!(summary(&untagged), "untagged 10 · unchanged 0 · failed 2");
    library.assert_intact("untag", true);
    let hard_link = library.root.join("sub/hard link.flac");
    assert_eq!(
        Kept::of(&hard_link),
        library.made[2].1,
        "the hard link's file"
    );
    let before = library.states();
    let again = library.run(&["untag"]);
    assert_eq!(summary(&again), "untagged 0 · unchanged 10 · failed 2");
    assert_eq!(library.states(), before, "a second untag rewrote files");
}

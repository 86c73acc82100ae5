//! `genrescope tag`, `analyze --out`, `--shard` and `merge` as a user runs them, on real clips
//! from `../shared/music` (cut short by ffmpeg, so the batches stay quick).

mod harness;
mod media;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use media::state;

fn genrescope(args: &[&str]) -> Output {
    harness::provide_onnx_runtime();
    Command::new(env!("CARGO_BIN_EXE_genrescope"))
        .args(args)
        .output()
        .expect("run genrescope")
}

/// An empty folder of its own, removed when the test ends (also when it fails).
fn fresh_dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("genrescope-clitag-{name}-"))
        .tempdir()
        .unwrap()
}

/// The first `seconds` of the `index`-th real GTZAN clip of `genre`, re-encoded to `out` (format by extension).
fn clip(genre: &str, index: usize, seconds: u32, out: &Path, extra: &[&str]) {
    let folder = harness::shared_music().join(format!("gtzan/{genre}"));
    let mut clips: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ogg"))
        .collect();
    clips.sort();
    let source = &clips[index % clips.len()];
    let status = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-nostdin",
            "-y",
            "-t",
            &seconds.to_string(),
            "-i",
        ])
        .arg(source)
        .args(extra)
        .arg(out)
        .status()
        .expect("ffmpeg (bash .ci/deps installs it)");
    assert!(status.success(), "ffmpeg on {}", source.display());
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn tag_writes_genres_keeps_a_persons_and_goes_on_past_bad_files() {
    use std::os::unix::fs::PermissionsExt;
    let temporary = fresh_dir("tag");
    let dir = temporary.path();
    let music = dir.join("music");
    std::fs::create_dir_all(&music).unwrap();
    // ID3v1 beside ID3v2, as DJ libraries have them (lofty's strict mode refused its empty year).
    clip(
        "disco",
        1,
        6,
        &music.join("a song #1.mp3"),
        &["-write_id3v1", "1"],
    );
    clip(
        "jazz",
        2,
        6,
        &music.join("b.flac"),
        &["-metadata", "genre=Techno"],
    );
    clip("rock", 3, 6, &music.join("c.wav"), &[]);
    std::fs::set_permissions(music.join("c.wav"), std::fs::Permissions::from_mode(0o444)).unwrap();
    std::fs::write(music.join("d.ogg"), b"not an ogg file").unwrap();
    let names = ["a song #1.mp3", "b.flac", "c.wav", "d.ogg"];
    let before: Vec<_> = names.iter().map(|n| state(&music.join(n))).collect();
    let m = music.to_str().unwrap();

    let dry = genrescope(&["tag", m, "--dry-run"]);
    assert_eq!(dry.status.code(), Some(1), "{}", text(&dry.stderr));
    let out = text(&dry.stdout);
    assert!(
        out.contains("a song #1.mp3: ") && out.contains("would write"),
        "{out}"
    );
    assert!(out.contains("kept genre \"Techno\""), "{out}");
    assert!(out.contains("c.wav: error: read-only"), "{out}");
    assert!(out.contains("d.ogg: error: "), "{out}");
    let after: Vec<_> = names.iter().map(|n| state(&music.join(n))).collect();
    assert_eq!(before, after, "a dry run writes nothing");
    let refused = genrescope(&["tag", m, "--dry-run", "--rekordbox-xml", "x.xml"]);
    assert_eq!(
        refused.status.code(),
        Some(2),
        "a dry run writes no library either"
    );

    // What a killed run left: removed by the next run, when its process is gone.
    let mut child = Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let stale = music.join(genrescope::tagging::temporary_name("b.flac", dead));
    std::fs::write(&stale, b"half a copy").unwrap();

    let xml = dir.join("library.xml");
    let run = genrescope(&["tag", m, "--rekordbox-xml", xml.to_str().unwrap()]);
    assert!(!stale.exists(), "stale temporary file left");
    assert_eq!(run.status.code(), Some(1), "{}", text(&run.stderr));
    let out = text(&run.stdout);
    assert_eq!(out.lines().count(), 4, "one line per file: {out}");
    let file = genrescope::tagging::TagFile::open(&music.join("a song #1.mp3")).unwrap();
    let genre = file.genres();
    assert_eq!(genre.len(), 1, "{genre:?}");
    assert!(out.contains(&format!("genre \"{}\"", genre[0])), "{out}");
    assert!(file.field("GENRESCOPE_GENRES").unwrap().contains('%'));
    assert!(file
        .field("GENRESCOPE_MODEL")
        .unwrap()
        .starts_with("genre-v2-fast@"));
    assert_eq!(
        genrescope::tagging::TagFile::open(&music.join("b.flac"))
            .unwrap()
            .genres(),
        ["Techno"]
    );
    assert_eq!(
        state(&music.join("c.wav")),
        before[2],
        "read-only file untouched"
    );
    assert_eq!(state(&music.join("d.ogg")), before[3], "junk untouched");
    let library = std::fs::read_to_string(&xml).unwrap();
    assert!(library.contains("<COLLECTION Entries=\"2\">"), "{library}");
    assert!(library.contains("a%20song%20%231.mp3\""), "{library}");
    assert!(library.contains("Genre=\"Techno\""), "{library}");

    // Nothing new to say: no file is rewritten (same bytes, same modification time).
    let tagged: Vec<_> = names.iter().map(|n| state(&music.join(n))).collect();
    let same = genrescope(&["tag", m]);
    let out = text(&same.stdout);
    assert_eq!(
        out.matches("file unchanged, not rewritten").count(),
        2,
        "{out}"
    );
    let after: Vec<_> = names.iter().map(|n| state(&music.join(n))).collect();
    assert_eq!(after, tagged, "a second run rewrote files");

    // --top 2 replaces our own genre without --overwrite; the person's stays.
    let again = genrescope(&["tag", m, "--top", "2"]);
    assert_eq!(again.status.code(), Some(1));
    let genres = genrescope::tagging::TagFile::open(&music.join("a song #1.mp3"))
        .unwrap()
        .genres();
    assert_eq!(genres.len(), 2, "{genres:?}");
    assert_eq!(genres[0], genre[0]);
    assert_eq!(
        genrescope::tagging::TagFile::open(&music.join("b.flac"))
            .unwrap()
            .genres(),
        ["Techno"]
    );

    // tag --out: a second run skips what the first did; the files are not rewritten.
    let journal = dir.join("journal");
    let j = journal.to_str().unwrap();
    let first = genrescope(&["tag", m, "--out", j]);
    assert_eq!(first.status.code(), Some(1), "{}", text(&first.stderr));
    let tagged = state(&music.join("a song #1.mp3"));
    let second = genrescope(&["tag", m, "--out", j]);
    let out = text(&second.stdout);
    assert!(
        out.contains("a song #1.mp3: ") && out.contains("already tagged (journal)"),
        "{out}"
    );
    assert!(
        out.contains("c.wav: error: read-only"),
        "failed files are tried again: {out}"
    );
    assert_eq!(state(&music.join("a song #1.mp3")), tagged, "not rewritten");
    std::fs::set_permissions(music.join("c.wav"), std::fs::Permissions::from_mode(0o644)).unwrap();
}

/// A folder of `n` short real clips.
fn catalog(dir: &Path, n: usize) -> PathBuf {
    let music = dir.join("music");
    std::fs::create_dir_all(music.join("sub")).unwrap();
    let genres = ["blues", "disco", "jazz", "metal", "reggae", "rock"];
    for i in 0..n {
        let name = if i % 3 == 0 {
            format!("sub/{i:02}.flac")
        } else {
            format!("{i:02}.ogg")
        };
        clip(genres[i % genres.len()], i, 4, &music.join(name), &[]);
    }
    music
}

fn merged(dirs: &[&Path]) -> serde_json::Value {
    let mut args = vec!["merge".to_owned()];
    args.extend(dirs.iter().map(|d| d.to_str().unwrap().to_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = genrescope(&args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Paths of the file records in a journal folder, one per record.
fn recorded_paths(dir: &Path) -> Vec<String> {
    let mut paths = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return paths; // not created yet
    };
    for entry in entries {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap_or_default();
        for line in text.lines() {
            if let Ok(value) = serde_json::from_str::<serde_json::Value>(line) {
                if let Some(path) = value["file"]["path"].as_str() {
                    paths.push(path.to_owned());
                }
            }
        }
    }
    paths.sort();
    paths
}

#[test]
fn a_killed_run_resumes_and_the_result_equals_an_uninterrupted_run() {
    let temporary = fresh_dir("resume");
    let dir = temporary.path();
    let music = catalog(dir, 10);
    let m = music.to_str().unwrap();
    let whole = dir.join("whole");
    let single = genrescope(&[
        "analyze",
        m,
        "--threads",
        "1",
        "--out",
        whole.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(single.status.code(), Some(0), "{}", text(&single.stderr));
    let printed: serde_json::Value = serde_json::from_slice(&single.stdout).unwrap();
    let reference = merged(&[&whole]);
    assert_eq!(
        reference["files"], printed["files"],
        "merge of one run = what it printed"
    );
    assert_eq!(reference["files"].as_array().unwrap().len(), 10);

    let resumed = dir.join("resumed");
    harness::provide_onnx_runtime();
    let mut child = Command::new(env!("CARGO_BIN_EXE_genrescope"))
        .args([
            "analyze",
            m,
            "--threads",
            "1",
            "--out",
            resumed.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while recorded_paths(&resumed).len() < 3 && start.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(20));
    }
    // SIGKILL: no chance to flush anything.
    child.kill().unwrap();
    child.wait().unwrap();
    let before = recorded_paths(&resumed).len();
    assert!(
        (3..10).contains(&before),
        "killed mid-run: {before} records"
    );

    let rest = genrescope(&[
        "analyze",
        m,
        "--threads",
        "1",
        "--out",
        resumed.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(rest.status.code(), Some(0), "{}", text(&rest.stderr));
    assert_eq!(merged(&[&resumed]), reference);
    let paths = recorded_paths(&resumed);
    let mut unique = paths.clone();
    unique.dedup();
    assert_eq!(paths, unique, "no file analysed twice");
    assert_eq!(paths.len(), 10);

    // A third run has nothing left to do: no new record.
    let third = genrescope(&["analyze", m, "--out", resumed.to_str().unwrap()]);
    assert_eq!(third.status.code(), Some(0));
    assert_eq!(recorded_paths(&resumed).len(), 10);
}

#[test]
fn shards_cover_the_catalog_once_and_merge_to_the_single_run() {
    let temporary = fresh_dir("shards");
    let dir = temporary.path();
    let music = catalog(dir, 9);
    let m = music.to_str().unwrap();
    let whole = dir.join("whole");
    assert_eq!(
        genrescope(&["analyze", m, "--out", whole.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
    let shards = dir.join("shards");
    let mut counts = Vec::new();
    for k in 1..=3 {
        let shard = format!("{k}/3");
        let out = genrescope(&[
            "analyze",
            m,
            "--shard",
            &shard,
            "--out",
            shards.to_str().unwrap(),
            "--format",
            "csv",
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        counts.push(recorded_paths(&shards).len());
    }
    assert_eq!(counts, [3, 6, 9], "balanced shards");
    let paths = recorded_paths(&shards);
    let mut unique = paths.clone();
    unique.dedup();
    assert_eq!(paths, unique, "every file in exactly one shard");
    assert_eq!(merged(&[&shards]), merged(&[&whole]));
    // CSV too, and the older --csv spelling still works.
    let csv = genrescope(&["merge", shards.to_str().unwrap(), "--format", "csv"]);
    let text_csv = text(&csv.stdout);
    assert!(
        text_csv.starts_with(
            "source,model,rank,genre,probability,id,error,mood,mood_id,audioset_styles,instruments,voices\n"
        ),
        "{text_csv}"
    );
    let old = genrescope(&["analyze", m, "--csv", "--out", whole.to_str().unwrap()]);
    assert_eq!(text(&old.stdout), text_csv, "--csv is --format csv");

    // A reader that goes away (`merge ... | head`): a quiet end, no panic.
    let mut child = Command::new(env!("CARGO_BIN_EXE_genrescope"))
        .args(["merge", shards.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let closed = child.wait_with_output().unwrap();
    assert_eq!(closed.status.code(), Some(0), "{}", text(&closed.stderr));
    assert!(closed.stderr.is_empty(), "{}", text(&closed.stderr));
}

/// The last line a command wrote on stderr (the closing summary).
fn summary(out: &Output) -> String {
    text(&out.stderr)
        .lines()
        .last()
        .unwrap_or_default()
        .to_owned()
}

/// `tag` with `--exclude`, `--only-missing` and a rekordbox library, then `untag`: lines in file
/// order, the closing summaries, what each leaves out, and the files as they were after `untag`.
#[test]
fn tag_and_untag_say_what_they_did_in_file_order() {
    let temporary = fresh_dir("untag");
    let dir = temporary.path();
    let music = dir.join("music");
    std::fs::create_dir_all(music.join("Samples")).unwrap();
    // The first file takes longest: on two threads it finishes last.
    clip("disco", 4, 12, &music.join("a.mp3"), &[]);
    clip(
        "jazz",
        5,
        3,
        &music.join("b.flac"),
        &["-metadata", "genre=Techno"],
    );
    clip("rock", 6, 3, &music.join("c.ogg"), &[]);
    clip("blues", 7, 3, &music.join("Samples/d.wav"), &[]);
    std::fs::write(music.join("e.mp3"), b"not audio").unwrap();
    let names = ["a.mp3", "b.flac", "c.ogg", "Samples/d.wav"];
    let before: Vec<_> = names.iter().map(|n| state(&music.join(n))).collect();
    let m = music.to_str().unwrap();
    let xml = dir.join("library.xml");

    let run = genrescope(&[
        "tag",
        m,
        "--threads",
        "2",
        "--exclude",
        "Samples",
        "--rekordbox-xml",
        xml.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run.stderr));
    let files: Vec<String> = text(&run.stdout)
        .lines()
        .map(|line| line.split(": ").next().unwrap().to_owned())
        .collect();
    let expected: Vec<String> = ["a.mp3", "b.flac", "c.ogg", "e.mp3"]
        .iter()
        .map(|n| music.join(n).display().to_string())
        .collect();
    assert_eq!(files, expected, "lines in file order");
    let stderr = text(&run.stderr);
    assert!(
        stderr.contains("excluded 1 file(s) or folder(s)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("c.ogg: not in the rekordbox library"),
        "{stderr}"
    );
    assert_eq!(
        summary(&run),
        "tagged 2 · kept 1 · unchanged 0 · failed 1 · skipped 0"
    );
    let library = std::fs::read_to_string(&xml).unwrap();
    assert!(library.contains("<COLLECTION Entries=\"2\">"), "{library}");
    assert!(!library.contains("c.ogg"), "{library}");
    assert_eq!(state(&music.join("Samples/d.wav")), before[3], "excluded");

    // --only-missing: only the new file is analysed.
    clip("metal", 8, 3, &music.join("f.mp3"), &[]);
    let missing = genrescope(&["tag", m, "--only-missing", "--exclude", "Samples"]);
    let out = text(&missing.stdout);
    assert!(
        out.contains("b.flac: skipped: has a genre (\"Techno\""),
        "{out}"
    );
    assert_eq!(
        summary(&missing),
        "tagged 1 · kept 0 · unchanged 0 · failed 1 · skipped 3"
    );

    untag_twice(&music, &names);
}

/// With the mood model (`--mood-model models/mood.onnx`), `tag` writes the mood's name into the
/// file's own mood field and the rekordbox comments, and `untag` removes it again.
#[test]
fn tag_writes_the_mood_and_untag_removes_it() {
    let temporary = fresh_dir("mood");
    let dir = temporary.path();
    let path = dir.join("a.mp3");
    clip("disco", 1, 6, &path, &[]);
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/mood.onnx");
    let xml = dir.join("library.xml");
    let run = genrescope(&[
        "tag",
        path.to_str().unwrap(),
        "--mood-model",
        shipped.to_str().unwrap(),
        "--rekordbox-xml",
        xml.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let tagged = lofty::read_from_path(&path).unwrap();
    let tag = lofty::file::TaggedFileExt::primary_tag(&tagged).unwrap();
    let mood = tag
        .get_string(lofty::tag::ItemKey::Mood)
        .unwrap()
        .to_owned();
    let out = text(&run.stdout);
    assert!(out.contains(&format!(" · mood \"{mood}\"")), "{out}");
    let library = std::fs::read_to_string(&xml).unwrap();
    assert!(library.contains(&format!(" · Mood: {mood}")), "{library}");

    let untag = genrescope(&["untag", path.to_str().unwrap()]);
    assert_eq!(untag.status.code(), Some(0), "{}", text(&untag.stderr));
    assert!(text(&untag.stdout).contains(&format!("mood none (was \"{mood}\")")));
    let untagged = lofty::read_from_path(&path).unwrap();
    let tag = lofty::file::TaggedFileExt::primary_tag(&untagged);
    assert_eq!(
        tag.and_then(|t| t.get_string(lofty::tag::ItemKey::Mood)),
        None
    );
}

/// `untag` after the test above: the genres before `tag`, no field of ours; a second `untag`
/// rewrites nothing.
fn untag_twice(music: &Path, names: &[&str]) {
    let m = music.to_str().unwrap();
    let untag = genrescope(&["untag", m]);
    assert_eq!(untag.status.code(), Some(1), "{}", text(&untag.stderr));
    assert_eq!(summary(&untag), "untagged 4 · unchanged 1 · failed 1");
    for (name, genre) in [("a.mp3", None), ("b.flac", Some("Techno")), ("f.mp3", None)] {
        let file = genrescope::tagging::TagFile::open(&music.join(name)).unwrap();
        assert_eq!(file.genres().first().map(String::as_str), genre, "{name}");
        for field in genrescope::tagging::OUR_FIELDS {
            assert_eq!(file.field(field), None, "{name}: {field}");
        }
    }
    let untagged: Vec<_> = names.iter().map(|n| state(&music.join(n))).collect();
    let again = genrescope(&["untag", m]);
    assert_eq!(summary(&again), "untagged 0 · unchanged 5 · failed 1");
    let after: Vec<_> = names.iter().map(|n| state(&music.join(n))).collect();
    assert_eq!(after, untagged, "a second untag rewrote files");
}

//! `genrescope::tagging` on real containers made by ffmpeg at test time (Debian's `ffmpeg`,
//! installed by `.ci/deps`): for every format, writing our tags leaves the audio stream bytes
//! and the decoded samples identical, and keeps the other tags and the embedded picture; bad
//! files are clear errors that leave the file untouched (bytes and modification time).

mod media;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use genrescope::tagging::{
    TagFile, Wanted, FIELD_GENRE, FIELD_GENRES, FIELD_GENRE_BEFORE, FIELD_MODEL, FIELD_MOOD,
    FIELD_MOOD_BEFORE,
};
use lofty::file::{AudioFile, TaggedFileExt};
use lofty::tag::Accessor;
use media::{decoded, ffmpeg, make, other_tags, state, stream_bytes};

/// An empty folder of its own, removed when the test ends (also when it fails).
fn dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("genrescope-tagfiles-{name}-"))
        .tempdir()
        .unwrap()
}

fn wanted() -> Wanted {
    Wanted {
        genres: vec!["Electronic".into(), "Pop".into()],
        fields: vec![
            (FIELD_GENRES.into(), "Electronic 71%;Pop 12%".into()),
            (FIELD_MODEL.into(), "genre-v2@test (genrescope test)".into()),
        ],
        mood: Some("Happy / Energetic".into()),
    }
}

/// The mood as any lofty reader sees it (`ItemKey::Mood` of the primary tag).
fn generic_mood(path: &std::path::Path) -> Option<String> {
    let tagged = lofty::read_from_path(path).unwrap();
    let tag = tagged.primary_tag()?;
    tag.get_string(lofty::tag::ItemKey::Mood).map(str::to_owned)
}

fn check_format(name: &str) {
    let temporary = dir(name.replace('.', "-").as_str());
    let dir = temporary.path();
    let path = make(dir, name, &[]);
    let (bytes_before, samples_before) = (stream_bytes(&path), decoded(&path));
    assert!(!bytes_before.is_empty() && !samples_before.is_empty());
    let pictures_before = lofty::read_from_path(&path)
        .unwrap()
        .primary_tag()
        .map_or(0, |t| t.pictures().len());
    let mode_before = std::fs::metadata(&path).unwrap().permissions().mode();
    // The project's own decoder reads no MP4; on AIFF, symphonia 0.5 reads past the end of
    // the SSND chunk into a chunk appended after it (2 samples of the ID3 chunk here), so
    // ffmpeg's decode above is the check there.
    let ours_before = (!name.ends_with(".m4a") && !name.ends_with(".aiff"))
        .then(|| genrescope::decode::decode_mono(&path).unwrap());

    let file = TagFile::open(&path).unwrap();
    assert!(file.genres().is_empty(), "{name}: {:?}", file.genres());
    let change = file.plan(&wanted(), false);
    assert!(!change.kept_existing_genre);
    assert_eq!(change.genre_after.as_deref(), Some("Electronic; Pop"));
    file.save(&change, &wanted().genres).unwrap();

    assert_eq!(
        stream_bytes(&path),
        bytes_before,
        "{name}: audio stream bytes changed"
    );
    assert_eq!(
        decoded(&path),
        samples_before,
        "{name}: decoded samples changed"
    );
    if let Some(ours) = &ours_before {
        // The project's own decoder agrees (it reads no MP4).
        let after = genrescope::decode::decode_mono(&path).unwrap();
        assert_eq!(
            &after.samples, &ours.samples,
            "{name}: genrescope's decoder"
        );
    }
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode(),
        mode_before,
        "{name}: permissions"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "{name}: temporary files left: {leftovers:?}"
    );

    // Read back: our genre and fields, and everything that was there before.
    let reread = TagFile::open(&path).unwrap();
    let expected_genres: Vec<String> = if name.ends_with(".m4a") {
        vec!["Electronic; Pop".into()]
    } else {
        vec!["Electronic".into(), "Pop".into()]
    };
    assert_eq!(reread.genres(), expected_genres, "{name}");
    assert_eq!(
        reread.field(FIELD_GENRE).as_deref(),
        Some("Electronic; Pop"),
        "{name}"
    );
    assert_eq!(
        reread.field(FIELD_GENRES).as_deref(),
        Some("Electronic 71%;Pop 12%"),
        "{name}"
    );
    let tagged = lofty::read_from_path(&path).unwrap();
    // Title and artist survive wherever ffmpeg put them (WAV: the RIFF INFO list).
    for (what, value) in [("title", "A title"), ("artist", "Somebody")] {
        let found = tagged.tags().iter().any(|t| {
            let v = if what == "title" {
                t.title()
            } else {
                t.artist()
            };
            v.as_deref() == Some(value)
        });
        assert!(found, "{name}: {what} lost");
    }
    let tag = tagged.primary_tag().expect("a primary tag");
    let generic = tag
        .genre()
        .map(std::borrow::Cow::into_owned)
        .unwrap_or_default();
    assert!(
        generic.starts_with("Electronic"),
        "{name}: a generic reader sees {generic:?}"
    );
    assert_eq!(tag.pictures().len(), pictures_before, "{name}: pictures");
    // The mood is in the format's own mood field, where readers look for it.
    assert_eq!(
        generic_mood(&path).as_deref(),
        Some("Happy / Energetic"),
        "{name}"
    );
    assert_eq!(reread.mood().as_deref(), Some("Happy / Energetic"));
    if name.ends_with(".mp3") || name.ends_with(".flac") || name.ends_with(".m4a") {
        assert_eq!(pictures_before, 1, "{name}: the fixture has a cover");
    }

    // A second run knows its own genre and may replace it without --overwrite.
    let again = TagFile::open(&path).unwrap();
    let other = Wanted {
        genres: vec!["Jazz".into()],
        fields: wanted().fields,
        mood: Some("Sad".into()),
    };
    let change = again.plan(&other, false);
    assert!(
        !change.kept_existing_genre,
        "{name}: our own genre is ours to replace"
    );
    assert_eq!(change.genre_after.as_deref(), Some("Jazz"));
    again.save(&change, &other.genres).unwrap();
    assert_eq!(TagFile::open(&path).unwrap().genres(), ["Jazz"], "{name}");
    assert_eq!(
        generic_mood(&path).as_deref(),
        Some("Sad"),
        "{name}: our own mood"
    );
    assert_eq!(stream_bytes(&path), bytes_before, "{name}: second write");
}

#[test]
fn mp3_id3v2() {
    check_format("a.mp3");
}

#[test]
fn flac_vorbis_comments() {
    check_format("a.flac");
}

#[test]
fn ogg_vorbis_comments() {
    check_format("a.ogg");
}

#[test]
fn wav_id3v2_chunk() {
    check_format("a.wav");
}

#[test]
fn aiff_id3v2_chunk() {
    check_format("a.aiff");
}

#[test]
fn mp4_ilst() {
    check_format("a.m4a");
}

#[test]
fn a_genre_written_by_a_person_is_kept_unless_overwrite() {
    let temporary = dir("person");
    let dir = temporary.path();
    for name in ["p.mp3", "p.flac", "p.ogg", "p.m4a"] {
        let path = make(dir, name, &["-metadata", "genre=Techno"]);
        let file = TagFile::open(&path).unwrap();
        assert_eq!(file.genres(), ["Techno"], "{name}");
        let kept = file.plan(&wanted(), false);
        assert!(kept.kept_existing_genre, "{name}");
        assert_eq!(kept.genre_after.as_deref(), Some("Techno"));
        assert!(
            kept.fields.iter().all(|(k, _)| k != FIELD_GENRE),
            "{name}: not claimed as ours"
        );
        file.save(&kept, &wanted().genres).unwrap();
        let reread = TagFile::open(&path).unwrap();
        assert_eq!(reread.genres(), ["Techno"], "{name}");
        assert_eq!(
            reread.field(FIELD_GENRES).as_deref(),
            Some("Electronic 71%;Pop 12%"),
            "{name}: our details are added"
        );
        // Still the person's on a re-run.
        assert!(reread.plan(&wanted(), false).kept_existing_genre, "{name}");
        let replaced = reread.plan(&wanted(), true);
        assert!(!replaced.kept_existing_genre);
        reread.save(&replaced, &wanted().genres).unwrap();
        assert_ne!(TagFile::open(&path).unwrap().genres(), ["Techno"], "{name}");
    }
}

#[test]
fn bad_files_are_clear_errors_and_stay_untouched() {
    let temporary = dir("bad");
    let dir = temporary.path();
    // Read-only (refused even for root, who could write it anyway).
    let read_only = make(dir, "ro.flac", &[]);
    std::fs::set_permissions(&read_only, std::fs::Permissions::from_mode(0o444)).unwrap();
    let before = state(&read_only);
    let error = TagFile::open(&read_only)
        .err()
        .expect("read-only refused")
        .to_string();
    assert!(error.contains("read-only"), "{error}");
    assert_eq!(state(&read_only), before);

    // Vanished.
    let error = TagFile::open(&dir.join("gone.mp3"))
        .err()
        .expect("missing file")
        .to_string();
    assert!(error.contains("not found"), "{error}");

    // Empty.
    let empty = dir.join("empty.mp3");
    std::fs::write(&empty, b"").unwrap();
    let error = TagFile::open(&empty).err().expect("empty").to_string();
    assert!(error.contains("empty file"), "{error}");

    // Unsupported container: Sun .au, and text that only calls itself MP3.
    let au = dir.join("a.au");
    ffmpeg(&["-f", "lavfi", "-i", "sine=duration=1", au.to_str().unwrap()]);
    let junk = dir.join("junk.mp3");
    std::fs::write(&junk, b"this is not audio at all").unwrap();
    for path in [&au, &junk] {
        let before = state(path);
        let error = TagFile::open(path).err().expect("unsupported").to_string();
        assert!(
            error.contains("unsupported container") || error.contains("corrupt"),
            "{error}"
        );
        assert_eq!(state(path), before);
    }

    // A corrupt ID3v2 tag: the header promises more frames than the file holds.
    let corrupt = make(dir, "corrupt.mp3", &[]);
    let mut bytes = std::fs::read(&corrupt).unwrap();
    assert_eq!(&bytes[..3], b"ID3");
    // Frame data replaced by garbage frame ids and sizes.
    for b in &mut bytes[10..40] {
        *b = 0xFF;
    }
    std::fs::write(&corrupt, &bytes).unwrap();
    let before = state(&corrupt);
    let error = TagFile::open(&corrupt)
        .err()
        .expect("corrupt tag refused")
        .to_string();
    assert!(error.contains("corrupt"), "{error}");
    assert_eq!(state(&corrupt), before);

    // A file that changes between reading and writing is left as the other writer left it.
    let racing = make(dir, "race.ogg", &[]);
    let file = TagFile::open(&racing).unwrap();
    let change = file.plan(&wanted(), false);
    std::fs::write(&racing, b"replaced by someone else").unwrap();
    let error = file
        .save(&change, &wanted().genres)
        .expect_err("changed file")
        .to_string();
    assert!(error.contains("changed"), "{error}");
    assert_eq!(std::fs::read(&racing).unwrap(), b"replaced by someone else");
}

/// ID3v1 beside ID3v2 (v2.3 or v2.4), as ffmpeg writes it with an empty year: tagged, and the
/// ID3v1 tag (the last 128 bytes) stays byte for byte.
#[test]
fn mp3_with_id3v1_and_id3v2_is_tagged_and_its_id3v1_kept() {
    let temporary = dir("id3v1");
    let dir = temporary.path();
    for version in ["3", "4"] {
        let name = format!("v1-v2{version}.mp3");
        let path = make(
            dir,
            &name,
            &["-write_id3v1", "1", "-id3v2_version", version],
        );
        let before = std::fs::read(&path).unwrap();
        let id3v1 = before[before.len() - 128..].to_vec();
        assert_eq!(&id3v1[..3], b"TAG", "{name}: the fixture has ID3v1");
        let bytes_before = stream_bytes(&path);

        let file = TagFile::open(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(file.genres().is_empty(), "{name}");
        let change = file.plan(&wanted(), false);
        assert!(file.save(&change, &wanted().genres).unwrap(), "{name}");

        let after = std::fs::read(&path).unwrap();
        assert_eq!(&after[after.len() - 128..], id3v1, "{name}: ID3v1 changed");
        assert_eq!(stream_bytes(&path), bytes_before, "{name}: audio changed");
        let reread = TagFile::open(&path).unwrap();
        assert_eq!(reread.genres(), ["Electronic", "Pop"], "{name}");
        assert_eq!(reread.title().as_deref(), Some("A title"), "{name}");
    }
}

/// A save that would leave the tag as it is writes nothing: same bytes, same modification time.
#[test]
fn saving_what_the_tags_already_say_rewrites_nothing() {
    let temporary = dir("unchanged");
    let dir = temporary.path();
    for name in ["u.mp3", "u.flac", "u.ogg", "u.wav", "u.aiff", "u.m4a"] {
        let path = make(dir, name, &[]);
        let file = TagFile::open(&path).unwrap();
        let change = file.plan(&wanted(), false);
        assert!(!change.unchanged, "{name}: nothing tagged yet");
        assert!(file.save(&change, &wanted().genres).unwrap(), "{name}");
        let tagged = state(&path);
        // The file system's clock may be coarse: a rewrite must be able to show.
        std::thread::sleep(std::time::Duration::from_millis(20));

        let again = TagFile::open(&path).unwrap();
        let change = again.plan(&wanted(), false);
        assert!(change.unchanged, "{name}: {change:?}");
        assert!(!again.save(&change, &wanted().genres).unwrap(), "{name}");
        assert_eq!(state(&path), tagged, "{name}: rewritten");
    }
}

/// Only `.NAME.genrescope-PID.tmp` files of processes that no longer exist are removed.
#[test]
fn stale_temporaries_of_killed_runs_are_removed_and_nothing_else() {
    let temporary = dir("stale");
    let dir = temporary.path();
    let mut child = Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let live = std::process::id();
    let stale = dir.join(genrescope::tagging::temporary_name("a.wav", dead));
    let kept = [
        genrescope::tagging::temporary_name("b.wav", live),
        format!(".c.wav.genrescope-{dead}x.tmp"),
        format!(".c.wav.other-{dead}.tmp"),
        format!("c.wav.genrescope-{dead}.tmp.keep"),
        "a.wav".to_owned(),
    ];
    std::fs::write(&stale, b"half a copy").unwrap();
    for name in &kept {
        std::fs::write(dir.join(name), b"keep").unwrap();
    }
    let removed = genrescope::tagging::remove_stale_temporaries(dir);
    assert_eq!(removed, std::slice::from_ref(&stale));
    assert!(!stale.exists());
    for name in &kept {
        assert!(dir.join(name).exists(), "{name} removed");
    }
}

/// Tags the file with `wanted` (a person's genre kept).
fn tag_with(path: &std::path::Path, wanted: &Wanted) {
    let file = TagFile::open(path).unwrap();
    let change = file.plan(wanted, false);
    file.save(&change, &wanted.genres).unwrap();
}

/// `untag` after `tag`: the genre as it was (none), our fields gone, the audio and every other
/// tag as before; a second `untag` rewrites nothing.
#[test]
fn untag_restores_the_file_as_it_was_before_tag() {
    let temporary = dir("untag");
    let dir = temporary.path();
    for name in ["u.mp3", "u.flac", "u.ogg", "u.wav", "u.aiff", "u.m4a"] {
        let path = make(dir, name, &["-metadata", "album=An album"]);
        let (bytes, samples, others) = (stream_bytes(&path), decoded(&path), other_tags(&path));
        let file = TagFile::open(&path).unwrap();
        assert!(file.plan_undo().is_nothing(), "{name}: nothing to undo yet");
        let change = file.plan(&wanted(), false);
        file.save(&change, &wanted().genres).unwrap();
        let tagged = TagFile::open(&path).unwrap();
        assert_eq!(tagged.genres().join("; "), "Electronic; Pop", "{name}");

        let file = TagFile::open(&path).unwrap();
        let undo = file.plan_undo();
        assert!(undo.restores_genre, "{name}: {undo:?}");
        assert_eq!(undo.genre_after, None, "{name}");
        assert!(file.undo(&undo).unwrap(), "{name}: rewritten");
        let reread = TagFile::open(&path).unwrap();
        assert!(reread.genres().is_empty(), "{name}: {:?}", reread.genres());
        for field in genrescope::tagging::OUR_FIELDS {
            assert_eq!(reread.field(field), None, "{name}: {field}");
        }
        assert_eq!(reread.mood(), None, "{name}: the mood was not there before");
        assert_eq!(stream_bytes(&path), bytes, "{name}: audio stream bytes");
        assert_eq!(decoded(&path), samples, "{name}: decoded samples");
        assert_eq!(other_tags(&path), others, "{name}: other tags");

        let untagged = state(&path);
        let again = TagFile::open(&path).unwrap();
        let undo = again.plan_undo();
        assert!(undo.is_nothing(), "{name}: {undo:?}");
        assert!(!again.undo(&undo).unwrap(), "{name}");
        assert_eq!(
            state(&path),
            untagged,
            "{name}: rewritten with nothing to undo"
        );
    }
}

/// A person's genre replaced with `--overwrite` comes back, also after a later run replaced
/// genrescope's own genre again; one kept without it stays; one changed after tagging stays.
#[test]
fn untag_puts_back_a_persons_genre_and_keeps_a_changed_one() {
    let temporary = dir("untag-person");
    let dir = temporary.path();
    for name in ["p.mp3", "p.flac", "p.m4a", "p.wav"] {
        let path = make(dir, name, &["-metadata", "genre=Techno"]);
        assert_eq!(TagFile::open(&path).unwrap().genres(), ["Techno"], "{name}");
        let file = TagFile::open(&path).unwrap();
        let replaced = file.plan(&wanted(), true);
        assert!(
            replaced
                .fields
                .contains(&(FIELD_GENRE_BEFORE.to_owned(), "Techno".to_owned())),
            "{name}: {replaced:?}"
        );
        file.save(&replaced, &wanted().genres).unwrap();
        // A second run replaces its own genre and keeps the record of the person's.
        let jazz = Wanted {
            genres: vec!["Jazz".into()],
            fields: wanted().fields,
            mood: None,
        };
        tag_with(&path, &jazz);
        assert_eq!(TagFile::open(&path).unwrap().genres(), ["Jazz"], "{name}");

        let file = TagFile::open(&path).unwrap();
        let undo = file.plan_undo();
        assert_eq!(undo.genre_after.as_deref(), Some("Techno"), "{name}");
        file.undo(&undo).unwrap();
        let reread = TagFile::open(&path).unwrap();
        assert_eq!(reread.genres(), ["Techno"], "{name}");
        assert_eq!(reread.field(FIELD_GENRE_BEFORE), None, "{name}");

        // Kept without --overwrite: untag removes only our fields.
        tag_with(&path, &wanted());
        let undo = TagFile::open(&path).unwrap().plan_undo();
        assert!(
            !undo.restores_genre && !undo.is_nothing(),
            "{name}: {undo:?}"
        );
        TagFile::open(&path).unwrap().undo(&undo).unwrap();
        let reread = TagFile::open(&path).unwrap();
        assert_eq!(reread.genres(), ["Techno"], "{name}");
        assert_eq!(reread.field(FIELD_GENRES), None, "{name}");
    }
    // Changed by a person after tagging: kept.
    let path = make(dir, "changed.flac", &[]);
    tag_with(&path, &wanted());
    let person = Wanted {
        genres: vec!["House".into()],
        fields: Vec::new(),
        mood: None,
    };
    let file = TagFile::open(&path).unwrap();
    let mut change = file.plan(&person, true);
    change.fields.clear(); // as another tagger would: only the genre
    file.save(&change, &person.genres).unwrap();
    let undo = TagFile::open(&path).unwrap().plan_undo();
    assert!(!undo.restores_genre, "{undo:?}");
    TagFile::open(&path).unwrap().undo(&undo).unwrap();
    assert_eq!(TagFile::open(&path).unwrap().genres(), ["House"]);
}

/// A mood a person wrote (here with lofty, as any tagger does) is kept unless `--overwrite`;
/// replaced, it is remembered, and `untag` puts it back.
#[test]
fn a_persons_mood_is_kept_unless_overwrite_and_untag_puts_it_back() {
    let temporary = dir("mood");
    let dir = temporary.path();
    for name in ["m.mp3", "m.flac", "m.ogg", "m.m4a", "m.wav"] {
        let path = make(dir, name, &[]);
        let mut tagged = lofty::read_from_path(&path).unwrap();
        let tag = match tagged.primary_tag_mut() {
            Some(tag) => tag,
            None => {
                let tag_type = tagged.primary_tag_type();
                tagged.insert_tag(lofty::tag::Tag::new(tag_type));
                tagged.primary_tag_mut().unwrap()
            }
        };
        assert!(tag.insert_text(lofty::tag::ItemKey::Mood, "Chill".into()));
        tagged
            .save_to_path(&path, lofty::config::WriteOptions::default())
            .unwrap();
        let file = TagFile::open(&path).unwrap();
        assert_eq!(file.mood().as_deref(), Some("Chill"), "{name}");
        let kept = file.plan(&wanted(), false);
        assert!(kept.kept_existing_mood, "{name}: {kept:?}");
        assert!(kept.fields.iter().all(|(k, _)| k != FIELD_MOOD), "{name}");
        file.save(&kept, &wanted().genres).unwrap();
        assert_eq!(generic_mood(&path).as_deref(), Some("Chill"), "{name}");

        let file = TagFile::open(&path).unwrap();
        let replaced = file.plan(&wanted(), true);
        assert!(!replaced.kept_existing_mood, "{name}");
        let before = (FIELD_MOOD_BEFORE.to_owned(), "Chill".to_owned());
        assert!(replaced.fields.contains(&before), "{name}: {replaced:?}");
        file.save(&replaced, &wanted().genres).unwrap();
        assert_eq!(
            generic_mood(&path).as_deref(),
            Some("Happy / Energetic"),
            "{name}"
        );

        let file = TagFile::open(&path).unwrap();
        let undo = file.plan_undo();
        assert!(undo.restores_mood, "{name}: {undo:?}");
        assert_eq!(undo.mood_after.as_deref(), Some("Chill"), "{name}");
        file.undo(&undo).unwrap();
        let reread = TagFile::open(&path).unwrap();
        assert_eq!(reread.mood().as_deref(), Some("Chill"), "{name}");
        assert_eq!(reread.field(FIELD_MOOD_BEFORE), None, "{name}");
        assert_eq!(reread.field(FIELD_MOOD), None, "{name}");
    }
}

/// A WAV file's genre also goes into RIFF INFO `IGNR`, which ffprobe reads; a genre a person
/// wrote only there is a person's genre, kept.
#[test]
fn wav_genre_goes_into_riff_info_too() {
    let temporary = dir("riff");
    let dir = temporary.path();
    // ffmpeg writes a WAV's metadata into RIFF INFO only (no ID3 chunk).
    let plain = dir.join("plain.wav");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=duration=2",
        "-metadata",
        "title=A title",
        plain.to_str().unwrap(),
    ]);
    tag_with(&plain, &wanted());
    let probed = ffmpeg_tags(&plain);
    assert!(probed.contains("genre=Electronic; Pop"), "{probed}");
    assert!(probed.contains("title=A title"), "{probed}");
    let tagged = lofty::read_from_path(&plain).unwrap();
    let riff = tagged
        .tag(lofty::tag::TagType::RiffInfo)
        .expect("a RIFF INFO list");
    assert_eq!(riff.genre().as_deref(), Some("Electronic; Pop"));

    let person = dir.join("person.wav");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=duration=2",
        "-metadata",
        "genre=Techno",
        person.to_str().unwrap(),
    ]);
    let file = TagFile::open(&person).unwrap();
    assert_eq!(file.genres(), ["Techno"]);
    let change = file.plan(&wanted(), false);
    assert!(change.kept_existing_genre, "{change:?}");
    file.save(&change, &wanted().genres).unwrap();
    assert!(ffmpeg_tags(&person).contains("genre=Techno"));
    assert_eq!(TagFile::open(&person).unwrap().genres(), ["Techno"]);
}

/// The container's tags as ffprobe reports them, one `key=value` a line.
fn ffmpeg_tags(path: &std::path::Path) -> String {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format_tags",
            "-of",
            "flat=s=_",
        ])
        .arg(path)
        .output()
        .expect("ffprobe");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| line.strip_prefix("format_tags_"))
        .map(|line| line.replace('"', ""))
        .collect::<Vec<_>>()
        .join("\n")
}

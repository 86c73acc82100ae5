//! Writing genres into audio files' own tags, where DJ software and music players read them,
//! without ever losing anything: [`TagFile`] reads a file's tags with `lofty`, plans a
//! [`Change`], and [`TagFile::save`] writes it through a temporary copy in the same folder
//! that replaces the original only when complete, and only when the tag changes. Only the tag
//! below is rewritten (with FLAC, its metadata blocks); other tags (ID3v1, APE, RIFF INFO) and
//! the audio stay byte for byte. [`remove_stale_temporaries`] cleans up after a killed run.
//!
//! | container | tag | genre field | our fields |
//! | --- | --- | --- | --- |
//! | MP3, AIFF | ID3v2 (v2.4) | `TCON` (several genres: v2.4's NUL-separated values) | `TXXX:GENRESCOPE_*` |
//! | WAV | ID3v2 (v2.4) and RIFF INFO | `TCON` and `IGNR` (genres joined by `; `) | `TXXX:GENRESCOPE_*` |
//! | FLAC, Ogg Vorbis | Vorbis comments | `GENRE` (one field per genre) | `GENRESCOPE_*` |
//! | MP4/M4A | `ilst` | `©gen` (several genres joined by `; `) | `----:com.apple.iTunes:GENRESCOPE_*` |
//!
//! The mood (a mood name, with a mood model) goes into the file's own mood field: ID3v2 `TMOO`,
//! Vorbis `MOOD`, MP4 `----:com.apple.iTunes:MOOD` (lofty's `ItemKey::Mood`), kept and put back
//! as the genre is, through [`FIELD_MOOD`] and [`FIELD_MOOD_BEFORE`].
//!
//! Our fields: [`FIELD_GENRE`] (exactly what we put into the genre field, so a later run can
//! tell its own genre from one a person wrote), [`FIELD_GENRE_BEFORE`] (a person's genre that
//! `--overwrite` replaced), [`FIELD_GENRES`] (`Electronic 71%;Pop 12%`), [`FIELD_STYLES`],
//! [`FIELD_MODEL`], and with `tag --instruments` [`FIELD_INSTRUMENTS`] and [`FIELD_VOICES`]. [`TagFile::plan_undo`] and [`TagFile::undo`] (`genrescope untag`) put the
//! genre back and remove them.

mod native;
pub mod rekordbox;
mod undo;

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use lofty::config::{ParseOptions, ParsingMode, WriteOptions};
use lofty::file::{AudioFile, FileType};
use lofty::flac::FlacFile;
use lofty::id3::v2::Id3v2Tag;
use lofty::iff::aiff::AiffFile;
use lofty::iff::wav::{RiffInfoList, WavFile};
use lofty::mp4::Mp4File;
use lofty::mpeg::MpegFile;
use lofty::ogg::VorbisFile;
use lofty::tag::TagExt;
use serde::{Deserialize, Serialize};

use crate::Error;
use native::Native;
pub use undo::{Undo, OUR_FIELDS};

/// Exactly what genrescope last wrote into the genre field (values joined by `; `).
pub const FIELD_GENRE: &str = "GENRESCOPE_GENRE";
/// The genre a person wrote that genrescope replaced (`--overwrite`; values joined by `; `),
/// which `untag` puts back.
pub const FIELD_GENRE_BEFORE: &str = "GENRESCOPE_GENRE_BEFORE";
/// The top genres with their probabilities: `Electronic 71%;Pop 12%;Rock 5%`.
pub const FIELD_GENRES: &str = "GENRESCOPE_GENRES";
/// The top style tags of a pooled model: `dance 40%;House 31%`.
pub const FIELD_STYLES: &str = "GENRESCOPE_STYLES";
/// The model and the program: `genre-v2@1a2b3c4d5e6f (genrescope 0.1.0)`.
pub const FIELD_MODEL: &str = "GENRESCOPE_MODEL";
/// Exactly what genrescope last wrote into the mood field (a mood name, `Sad`).
pub const FIELD_MOOD: &str = "GENRESCOPE_MOOD";
/// The mood a person wrote that genrescope replaced (`--overwrite`), which `untag` puts back.
pub const FIELD_MOOD_BEFORE: &str = "GENRESCOPE_MOOD_BEFORE";
/// The instruments the mood model's AudioSet classes heard (`tag --instruments`):
/// `Piano 45%;Strings 31%`.
pub const FIELD_INSTRUMENTS: &str = "GENRESCOPE_INSTRUMENTS";
/// The voices they heard (`tag --instruments`): `Female singing 52%`.
pub const FIELD_VOICES: &str = "GENRESCOPE_VOICES";

/// A WAV file's RIFF INFO genre, beside its ID3v2 `TCON` (ffprobe and many tools read it).
const RIFF_GENRE: &str = "IGNR";

/// What genrescope wants a file to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    /// Values of the genre field, most likely first (display names, then style tags if asked).
    pub genres: Vec<String>,
    /// Our own fields ([`FIELD_GENRES`], [`FIELD_STYLES`], [`FIELD_MODEL`], ...), name and
    /// value.
    pub fields: Vec<(String, String)>,
    /// The mood field's value (a mood name); `None` leaves the mood field as it is (no mood
    /// model).
    pub mood: Option<String>,
}

/// What a save changes, as `--dry-run` prints it and the journal records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// The genre field before (values joined by `; `).
    pub genre_before: Option<String>,
    /// The genre field after.
    pub genre_after: Option<String>,
    /// A genre written by a person was kept (no `--overwrite`).
    pub kept_existing_genre: bool,
    /// Our fields as they will be.
    pub fields: Vec<(String, String)>,
    /// The tag already says all of this: nothing is written (journals of earlier versions,
    /// without this field: false).
    #[serde(default)]
    pub unchanged: bool,
    /// The mood field before and after (journals of earlier versions: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mood_before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mood_after: Option<String>,
    /// A mood written by a person was kept (no `--overwrite`).
    #[serde(default)]
    pub kept_existing_mood: bool,
}

impl Change {
    /// Whether the genre field changes.
    pub fn genre_changes(&self) -> bool {
        self.genre_before != self.genre_after
    }
}

/// The mood part of a [`Change`] ([`TagFile::plan_mood`]).
struct MoodPlan {
    before: Option<String>,
    after: Option<String>,
    kept: bool,
    /// [`FIELD_MOOD`] and [`FIELD_MOOD_BEFORE`] as they will be.
    fields: Vec<(String, String)>,
}

fn error(message: impl Into<String>) -> Error {
    Error::Tag(message.into())
}

/// The file as it was when read: a save refuses to replace a file that changed since.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Snapshot {
    len: u64,
    modified: Option<SystemTime>,
}

impl Snapshot {
    fn of(path: &Path) -> Result<Self, Error> {
        let meta = std::fs::metadata(path).map_err(|e| error(io_reason(&e)))?;
        Ok(Self {
            len: meta.len(),
            modified: meta.modified().ok(),
        })
    }
}

fn corrupt(e: impl std::fmt::Display) -> Error {
    error(format!("unreadable or corrupt tags: {e}"))
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "file not found (moved or deleted?)".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => e.to_string(),
    }
}

/// An audio file whose tags genrescope may write.
pub struct TagFile {
    path: PathBuf,
    native: Native,
    /// A FLAC file as read: it keeps its pictures outside its Vorbis comments, so it is written
    /// whole, with the comments put back. Every other file gets only its native tag rewritten:
    /// its other tags (ID3v1, APE) stay as they are, byte for byte.
    flac: Option<FlacFile>,
    /// A WAV file's RIFF INFO list, whose `IGNR` holds the genre too.
    riff: Option<RiffInfoList>,
    /// Whether the RIFF INFO list changed since it was read (it is written only then).
    riff_changed: bool,
    snapshot: Snapshot,
}

impl TagFile {
    /// Reads the file's tags. Errors (the file is untouched): missing, not a regular file,
    /// read-only (its permissions forbid writing, even to root), a container genrescope does
    /// not tag, or tags that do not parse strictly (rewriting a damaged tag could lose what
    /// a lenient parser skipped). An MP3's ID3v1 tag is not read: genrescope never rewrites
    /// it, and lofty's strict mode refuses the empty year that ffmpeg and mutagen write there.
    pub fn open(path: &Path) -> Result<Self, Error> {
        let meta = std::fs::metadata(path).map_err(|e| error(io_reason(&e)))?;
        if !meta.is_file() {
            return Err(error("not a regular file"));
        }
        if meta.len() == 0 {
            return Err(error("empty file (0 bytes)"));
        }
        if meta.permissions().readonly() {
            return Err(error(
                "read-only file: tags not written (make it writable to tag it)",
            ));
        }
        let snapshot = Snapshot::of(path)?;
        let mut file = File::open(path).map_err(|e| error(io_reason(&e)))?;
        let file_type = lofty::probe::Probe::new(BufReader::new(&mut file))
            .guess_file_type()
            .map_err(|e| error(format!("cannot read: {e}")))?
            .file_type();
        file.seek(SeekFrom::Start(0))
            .map_err(|e| error(io_reason(&e)))?;
        let (native, flac, riff) = read_tags(&mut file, file_type)?;
        Ok(Self {
            path: path.to_owned(),
            native,
            flac,
            riff,
            riff_changed: false,
            snapshot,
        })
    }

    /// The genre as readers see it: the native tag's genre field's values, or when it has none,
    /// a WAV file's RIFF INFO `IGNR`.
    pub fn genres(&self) -> Vec<String> {
        let native = self.native.genres();
        match self.riff_genre() {
            Some(riff) if native.is_empty() => vec![riff],
            _ => native,
        }
    }

    /// Each field the genre is in (values joined by `; `): the native tag's, and a WAV file's
    /// RIFF INFO `IGNR`.
    fn genre_fields(&self) -> Vec<Option<String>> {
        let mut fields = vec![join(&self.native.genres())];
        if self.riff.is_some() {
            fields.push(self.riff_genre());
        }
        fields
    }

    fn riff_genre(&self) -> Option<String> {
        let value = self.riff.as_ref()?.get(RIFF_GENRE)?;
        (!value.is_empty()).then(|| value.to_owned())
    }

    /// Sets the genre (no values: removes it) in each genre field whose value now passes
    /// `only`.
    fn set_genre(&mut self, values: &[String], only: impl Fn(Option<&str>) -> bool) {
        if only(join(&self.native.genres()).as_deref()) {
            self.native.set_genres(values);
        }
        let now = self.riff_genre();
        if let Some(riff) = self.riff.as_mut().filter(|_| only(now.as_deref())) {
            let after = join(values);
            match &after {
                Some(value) => riff.insert(RIFF_GENRE.to_owned(), value.clone()),
                None => {
                    let _ = riff.remove(RIFF_GENRE);
                }
            }
            self.riff_changed |= now != after;
        }
    }

    /// Whether a genre field still holds exactly what genrescope wrote ([`FIELD_GENRE`]).
    fn genre_is_ours(&self) -> bool {
        let ours = self.field(FIELD_GENRE);
        ours.is_some() && self.genre_fields().contains(&ours)
    }

    /// Whether the file has no genre at all (`tag --only-missing`).
    pub fn has_no_genre(&self) -> bool {
        self.genre_fields().iter().all(Option::is_none)
    }

    /// What a rewrite of this file does to its other names: a file with several hard links
    /// is replaced under this name only (the temporary copy is a new file), so the other names
    /// keep the file as it was. `None` for a file with one name.
    pub fn hard_link_note(&self) -> Option<String> {
        let others = hard_links(&self.path).saturating_sub(1);
        (others > 0).then(|| {
            format!(
                "{others} other hard link(s) to this file keep it as it was (the tagged file is a \
                 new file under this name)"
            )
        })
    }

    /// One of our fields (or any custom field) by name.
    pub fn field(&self, name: &str) -> Option<String> {
        self.native.field(name)
    }

    /// The mood field's value (ID3v2 `TMOO`, Vorbis `MOOD`, MP4 `----:com.apple.iTunes:MOOD`).
    pub fn mood(&self) -> Option<String> {
        self.native.mood()
    }

    /// The title, if the file has one.
    pub fn title(&self) -> Option<String> {
        self.native.title()
    }

    /// The artist, if the file has one.
    pub fn artist(&self) -> Option<String> {
        self.native.artist()
    }

    /// What writing `wanted` changes. The genre is replaced when each genre field is empty or
    /// still holds exactly what genrescope wrote last time ([`FIELD_GENRE`]), or with
    /// `overwrite`; otherwise a person wrote it and it is kept. A person's genre that is
    /// replaced is recorded in [`FIELD_GENRE_BEFORE`] (and kept there while the genre stays ours) for
    /// `untag`. Our fields are always set; when the tag already says all of it, the change is
    /// [`Change::unchanged`].
    pub fn plan(&self, wanted: &Wanted, overwrite: bool) -> Change {
        let before = join(&self.genres());
        let ours = self.field(FIELD_GENRE);
        let persons = self
            .genre_fields()
            .into_iter()
            .flatten()
            .find(|value| Some(value) != ours.as_ref());
        let replace = persons.is_none() || overwrite;
        let after = if replace {
            join(&wanted.genres)
        } else {
            before.clone()
        };
        let mut fields = wanted.fields.clone();
        if replace {
            if let Some(after) = &after {
                fields.insert(0, (FIELD_GENRE.to_owned(), after.clone()));
            }
            let earlier = || {
                self.genre_is_ours()
                    .then(|| self.field(FIELD_GENRE_BEFORE))
                    .flatten()
            };
            if let Some(replaced) = persons.or_else(earlier) {
                fields.push((FIELD_GENRE_BEFORE.to_owned(), replaced));
            }
        }
        let mood = self.plan_mood(wanted.mood.as_ref(), overwrite);
        fields.extend(mood.fields);
        let mut change = Change {
            genre_before: before,
            genre_after: after,
            kept_existing_genre: !replace,
            fields,
            unchanged: false,
            mood_before: mood.before,
            mood_after: mood.after,
            kept_existing_mood: mood.kept,
        };
        change.unchanged = self.already_says(&change, &wanted.genres);
        change
    }

    /// What the mood field should say, as [`TagFile::plan`] decides for the genre: genrescope's
    /// mood replaces an empty field or the mood it wrote itself ([`FIELD_MOOD`]); a person's
    /// mood stays unless `overwrite`, and is then recorded in [`FIELD_MOOD_BEFORE`] for
    /// `untag`. Without a `wanted` mood the field stays as it is.
    fn plan_mood(&self, wanted: Option<&String>, overwrite: bool) -> MoodPlan {
        let before = self.native.mood();
        let Some(wanted) = wanted else {
            return MoodPlan {
                after: before.clone(),
                before,
                kept: false,
                fields: Vec::new(),
            };
        };
        let ours = self.field(FIELD_MOOD);
        let is_ours = before.is_some() && before == ours;
        let persons = before.clone().filter(|_| !is_ours);
        let replace = persons.is_none() || overwrite;
        let mut fields = Vec::new();
        if replace {
            fields.push((FIELD_MOOD.to_owned(), wanted.clone()));
            let earlier = || is_ours.then(|| self.field(FIELD_MOOD_BEFORE)).flatten();
            if let Some(replaced) = persons.or_else(earlier) {
                fields.push((FIELD_MOOD_BEFORE.to_owned(), replaced));
            }
        }
        MoodPlan {
            after: if replace {
                Some(wanted.clone())
            } else {
                before.clone()
            },
            before,
            kept: !replace,
            fields,
        }
    }

    /// Applies `change` and writes the file safely: the original is copied to a hidden
    /// temporary file in the same folder (same permissions, named by [`temporary_name`]), the
    /// tags are written into the copy, the copy is fsynced and renamed over the original, and
    /// the folder is fsynced. The audio data is copied byte for byte; a file that changed since
    /// [`TagFile::open`] is left alone (error). On any error the temporary file is removed and
    /// the original is as it was. Returns whether the file was rewritten: a change that leaves
    /// the tag as it is writes nothing (same bytes, same modification time).
    pub fn save(self, change: &Change, genre_values: &[String]) -> Result<bool, Error> {
        if self.already_says(change, genre_values) {
            return Ok(false);
        }
        self.rewrite(|file| {
            if !change.kept_existing_genre {
                file.set_genre(genre_values, |_| true);
            }
            if !change.kept_existing_mood {
                file.native.set_mood(change.mood_after.as_deref());
            }
            for (name, value) in &change.fields {
                file.native.set_field(name, value);
            }
        })
    }

    /// Edits the tags with `edit` and writes the file safely, as [`TagFile::save`] says.
    /// Returns true (rewritten).
    fn rewrite(mut self, edit: impl FnOnce(&mut Self)) -> Result<bool, Error> {
        edit(&mut self);
        let dir = folder_of(&self.path).to_owned();
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp = dir.join(temporary_name(&name, std::process::id()));
        self.still_as_read()?;
        let result = self.write_copy(&temp).and_then(|()| {
            self.still_as_read()?;
            std::fs::rename(&temp, &self.path)
                .map_err(|e| error(format!("cannot replace the file: {}", io_reason(&e))))?;
            // The rename itself reaches the disk with the folder.
            if let Ok(folder) = File::open(&dir) {
                let _ = folder.sync_all();
            }
            Ok(())
        });
        if result.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        result.map(|()| true)
    }

    /// An error when the file changed since [`TagFile::open`] (another writer).
    fn still_as_read(&self) -> Result<(), Error> {
        if Snapshot::of(&self.path)? == self.snapshot {
            Ok(())
        } else {
            Err(error(
                "the file changed while it was being tagged; left as it is",
            ))
        }
    }

    /// Whether the tag already holds everything `change` puts there ([`TagFile::save`]): the
    /// genre values in every genre field (unless a person's genre is kept) and each of our
    /// fields. lofty's own equality of tags does not tell: ID3v2 frames compare by their id
    /// alone.
    fn already_says(&self, change: &Change, genre_values: &[String]) -> bool {
        let wanted = join(genre_values);
        let genre_as_wanted =
            change.kept_existing_genre || self.genre_fields().iter().all(|field| *field == wanted);
        let mood_as_wanted = change.kept_existing_mood || self.native.mood() == change.mood_after;
        genre_as_wanted
            && mood_as_wanted
            && change
                .fields
                .iter()
                .all(|(name, value)| self.field(name).as_deref() == Some(value.as_str()))
    }

    /// Copies the file to `temp` and writes the native tag into the copy.
    fn write_copy(&mut self, temp: &Path) -> Result<(), Error> {
        // `fs::copy` also copies the permission bits.
        std::fs::copy(&self.path, temp).map_err(|e| {
            error(format!(
                "cannot copy the file beside itself: {}",
                io_reason(&e)
            ))
        })?;
        let mut copy = OpenOptions::new()
            .read(true)
            .write(true)
            .open(temp)
            .map_err(|e| error(io_reason(&e)))?;
        let options = WriteOptions::default();
        let written = match (&self.native, &mut self.flac) {
            (Native::Vorbis(tag), Some(flac)) => {
                let _ = flac.set_vorbis_comments(tag.clone());
                flac.save_to(&mut copy, options)
            }
            (Native::Id3(tag), _) => tag.save_to(&mut copy, options),
            (Native::Vorbis(tag), None) => tag.save_to(&mut copy, options),
            (Native::Ilst(tag), _) => tag.save_to(&mut copy, options),
        };
        written.map_err(|e| error(format!("cannot write tags: {e}")))?;
        if let Some(riff) = self.riff.as_ref().filter(|_| self.riff_changed) {
            copy.seek(SeekFrom::Start(0))
                .map_err(|e| error(io_reason(&e)))?;
            riff.save_to(&mut copy, options)
                .map_err(|e| error(format!("cannot write the RIFF INFO list: {e}")))?;
        }
        copy.sync_all().map_err(|e| error(io_reason(&e)))
    }
}

/// The tags of a file of `file_type`, strictly parsed: the native tag, a FLAC file as read
/// and a WAV file's RIFF INFO list.
fn read_tags(
    file: &mut File,
    file_type: Option<FileType>,
) -> Result<(Native, Option<FlacFile>, Option<RiffInfoList>), Error> {
    let options = ParseOptions::new()
        .parsing_mode(ParsingMode::Strict)
        .read_properties(false);
    let id3 = |tag: Option<&Id3v2Tag>| Native::Id3(tag.cloned().unwrap_or_default());
    Ok(match file_type {
        Some(FileType::Mpeg) => {
            let mut audio = WithoutId3v1::new(file).map_err(|e| error(io_reason(&e)))?;
            (id3(MpegFile::read_from(&mut audio, options).map_err(corrupt)?.id3v2()), None, None)
        }
        Some(FileType::Wav) => {
            let read = WavFile::read_from(file, options).map_err(corrupt)?;
            (id3(read.id3v2()), None, Some(read.riff_info().cloned().unwrap_or_default()))
        }
        Some(FileType::Aiff) => (id3(AiffFile::read_from(file, options).map_err(corrupt)?.id3v2()), None, None),
        Some(FileType::Flac) => {
            let read = FlacFile::read_from(file, options).map_err(corrupt)?;
            (Native::Vorbis(read.vorbis_comments().cloned().unwrap_or_default()), Some(read), None)
        }
        Some(FileType::Vorbis) => (Native::Vorbis(VorbisFile::read_from(file, options).map_err(corrupt)?.vorbis_comments().clone()), None, None),
        Some(FileType::Mp4) => (Native::Ilst(Mp4File::read_from(file, options).map_err(corrupt)?.ilst().cloned().unwrap_or_default()), None, None),
        Some(other) => {
            return Err(error(format!(
                "unsupported container for tagging: {other:?} (genrescope tags MP3, WAV, AIFF, FLAC, Ogg Vorbis and MP4)"
            )))
        }
        None => {
            return Err(error(
                "unsupported container for tagging: not MP3, WAV, AIFF, FLAC, Ogg Vorbis or MP4",
            ))
        }
    })
}

/// An MP3 file seen without its trailing ID3v1 tag (the last 128 bytes, when they start with
/// `TAG`): reads stop and `SeekFrom::End` counts from where the tag begins.
struct WithoutId3v1<R> {
    inner: R,
    /// Bytes before the ID3v1 tag (the whole file without one).
    len: u64,
    /// The position in `inner`, kept here so that reads need no seek.
    position: u64,
}

impl<R: Read + Seek> WithoutId3v1<R> {
    /// Looks for the tag; leaves the view at its start.
    fn new(mut inner: R) -> std::io::Result<Self> {
        const ID3V1_LEN: u64 = 128;
        let total = inner.seek(SeekFrom::End(0))?;
        let mut marker = [0; 3];
        let len = if total >= ID3V1_LEN {
            inner.seek(SeekFrom::Start(total - ID3V1_LEN))?;
            inner.read_exact(&mut marker)?;
            if &marker == b"TAG" {
                total - ID3V1_LEN
            } else {
                total
            }
        } else {
            total
        };
        inner.seek(SeekFrom::Start(0))?;
        Ok(Self {
            inner,
            len,
            position: 0,
        })
    }
}

impl<R: Read> Read for WithoutId3v1<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = usize::try_from(self.len.saturating_sub(self.position)).unwrap_or(usize::MAX);
        let take = buf.len().min(left);
        let read = self.inner.read(&mut buf[..take])?;
        self.position += read as u64;
        Ok(read)
    }
}

impl<R: Seek> Seek for WithoutId3v1<R> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let to = match to {
            SeekFrom::End(offset) => SeekFrom::Start(
                self.len
                    .checked_add_signed(offset)
                    .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::InvalidInput))?,
            ),
            other => other,
        };
        self.position = self.inner.seek(to)?;
        Ok(self.position)
    }
}

/// The folder a file is in (`.` for a bare file name): where its temporary copy goes.
pub fn folder_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// The hidden temporary file beside `name` that [`TagFile::save`] writes in process `pid`:
/// `.name.genrescope-PID.tmp`.
pub fn temporary_name(name: &str, pid: u32) -> String {
    format!(".{name}.genrescope-{pid}.tmp")
}

/// The process that wrote a temporary file named by [`temporary_name`], or `None` for any
/// other name.
fn temporary_owner(file_name: &str) -> Option<u32> {
    let inner = file_name.strip_prefix('.')?.strip_suffix(".tmp")?;
    let (name, pid) = inner.rsplit_once(".genrescope-")?;
    let digits = !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit());
    (!name.is_empty() && digits)
        .then(|| pid.parse().ok())
        .flatten()
}

/// Removes the temporary files of [`TagFile::save`] in `dir` that no running process will
/// finish: those named by [`temporary_name`] whose process no longer exists (a `tag` run that
/// was killed). Nothing else is touched: not other names, not links, not the files of running
/// processes. Returns the paths removed.
pub fn remove_stale_temporaries(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_file()))
        .filter(|entry| {
            temporary_owner(&entry.file_name().to_string_lossy())
                .is_some_and(|pid| !process_exists(pid))
        })
        .map(|entry| entry.path())
        .filter(|path| std::fs::remove_file(path).is_ok())
        .collect()
}

/// How many names (hard links) the file has.
#[cfg(unix)]
fn hard_links(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata(path).map_or(1, |meta| meta.nlink())
}

/// Without a portable count, every file has one name.
#[cfg(not(unix))]
fn hard_links(_path: &Path) -> u64 {
    1
}

/// Whether process `pid` exists on this machine (signal 0 checks without sending anything; a
/// process of another user exists too).
#[cfg(unix)]
fn process_exists(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: `kill` with signal 0 only checks that the process exists and may be signalled.
    let result = unsafe { libc::kill(pid, 0) };
    result == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// Without a portable check every process is taken to exist: nothing is removed.
#[cfg(not(unix))]
fn process_exists(_pid: u32) -> bool {
    true
}

/// Values joined by `; `, or `None` for none.
fn join(values: &[String]) -> Option<String> {
    (!values.is_empty()).then(|| values.join("; "))
}

/// `Electronic 71%;Pop 12%`: names with whole-percent probabilities, `;`-separated (the form
/// of [`FIELD_GENRES`] and [`FIELD_STYLES`]).
pub fn percent_list<'a>(items: impl IntoIterator<Item = (&'a str, f32)>) -> String {
    items
        .into_iter()
        .map(|(name, p)| format!("{name} {:.0}%", p * 100.0))
        .collect::<Vec<_>>()
        .join(";")
}

//! Writing genres into audio files' own tags, where DJ software and music players read them,
//! without ever losing anything: [`TagFile`] reads a file's tags with `lofty`, plans a
//! [`Change`], and [`TagFile::save`] writes it through a temporary copy in the same folder
//! that replaces the original only when complete.
//!
//! | container | tag | genre field | our fields |
//! | --- | --- | --- | --- |
//! | MP3, WAV, AIFF | ID3v2 (v2.4) | `TCON` (several genres: v2.4's NUL-separated values) | `TXXX:GENRESCOPE_*` |
//! | FLAC, Ogg Vorbis, Opus | Vorbis comments | `GENRE` (one field per genre) | `GENRESCOPE_*` |
//! | MP4/M4A | `ilst` | `©gen` (several genres joined by `; `) | `----:com.apple.iTunes:GENRESCOPE_*` |
//!
//! Our fields: [`FIELD_GENRE`] (exactly what we put into the genre field, so a later run can
//! tell its own genre from one a person wrote), [`FIELD_GENRES`] (`Electronic 71%;Pop 12%`),
//! [`FIELD_STYLES`] and [`FIELD_MODEL`].

pub mod rekordbox;

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use lofty::config::{ParseOptions, ParsingMode, WriteOptions};
use lofty::file::{AudioFile, FileType};
use lofty::flac::FlacFile;
use lofty::id3::v2::Id3v2Tag;
use lofty::iff::aiff::AiffFile;
use lofty::iff::wav::WavFile;
use lofty::mp4::{Atom, AtomData, AtomIdent, Ilst, Mp4File};
use lofty::mpeg::MpegFile;
use lofty::ogg::tag::VorbisComments;
use lofty::ogg::{OpusFile, VorbisFile};
use lofty::tag::Accessor;
use serde::{Deserialize, Serialize};

use crate::Error;

/// Exactly what genrescope last wrote into the genre field (values joined by `; `).
pub const FIELD_GENRE: &str = "GENRESCOPE_GENRE";
/// The top genres with their probabilities: `Electronic 71%;Pop 12%;Rock 5%`.
pub const FIELD_GENRES: &str = "GENRESCOPE_GENRES";
/// The top style tags of a pooled model: `dance 40%;House 31%`.
pub const FIELD_STYLES: &str = "GENRESCOPE_STYLES";
/// The model and the program: `genre-v2@1a2b3c4d5e6f (genrescope 0.1.0)`.
pub const FIELD_MODEL: &str = "GENRESCOPE_MODEL";

/// The `mean` of our MP4 freeform atoms (iTunes' own, which every MP4 tagger shows).
const MP4_MEAN: &str = "com.apple.iTunes";

/// What genrescope wants a file to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    /// Values of the genre field, most likely first (display names, then style tags if asked).
    pub genres: Vec<String>,
    /// Our own fields ([`FIELD_GENRES`], [`FIELD_STYLES`], [`FIELD_MODEL`]), name and value.
    pub fields: Vec<(String, String)>,
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
}

impl Change {
    /// Whether the genre field changes.
    pub fn genre_changes(&self) -> bool {
        self.genre_before != self.genre_after
    }
}

fn error(message: impl Into<String>) -> Error {
    Error::Tag(message.into())
}

/// A file's container, parsed by `lofty`, holding every tag it had.
enum Container {
    Mpeg(MpegFile),
    Wav(WavFile),
    Aiff(AiffFile),
    Flac(FlacFile),
    Vorbis(VorbisFile),
    Opus(OpusFile),
    Mp4(Mp4File),
}

/// The tag genrescope writes in, taken out of its container for editing.
enum Native {
    Id3(Id3v2Tag),
    Vorbis(VorbisComments),
    Ilst(Ilst),
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
    container: Container,
    native: Native,
    snapshot: Snapshot,
}

impl TagFile {
    /// Reads the file's tags. Errors (the file is untouched): missing, not a regular file,
    /// read-only (its permissions forbid writing, even to root), a container genrescope does
    /// not tag, or tags that do not parse strictly (rewriting a damaged tag could lose what
    /// a lenient parser skipped).
    pub fn open(path: &Path) -> Result<Self, Error> {
        let meta = std::fs::metadata(path).map_err(|e| error(io_reason(&e)))?;
        if !meta.is_file() {
            return Err(error("not a regular file"));
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
        let options = ParseOptions::new()
            .parsing_mode(ParsingMode::Strict)
            .read_properties(false);
        let container = match file_type {
            Some(FileType::Mpeg) => Container::Mpeg(MpegFile::read_from(&mut file, options).map_err(corrupt)?),
            Some(FileType::Wav) => Container::Wav(WavFile::read_from(&mut file, options).map_err(corrupt)?),
            Some(FileType::Aiff) => Container::Aiff(AiffFile::read_from(&mut file, options).map_err(corrupt)?),
            Some(FileType::Flac) => Container::Flac(FlacFile::read_from(&mut file, options).map_err(corrupt)?),
            Some(FileType::Vorbis) => Container::Vorbis(VorbisFile::read_from(&mut file, options).map_err(corrupt)?),
            Some(FileType::Opus) => Container::Opus(OpusFile::read_from(&mut file, options).map_err(corrupt)?),
            Some(FileType::Mp4) => Container::Mp4(Mp4File::read_from(&mut file, options).map_err(corrupt)?),
            Some(other) => {
                return Err(error(format!(
                    "unsupported container for tagging: {other:?} (genrescope tags MP3, WAV, AIFF, FLAC, Ogg Vorbis, Opus and MP4)"
                )))
            }
            None => {
                return Err(error(
                    "unsupported container for tagging: not MP3, WAV, AIFF, FLAC, Ogg Vorbis, Opus or MP4",
                ))
            }
        };
        let native = match &container {
            Container::Mpeg(f) => Native::Id3(f.id3v2().cloned().unwrap_or_default()),
            Container::Wav(f) => Native::Id3(f.id3v2().cloned().unwrap_or_default()),
            Container::Aiff(f) => Native::Id3(f.id3v2().cloned().unwrap_or_default()),
            Container::Flac(f) => Native::Vorbis(f.vorbis_comments().cloned().unwrap_or_default()),
            Container::Vorbis(f) => Native::Vorbis(f.vorbis_comments().clone()),
            Container::Opus(f) => Native::Vorbis(f.vorbis_comments().clone()),
            Container::Mp4(f) => Native::Ilst(f.ilst().cloned().unwrap_or_default()),
        };
        Ok(Self {
            path: path.to_owned(),
            container,
            native,
            snapshot,
        })
    }

    /// The genre field's values.
    pub fn genres(&self) -> Vec<String> {
        match &self.native {
            Native::Id3(tag) => tag
                .genres()
                .map(|g| g.map(str::to_owned).collect())
                .unwrap_or_default(),
            Native::Vorbis(tag) => tag.get_all("GENRE").map(str::to_owned).collect(),
            Native::Ilst(tag) => tag
                .genre()
                .map(|g| vec![g.into_owned()])
                .unwrap_or_default(),
        }
    }

    /// One of our fields (or any custom field) by name.
    pub fn field(&self, name: &str) -> Option<String> {
        match &self.native {
            Native::Id3(tag) => tag.get_user_text(name).map(str::to_owned),
            Native::Vorbis(tag) => tag.get(name).map(str::to_owned),
            Native::Ilst(tag) => tag.get(&freeform(name)).and_then(|atom| {
                atom.data().find_map(|d| match d {
                    AtomData::UTF8(text) | AtomData::UTF16(text) => Some(text.clone()),
                    _ => None,
                })
            }),
        }
    }

    /// The title, if the file has one.
    pub fn title(&self) -> Option<String> {
        match &self.native {
            Native::Id3(tag) => tag.title().map(std::borrow::Cow::into_owned),
            Native::Vorbis(tag) => tag.title().map(std::borrow::Cow::into_owned),
            Native::Ilst(tag) => tag.title().map(std::borrow::Cow::into_owned),
        }
    }

    /// The artist, if the file has one.
    pub fn artist(&self) -> Option<String> {
        match &self.native {
            Native::Id3(tag) => tag.artist().map(std::borrow::Cow::into_owned),
            Native::Vorbis(tag) => tag.artist().map(std::borrow::Cow::into_owned),
            Native::Ilst(tag) => tag.artist().map(std::borrow::Cow::into_owned),
        }
    }

    /// What writing `wanted` changes. The genre field is replaced when it is empty, when it
    /// still holds exactly what genrescope wrote last time ([`FIELD_GENRE`]), or with
    /// `overwrite`; otherwise a person wrote it and it is kept. Our fields are always written.
    pub fn plan(&self, wanted: &Wanted, overwrite: bool) -> Change {
        let before = join(&self.genres());
        let ours = self.field(FIELD_GENRE);
        let replace = before.is_none() || overwrite || ours.is_some() && ours == before;
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
        }
        Change {
            genre_before: before,
            genre_after: after,
            kept_existing_genre: !replace,
            fields,
        }
    }

    /// Applies `change` and writes the file safely: the original is copied to a hidden
    /// temporary file in the same folder (same permissions), the tags are written into the
    /// copy, the copy is fsynced and renamed over the original, and the folder is fsynced. The
    /// audio data is copied byte for byte; a file that changed since [`TagFile::open`] is left
    /// alone (error). On any error the temporary file is removed and the original is as it was.
    pub fn save(mut self, change: &Change, genre_values: &[String]) -> Result<(), Error> {
        self.apply(change, genre_values);
        let dir = self
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp = dir.join(format!(".{name}.genrescope-{}.tmp", std::process::id()));
        let unchanged = || {
            if Snapshot::of(&self.path)? == self.snapshot {
                Ok(())
            } else {
                Err(error(
                    "the file changed while it was being tagged; left as it is",
                ))
            }
        };
        unchanged()?;
        let result = self.write_copy(&temp).and_then(|()| {
            unchanged()?;
            std::fs::rename(&temp, &self.path)
                .map_err(|e| error(format!("cannot replace the file: {}", io_reason(&e))))?;
            // The rename itself reaches the disk with the folder.
            if let Ok(folder) = File::open(dir) {
                let _ = folder.sync_all();
            }
            Ok(())
        });
        if result.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        result
    }

    fn write_copy(&self, temp: &Path) -> Result<(), Error> {
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
        let written = match &self.container {
            Container::Mpeg(f) => f.save_to(&mut copy, options),
            Container::Wav(f) => f.save_to(&mut copy, options),
            Container::Aiff(f) => f.save_to(&mut copy, options),
            Container::Flac(f) => f.save_to(&mut copy, options),
            Container::Vorbis(f) => f.save_to(&mut copy, options),
            Container::Opus(f) => f.save_to(&mut copy, options),
            Container::Mp4(f) => f.save_to(&mut copy, options),
        };
        written.map_err(|e| error(format!("cannot write tags: {e}")))?;
        copy.sync_all().map_err(|e| error(io_reason(&e)))
    }

    /// Puts the change into the native tag, and the native tag back into its container.
    fn apply(&mut self, change: &Change, genre_values: &[String]) {
        let replace_genre = !change.kept_existing_genre;
        match &mut self.native {
            Native::Id3(tag) => {
                if replace_genre {
                    // ID3v2.4 separates several values of a text frame with NUL.
                    tag.set_genre(genre_values.join("\0"));
                }
                for (name, value) in &change.fields {
                    tag.insert_user_text(name.clone(), value.clone());
                }
            }
            Native::Vorbis(tag) => {
                if replace_genre {
                    let _ = tag.remove("GENRE").count();
                    for genre in genre_values {
                        tag.push("GENRE".to_owned(), genre.clone());
                    }
                }
                for (name, value) in &change.fields {
                    tag.insert(name.clone(), value.clone());
                }
            }
            Native::Ilst(tag) => {
                if replace_genre {
                    tag.set_genre(genre_values.join("; "));
                }
                for (name, value) in &change.fields {
                    tag.replace_atom(Atom::new(freeform(name), AtomData::UTF8(value.clone())));
                }
            }
        }
        match (&mut self.container, &self.native) {
            (Container::Mpeg(f), Native::Id3(tag)) => {
                let _ = f.set_id3v2(tag.clone());
            }
            (Container::Wav(f), Native::Id3(tag)) => {
                let _ = f.set_id3v2(tag.clone());
            }
            (Container::Aiff(f), Native::Id3(tag)) => {
                let _ = f.set_id3v2(tag.clone());
            }
            (Container::Flac(f), Native::Vorbis(tag)) => {
                let _ = f.set_vorbis_comments(tag.clone());
            }
            (Container::Vorbis(f), Native::Vorbis(tag)) => {
                let _ = f.set_vorbis_comments(tag.clone());
            }
            (Container::Opus(f), Native::Vorbis(tag)) => {
                let _ = f.set_vorbis_comments(tag.clone());
            }
            (Container::Mp4(f), Native::Ilst(tag)) => {
                let _ = f.set_ilst(tag.clone());
            }
            _ => unreachable!("the native tag is read from its own container"),
        }
    }
}

fn freeform(name: &str) -> AtomIdent<'static> {
    AtomIdent::Freeform {
        mean: MP4_MEAN.into(),
        name: name.to_owned().into(),
    }
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

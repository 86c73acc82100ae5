//! The tag genrescope writes in, whatever the container: one view of ID3v2, Vorbis comments
//! and MP4 `ilst` for the genre field and for named fields (ours: `GENRESCOPE_*`).

use std::borrow::Cow;

use lofty::id3::v2::{Frame, FrameId, Id3v2Tag, TextInformationFrame};
use lofty::mp4::{Atom, AtomData, AtomIdent, Ilst};
use lofty::ogg::tag::VorbisComments;
use lofty::tag::Accessor;
use lofty::TextEncoding;

/// The `mean` of our MP4 freeform atoms (iTunes' own, which every MP4 tagger shows).
const MP4_MEAN: &str = "com.apple.iTunes";

/// The mood field of Vorbis comments (`MOOD`) and MP4 (`----:com.apple.iTunes:MOOD`), as
/// lofty's `ItemKey::Mood` maps them; ID3v2 has its own frame, [`ID3_MOOD`].
const MOOD: &str = "MOOD";
/// ID3v2.4's mood frame.
const ID3_MOOD: &str = "TMOO";

/// The tag genrescope writes in, as read from the file.
pub(super) enum Native {
    Id3(Id3v2Tag),
    Vorbis(VorbisComments),
    Ilst(Ilst),
}

impl Native {
    /// The genre field's values.
    pub(super) fn genres(&self) -> Vec<String> {
        match self {
            Self::Id3(tag) => tag
                .genres()
                .map(|g| g.map(str::to_owned).collect())
                .unwrap_or_default(),
            Self::Vorbis(tag) => tag.get_all("GENRE").map(str::to_owned).collect(),
            Self::Ilst(tag) => tag
                .genre()
                .map(|g| vec![g.into_owned()])
                .unwrap_or_default(),
        }
    }

    /// Replaces the genre field's values; no values remove the field.
    pub(super) fn set_genres(&mut self, values: &[String]) {
        match self {
            // ID3v2.4 separates several values of a text frame with NUL.
            Self::Id3(tag) if values.is_empty() => tag.remove_genre(),
            Self::Id3(tag) => tag.set_genre(values.join("\0")),
            Self::Vorbis(tag) => {
                let _ = tag.remove("GENRE").count();
                for genre in values {
                    tag.push("GENRE".to_owned(), genre.clone());
                }
            }
            Self::Ilst(tag) if values.is_empty() => tag.remove_genre(),
            Self::Ilst(tag) => tag.set_genre(values.join("; ")),
        }
    }

    /// A named field (ID3v2 `TXXX`, Vorbis field, MP4 freeform atom).
    pub(super) fn field(&self, name: &str) -> Option<String> {
        match self {
            Self::Id3(tag) => tag.get_user_text(name).map(str::to_owned),
            Self::Vorbis(tag) => tag.get(name).map(str::to_owned),
            Self::Ilst(tag) => tag.get(&freeform(name)).and_then(|atom| {
                atom.data().find_map(|d| match d {
                    AtomData::UTF8(text) | AtomData::UTF16(text) => Some(text.clone()),
                    _ => None,
                })
            }),
        }
    }

    /// Sets a named field, replacing its value.
    pub(super) fn set_field(&mut self, name: &str, value: &str) {
        match self {
            Self::Id3(tag) => {
                tag.insert_user_text(name.to_owned(), value.to_owned());
            }
            Self::Vorbis(tag) => tag.insert(name.to_owned(), value.to_owned()),
            Self::Ilst(tag) => {
                tag.replace_atom(Atom::new(freeform(name), AtomData::UTF8(value.to_owned())));
            }
        }
    }

    /// Removes a named field, every value of it.
    pub(super) fn remove_field(&mut self, name: &str) {
        match self {
            Self::Id3(tag) => {
                let _ = tag.remove_user_text(name);
            }
            Self::Vorbis(tag) => {
                let _ = tag.remove(name).count();
            }
            Self::Ilst(tag) => {
                let _ = tag.remove(&freeform(name)).count();
            }
        }
    }

    /// The mood field's value (ID3v2 `TMOO`, Vorbis `MOOD`, MP4 `----:com.apple.iTunes:MOOD`).
    pub(super) fn mood(&self) -> Option<String> {
        match self {
            Self::Id3(tag) => tag.get_text(&id3_mood()).map(str::to_owned),
            _ => self.field(MOOD),
        }
    }

    /// Sets the mood field; `None` removes it.
    pub(super) fn set_mood(&mut self, value: Option<&str>) {
        match (self, value) {
            (Self::Id3(tag), Some(value)) => {
                let frame =
                    TextInformationFrame::new(id3_mood(), TextEncoding::UTF8, value.to_owned());
                let _ = tag.insert(Frame::Text(frame));
            }
            (Self::Id3(tag), None) => {
                let _ = tag.remove(&id3_mood()).count();
            }
            (native, Some(value)) => native.set_field(MOOD, value),
            (native, None) => native.remove_field(MOOD),
        }
    }

    /// The title, if the tag has one.
    pub(super) fn title(&self) -> Option<String> {
        match self {
            Self::Id3(tag) => tag.title().map(Cow::into_owned),
            Self::Vorbis(tag) => tag.title().map(Cow::into_owned),
            Self::Ilst(tag) => tag.title().map(Cow::into_owned),
        }
    }

    /// The artist, if the tag has one.
    pub(super) fn artist(&self) -> Option<String> {
        match self {
            Self::Id3(tag) => tag.artist().map(Cow::into_owned),
            Self::Vorbis(tag) => tag.artist().map(Cow::into_owned),
            Self::Ilst(tag) => tag.artist().map(Cow::into_owned),
        }
    }
}

fn id3_mood() -> FrameId<'static> {
    FrameId::Valid(Cow::Borrowed(ID3_MOOD))
}

fn freeform(name: &str) -> AtomIdent<'static> {
    AtomIdent::Freeform {
        mean: MP4_MEAN.into(),
        name: name.to_owned().into(),
    }
}

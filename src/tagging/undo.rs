//! `genrescope untag`'s side of [`TagFile`]: what genrescope changed in a file, undone. The
//! genre goes back to what it was before genrescope first wrote it ([`FIELD_GENRE_BEFORE`],
//! or none), unless someone changed it since, and so does the mood ([`FIELD_MOOD_BEFORE`]);
//! every field of ours is removed.

use super::{
    join, Error, TagFile, FIELD_GENRE, FIELD_GENRES, FIELD_GENRE_BEFORE, FIELD_INSTRUMENTS,
    FIELD_MODEL, FIELD_MOOD, FIELD_MOOD_BEFORE, FIELD_STYLES, FIELD_VOICES,
};

/// Every field genrescope writes beside the genre.
pub const OUR_FIELDS: &[&str] = &[
    FIELD_GENRE,
    FIELD_GENRE_BEFORE,
    FIELD_GENRES,
    FIELD_STYLES,
    FIELD_MODEL,
    FIELD_MOOD,
    FIELD_MOOD_BEFORE,
    FIELD_INSTRUMENTS,
    FIELD_VOICES,
];

/// What `untag` changes in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undo {
    /// The genre now (values joined by `; `).
    pub genre_before: Option<String>,
    /// The genre after: the one genrescope replaced, or none; or the genre now when it is not
    /// genrescope's.
    pub genre_after: Option<String>,
    /// The genre still holds what genrescope wrote, and is put back.
    pub restores_genre: bool,
    /// The mood field now, and after: as for the genre.
    pub mood_before: Option<String>,
    pub mood_after: Option<String>,
    /// The mood still holds what genrescope wrote, and is put back.
    pub restores_mood: bool,
    /// Our fields the file has, all removed.
    pub removed_fields: Vec<String>,
}

impl Undo {
    /// Nothing of genrescope's is left in the file: it is not rewritten.
    pub fn is_nothing(&self) -> bool {
        !self.restores_genre && !self.restores_mood && self.removed_fields.is_empty()
    }
}

impl TagFile {
    /// What undoing genrescope's tagging changes: the genre fields that still hold what it
    /// wrote ([`FIELD_GENRE`]) get back what they held before, and [`OUR_FIELDS`] go. A genre
    /// someone changed since is kept.
    pub fn plan_undo(&self) -> Undo {
        let restores_genre = self.genre_is_ours();
        let genre_before = join(&self.genres());
        let genre_after = if restores_genre {
            self.field(FIELD_GENRE_BEFORE)
        } else {
            genre_before.clone()
        };
        let mood_before = self.native.mood();
        let restores_mood = mood_before.is_some() && mood_before == self.field(FIELD_MOOD);
        let mood_after = if restores_mood {
            self.field(FIELD_MOOD_BEFORE)
        } else {
            mood_before.clone()
        };
        let removed_fields = OUR_FIELDS
            .iter()
            .filter(|name| self.field(name).is_some())
            .map(|name| (*name).to_owned())
            .collect();
        Undo {
            genre_before,
            genre_after,
            restores_genre,
            mood_before,
            mood_after,
            restores_mood,
            removed_fields,
        }
    }

    /// Applies `undo` and writes the file safely, as [`TagFile::save`] does. Returns whether the
    /// file was rewritten: with nothing to undo, nothing is written.
    pub fn undo(self, undo: &Undo) -> Result<bool, Error> {
        if undo.is_nothing() {
            return Ok(false);
        }
        let ours = self.field(FIELD_GENRE);
        let values: Vec<String> = undo
            .genre_after
            .as_deref()
            .map(|genre| genre.split("; ").map(str::to_owned).collect())
            .unwrap_or_default();
        self.rewrite(|file| {
            if undo.restores_genre {
                file.set_genre(&values, |now| now == ours.as_deref());
            }
            if undo.restores_mood {
                file.native.set_mood(undo.mood_after.as_deref());
            }
            for name in &undo.removed_fields {
                file.native.remove_field(name);
            }
        })
    }
}

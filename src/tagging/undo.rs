//! `genrescope untag`'s side of [`TagFile`]: what genrescope changed in a file, undone. The
//! genre goes back to what it was before genrescope first wrote it ([`FIELD_GENRE_BEFORE`],
//! or none), unless someone changed it since; every field of ours is removed.

use super::{
    join, Error, TagFile, FIELD_GENRE, FIELD_GENRES, FIELD_GENRE_BEFORE, FIELD_MODEL, FIELD_STYLES,
};

/// Every field genrescope writes beside the genre.
pub const OUR_FIELDS: &[&str] = &[
    FIELD_GENRE,
    FIELD_GENRE_BEFORE,
    FIELD_GENRES,
    FIELD_STYLES,
    FIELD_MODEL,
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
    /// Our fields the file has, all removed.
    pub removed_fields: Vec<String>,
}

impl Undo {
    /// Nothing of genrescope's is left in the file: it is not rewritten.
    pub fn is_nothing(&self) -> bool {
        !self.restores_genre && self.removed_fields.is_empty()
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
        let removed_fields = OUR_FIELDS
            .iter()
            .filter(|name| self.field(name).is_some())
            .map(|name| (*name).to_owned())
            .collect();
        Undo {
            genre_before,
            genre_after,
            restores_genre,
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
            for name in &undo.removed_fields {
                file.native.remove_field(name);
            }
        })
    }
}

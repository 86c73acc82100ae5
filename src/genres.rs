//! The genre vocabulary (`models/genres.toml`): the genres genrescope names, with stable ids and
//! the names people see, and what every dataset label means in them (one genre, one of a set of
//! genres, or no genre at all).
//!
//! Models store genre ids as labels; everything a person reads (editor, CLI, tag exports,
//! reports) goes through [`Vocabulary::display_name`].

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use crate::Error;
use serde::Deserialize;

/// The vocabulary file built into genrescope.
const BUILTIN: &str = include_str!("../models/genres.toml");

/// One genre: a stable id and its display name.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Genre {
    pub id: String,
    pub name: String,
}

/// What a label means, resolved to genre ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Meaning {
    /// Exactly this genre.
    Genre(String),
    /// One of these genres (an umbrella label such as AllMusic's "Pop/Rock"); at least two.
    OneOf(Vec<String>),
    /// Not a musical style (holiday, comedy, ...), with the reason.
    NotAGenre(String),
}

/// How a clip's labels constrain its genre.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelKind {
    /// One label naming one genre.
    Single,
    /// One umbrella label: the clip is one of several genres.
    Partial,
    /// Several labels naming genres (`genres_all`): the clip may be any of them.
    Multi,
}

/// The genres a clip may be, from all its labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClipGenres {
    /// Candidate genre ids, sorted and unique; empty when no label names a genre.
    pub genres: Vec<String>,
    pub kind: LabelKind,
}

/// One model label as people and programs read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelName {
    /// The label as the model stores it.
    pub label: String,
    /// The stable id (see [`Vocabulary::id`]).
    pub id: String,
    /// What a person reads (see [`Vocabulary::display_name`]).
    pub name: String,
}

/// The parsed vocabulary file.
#[derive(Debug, Clone, PartialEq)]
pub struct Vocabulary {
    /// Bumped when an id changes meaning.
    pub version: u32,
    genres: Vec<Genre>,
    /// Lower-cased label (ids, names and the `[labels]` keys) → meaning.
    meanings: BTreeMap<String, Meaning>,
}

/// The file as written: `[labels]` values are an id, a list of ids, or `{ not_a_genre = "why" }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    version: u32,
    genre: Vec<Genre>,
    #[serde(default)]
    labels: BTreeMap<String, Target>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Target {
    Genre(String),
    OneOf(Vec<String>),
    NotAGenre { not_a_genre: String },
}

impl Vocabulary {
    /// `models/genres.toml` as built into this binary.
    pub fn builtin() -> &'static Self {
        static BUILT_IN: OnceLock<Vocabulary> = OnceLock::new();
        BUILT_IN.get_or_init(|| Self::parse(BUILTIN).expect("models/genres.toml is valid"))
    }

    pub fn load(path: &Path) -> Result<Self, Error> {
        Error::load_vocabulary(path, Self::parse)
    }

    /// Parses and checks a vocabulary: unique non-empty ids and names, and every mapped label
    /// pointing at known genres.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let file: File = toml::from_str(text).map_err(|e| Error::Vocabulary(e.to_string()))?;
        let mut meanings = BTreeMap::new();
        for genre in &file.genre {
            if genre.id.trim().is_empty() || genre.name.trim().is_empty() {
                return Err(Error::Vocabulary("a genre has an empty id or name".into()));
            }
            for key in [&genre.id, &genre.name] {
                let meaning = Meaning::Genre(genre.id.clone());
                match meanings.insert(key.to_lowercase(), meaning.clone()) {
                    Some(previous) if previous != meaning => {
                        return Err(Error::Vocabulary(format!("`{key}` names two genres")))
                    }
                    _ => {}
                }
            }
        }
        let known = |id: &str| file.genre.iter().any(|g| g.id == id);
        for (label, target) in file.labels {
            let meaning = match target {
                Target::Genre(id) => Meaning::Genre(id),
                Target::OneOf(mut ids) => {
                    ids.sort();
                    ids.dedup();
                    if ids.len() < 2 {
                        return Err(Error::Vocabulary(format!(
                            "label `{label}`: a set of candidates needs two genres or more"
                        )));
                    }
                    Meaning::OneOf(ids)
                }
                Target::NotAGenre { not_a_genre } => Meaning::NotAGenre(not_a_genre),
            };
            let ids: &[String] = match &meaning {
                Meaning::Genre(id) => std::slice::from_ref(id),
                Meaning::OneOf(ids) => ids,
                Meaning::NotAGenre(_) => &[],
            };
            if let Some(unknown) = ids.iter().find(|id| !known(id)) {
                return Err(Error::Vocabulary(format!(
                    "label `{label}` maps to `{unknown}`, which is not a [[genre]] id"
                )));
            }
            if meanings.insert(label.to_lowercase(), meaning).is_some() {
                return Err(Error::Vocabulary(format!(
                    "label `{label}` is mapped twice (or is a genre id or name)"
                )));
            }
        }
        Ok(Self {
            version: file.version,
            genres: file.genre,
            meanings,
        })
    }

    /// Every genre, in file order.
    pub fn genres(&self) -> &[Genre] {
        &self.genres
    }

    pub fn genre(&self, id: &str) -> Option<&Genre> {
        self.genres.iter().find(|g| g.id == id)
    }

    /// What `label` (a genre id or name, or a mapped dataset label; case-insensitive) means.
    pub fn meaning(&self, label: &str) -> Option<&Meaning> {
        self.meanings.get(&label.trim().to_lowercase())
    }

    /// The name a person reads for a model label: the genre's name, "Pop or Rock" for an
    /// umbrella label, else the label as it is (tags such as `80s`, or labels of models trained
    /// on a vocabulary this one does not know).
    pub fn display_name(&self, label: &str) -> String {
        let name = |id: &str| self.genre(id).map_or(id, |g| g.name.as_str()).to_owned();
        match self.meaning(label) {
            Some(Meaning::Genre(id)) => name(id),
            Some(Meaning::OneOf(ids)) => ids
                .iter()
                .map(|id| name(id))
                .collect::<Vec<_>>()
                .join(" or "),
            Some(Meaning::NotAGenre(_)) | None => label.to_owned(),
        }
    }

    /// The stable id of a model label: the genre's id; the candidates' ids joined by `|` for an
    /// umbrella label (`pop|rock`); else the label as it is (tags such as `80s`).
    pub fn id(&self, label: &str) -> String {
        match self.meaning(label) {
            Some(Meaning::Genre(id)) => id.clone(),
            Some(Meaning::OneOf(ids)) => ids.join("|"),
            Some(Meaning::NotAGenre(_)) | None => label.to_owned(),
        }
    }

    /// How every label of one model reads ([`Vocabulary::display_name`] and [`Vocabulary::id`]),
    /// in the model's order, with no two labels reading the same: when several labels mean one
    /// genre (a tagger's `rnb` and `soul`), the one that is the genre's id or name (else the
    /// first) gets the genre's name and id, and the others are shown as they are.
    pub fn model_labels(&self, labels: &[String]) -> Vec<LabelName> {
        let names: Vec<LabelName> = labels
            .iter()
            .map(|label| LabelName {
                label: label.clone(),
                id: self.id(label),
                name: self.display_name(label),
            })
            .collect();
        let direct = |label: &str| {
            self.genres.iter().any(|g| {
                g.id.eq_ignore_ascii_case(label.trim())
                    || g.name.to_lowercase() == label.trim().to_lowercase()
            })
        };
        // Which label keeps each shared name: a direct one, else the first.
        let mut owner: BTreeMap<String, usize> = BTreeMap::new();
        for (i, n) in names.iter().enumerate() {
            let key = n.name.to_lowercase();
            match owner.get(&key) {
                Some(&j) if direct(&names[j].label) || !direct(&n.label) => {}
                _ => {
                    owner.insert(key, i);
                }
            }
        }
        names
            .into_iter()
            .enumerate()
            .map(|(i, n)| {
                if owner[&n.name.to_lowercase()] == i {
                    n
                } else {
                    LabelName {
                        id: n.label.clone(),
                        name: n.label.clone(),
                        label: n.label,
                    }
                }
            })
            .collect()
    }

    /// Just the names of [`Vocabulary::model_labels`]: how a model's labels read, in its order.
    pub fn names(&self, labels: &[String]) -> Vec<String> {
        self.model_labels(labels)
            .into_iter()
            .map(|n| n.name)
            .collect()
    }

    /// The genres a clip with these labels may be. Labels that are not genres add nothing; a
    /// label the vocabulary does not know is an error naming it.
    pub fn clip_genres<'a>(
        &self,
        labels: impl IntoIterator<Item = &'a str>,
    ) -> Result<ClipGenres, Error> {
        // Distinct meanings: the same label spelt twice (`genre` and `genres_all`) is one.
        let mut meanings: Vec<&Meaning> = Vec::new();
        for label in labels {
            let meaning = self.meaning(label).ok_or_else(|| {
                Error::Vocabulary(format!(
                    "label `{label}` is not in the genre vocabulary: map it in \
                     models/genres.toml ([labels])"
                ))
            })?;
            if !matches!(meaning, Meaning::NotAGenre(_)) && !meanings.contains(&meaning) {
                meanings.push(meaning);
            }
        }
        let mut genres: Vec<String> = Vec::new();
        let mut umbrella = false;
        for meaning in &meanings {
            match meaning {
                Meaning::Genre(id) => genres.push(id.clone()),
                Meaning::OneOf(ids) => {
                    umbrella = true;
                    genres.extend(ids.iter().cloned());
                }
                Meaning::NotAGenre(_) => {}
            }
        }
        let naming = meanings.len();
        genres.sort();
        genres.dedup();
        let kind = match (naming, umbrella) {
            (0 | 1, false) => LabelKind::Single,
            (1, true) => LabelKind::Partial,
            _ => LabelKind::Multi,
        };
        Ok(ClipGenres { genres, kind })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_vocabulary_keeps_gtzan_expressible() {
        let v = Vocabulary::builtin();
        for label in [
            "blues",
            "classical",
            "country",
            "disco",
            "hiphop",
            "jazz",
            "metal",
            "pop",
            "reggae",
            "rock",
        ] {
            assert!(
                matches!(v.meaning(label), Some(Meaning::Genre(_))),
                "GTZAN's `{label}`"
            );
        }
        assert_eq!(v.display_name("hiphop"), "Hip-Hop");
        assert_eq!(v.display_name("rnb"), "R&B / Soul");
        assert_eq!(v.display_name("pop-rock(allmusic)"), "Pop or Rock");
        assert_eq!(v.display_name("international"), "World");
        // Tags and unknown labels are shown as they are.
        assert_eq!(v.display_name("80s"), "80s");
    }

    #[test]
    fn ids_are_stable_and_model_labels_never_read_the_same() {
        let v = Vocabulary::builtin();
        assert_eq!(v.id("hiphop"), "hip-hop");
        assert_eq!(v.id("Hip-Hop"), "hip-hop");
        assert_eq!(v.id("R&B / Soul"), "rnb");
        assert_eq!(v.id("pop-rock(allmusic)"), "pop|rock");
        assert_eq!(v.id("80s"), "80s");
        assert_eq!(v.id("instrumental"), "instrumental");

        let labels = ["hiphop", "pop-rock(allmusic)", "international", "rnb"].map(String::from);
        let names = v.model_labels(&labels);
        let read = |n: &[LabelName]| {
            n.iter()
                .map(|n| (n.name.clone(), n.id.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            read(&names),
            [
                ("Hip-Hop", "hip-hop"),
                ("Pop or Rock", "pop|rock"),
                ("World", "world"),
                ("R&B / Soul", "rnb"),
            ]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
        );
        assert_eq!(names[0].label, "hiphop");

        // A tagger with both `soul` and `rnb`: `rnb` (the genre's id) gets the name wherever it
        // stands; `soul` reads as it is. Tags outside the vocabulary stay as they are.
        let tags = ["soul", "rock", "80s", "rnb", "Hip-Hop"].map(String::from);
        assert_eq!(
            read(&v.model_labels(&tags)),
            [
                ("soul", "soul"),
                ("Rock", "rock"),
                ("80s", "80s"),
                ("R&B / Soul", "rnb"),
                ("Hip-Hop", "hip-hop"),
            ]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
        );
        // Two mapped labels of one genre: the first keeps the name.
        assert_eq!(
            v.names(&["rap", "hiphop"].map(String::from)),
            ["Hip-Hop", "hiphop"]
        );
    }

    #[test]
    fn umbrella_and_multi_labels_become_candidate_sets() {
        let v = Vocabulary::builtin();
        let single = v.clip_genres(["hiphop"]).unwrap();
        assert_eq!(
            (single.genres, single.kind),
            (vec!["hip-hop".into()], LabelKind::Single)
        );
        let partial = v.clip_genres(["pop-rock(allmusic)"]).unwrap();
        assert_eq!(partial.genres, ["pop", "rock"]);
        assert_eq!(partial.kind, LabelKind::Partial);
        let multi = v
            .clip_genres(["electronic", "international", "holiday"])
            .unwrap();
        assert_eq!(multi.genres, ["electronic", "world"]);
        assert_eq!(multi.kind, LabelKind::Multi);
        // A genre plus a non-genre is a single-genre clip; only non-genres leave no genre.
        assert_eq!(
            v.clip_genres(["country", "religious"]).unwrap().kind,
            LabelKind::Single
        );
        assert!(v.clip_genres(["holiday"]).unwrap().genres.is_empty());
        let unknown = v.clip_genres(["rock", "zydeco-punk"]).unwrap_err();
        assert!(unknown.to_string().contains("zydeco-punk"), "{unknown}");
    }

    #[test]
    fn every_label_of_the_shared_corpus_is_mapped() {
        let table = crate::research::music_dir().join("labels.tsv");
        let Ok(text) = std::fs::read_to_string(&table) else {
            panic!("{} is needed by the tests", table.display());
        };
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
        let col = |name| header.iter().position(|h| *h == name).unwrap();
        let (genre, all) = (col("genre"), col("genres_all"));
        let v = Vocabulary::builtin();
        for line in lines {
            let fields: Vec<&str> = line.split('\t').collect();
            let labels = fields[all]
                .split(';')
                .chain([fields[genre]])
                .filter(|l| !l.is_empty());
            v.clip_genres(labels)
                .unwrap_or_else(|e| panic!("{line}: {e}"));
        }
    }

    #[test]
    fn broken_vocabularies_are_refused_with_the_reason() {
        let genre = "version = 1\n[[genre]]\nid = \"rock\"\nname = \"Rock\"\n";
        assert!(Vocabulary::parse(genre).is_ok());
        let unknown = format!("{genre}[labels]\n\"x\" = \"jazz\"\n");
        assert!(Vocabulary::parse(&unknown)
            .unwrap_err()
            .to_string()
            .contains("jazz"));
        let lonely = format!("{genre}[labels]\n\"x\" = [\"rock\"]\n");
        assert!(Vocabulary::parse(&lonely)
            .unwrap_err()
            .to_string()
            .contains("two genres"));
        let twice = format!("{genre}[labels]\n\"ROCK\" = \"rock\"\n");
        assert!(Vocabulary::parse(&twice)
            .unwrap_err()
            .to_string()
            .contains("twice"));
        assert!(Vocabulary::parse("version = 1\n").is_err());
    }
}

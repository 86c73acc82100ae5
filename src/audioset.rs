//! What genrescope shows of AudioSet's classes (`models/audioset.toml`): the styles DJs name
//! beyond the 13 genres, the main instruments and the voices, each with a display name and a
//! probability threshold. The mood model's window outputs carry AudioSet's 527 class
//! probabilities as its pooled context's tags; [`Sounds::pick`] turns their mean over a
//! context or a file into what is shown.

use std::path::Path;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::Error;

/// The file built into genrescope.
const BUILTIN: &str = include_str!("../models/audioset.toml");

/// The name of the file in the per-user model folder that replaces the built-in one.
pub const FILE_NAME: &str = "audioset.toml";

/// Classes shown per category, at most.
pub const SHOWN: usize = 3;

/// What a class says about the music.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// A genre or style beyond the 13 genres (House, Techno, Metal, ...).
    Style,
    Instrument,
    Voice,
}

/// One AudioSet class genrescope shows.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Class {
    /// AudioSet's display name (`class_labels_indices.csv`), as the model's tags name it.
    pub audioset: String,
    /// What people read.
    pub name: String,
    pub category: Category,
    /// Probability (0–1) at or above which the class is shown; the file's default if absent.
    #[serde(default)]
    pub threshold: Option<f32>,
}

/// One class that was heard, with its mean probability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sound {
    /// What people read (`Drum & Bass`).
    pub name: String,
    /// AudioSet's name (`Drum and bass`).
    pub audioset: String,
    /// Mean probability over the context or the file, 0–1.
    pub probability: f32,
}

/// What was heard, per category: at most [`SHOWN`] classes above their threshold, most likely
/// first. Serialised as `analyze` writes it beside a file's genres: `audioset_styles` (`styles`
/// there is the genre model's own tags), `instruments` and `voices`, each left out when empty.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Heard {
    #[serde(
        rename = "audioset_styles",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub styles: Vec<Sound>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instruments: Vec<Sound>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub voices: Vec<Sound>,
}

impl Heard {
    /// The list of one category.
    pub fn of(&self, category: Category) -> &[Sound] {
        match category {
            Category::Style => &self.styles,
            Category::Instrument => &self.instruments,
            Category::Voice => &self.voices,
        }
    }

    fn of_mut(&mut self, category: Category) -> &mut Vec<Sound> {
        match category {
            Category::Style => &mut self.styles,
            Category::Instrument => &mut self.instruments,
            Category::Voice => &mut self.voices,
        }
    }

    /// `House, Disco` for one category (empty when nothing was heard).
    pub fn names(&self, category: Category) -> String {
        let names: Vec<&str> = self.of(category).iter().map(|s| s.name.as_str()).collect();
        names.join(", ")
    }
}

/// The parsed file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sounds {
    pub version: u32,
    /// Threshold of classes without their own, 0–1.
    pub default_threshold: f32,
    #[serde(rename = "class")]
    pub classes: Vec<Class>,
}

impl Sounds {
    /// `models/audioset.toml` as built into this binary.
    pub fn builtin() -> &'static Self {
        static BUILT_IN: OnceLock<Sounds> = OnceLock::new();
        BUILT_IN.get_or_init(|| Self::parse(BUILTIN).expect("models/audioset.toml is valid"))
    }

    /// The user's `audioset.toml` in `dir` (the per-user model folder) when there is one, else
    /// the built-in file. A user file that does not parse is an error naming it.
    pub fn current(dir: Option<&Path>) -> Result<Self, Error> {
        match dir.map(|dir| dir.join(FILE_NAME)).filter(|p| p.is_file()) {
            Some(path) => Self::load(&path),
            None => Ok(Self::builtin().clone()),
        }
    }

    pub fn load(path: &Path) -> Result<Self, Error> {
        Error::load_vocabulary(path, Self::parse)
    }

    /// Parses and checks the file: thresholds within 0–1, non-empty names, each AudioSet class
    /// at most once.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let sounds: Sounds = toml::from_str(text).map_err(|e| Error::Vocabulary(e.to_string()))?;
        let in_range = |t: f32| (0.0..=1.0).contains(&t);
        if !in_range(sounds.default_threshold) {
            return Err(Error::Vocabulary("default_threshold outside 0–1".into()));
        }
        for (i, class) in sounds.classes.iter().enumerate() {
            if class.audioset.trim().is_empty() || class.name.trim().is_empty() {
                return Err(Error::Vocabulary("a class has an empty name".into()));
            }
            if !class.threshold.is_none_or(in_range) {
                return Err(Error::Vocabulary(format!(
                    "`{}`: threshold outside 0–1",
                    class.audioset
                )));
            }
            if sounds.classes[..i]
                .iter()
                .any(|c| c.audioset == class.audioset)
            {
                return Err(Error::Vocabulary(format!("`{}` twice", class.audioset)));
            }
        }
        Ok(sounds)
    }

    /// What was heard: `probabilities[i]` is the mean probability of the class `tags[i]`
    /// names (a pooled model's [`Answer::tags`](crate::inference::decision::Answer) beside
    /// its context's tags). Classes the tags lack are never shown.
    pub fn pick(&self, tags: &[String], probabilities: &[f32]) -> Heard {
        let mut heard = Heard::default();
        for class in &self.classes {
            let threshold = class.threshold.unwrap_or(self.default_threshold);
            let found = tags
                .iter()
                .zip(probabilities)
                .find(|(t, _)| **t == class.audioset);
            if let Some((_, &probability)) = found.filter(|(_, &p)| p >= threshold) {
                heard.of_mut(class.category).push(Sound {
                    name: class.name.clone(),
                    audioset: class.audioset.clone(),
                    probability,
                });
            }
        }
        for category in [Category::Style, Category::Instrument, Category::Voice] {
            let list = heard.of_mut(category);
            list.sort_by(|a, b| b.probability.total_cmp(&a.probability));
            list.truncate(SHOWN);
        }
        heard
    }
}

/// The tags of a model that are shown as they are, by their own names beside the genre (a
/// tagger's style tags, e.g. musicnn's `dance`, `House`): all of them, unless they are AudioSet's
/// classes. Those are shown only through [`Sounds::pick`], by their display names and above
/// their thresholds, never as a bare list of the most likely of 527 classes. They are told apart
/// by the names: a model whose tags hold most of the built-in file's classes has AudioSet's.
pub fn shown_as_tags(tags: &[String]) -> Vec<String> {
    let classes = &Sounds::builtin().classes;
    let known = classes
        .iter()
        .filter(|class| tags.contains(&class.audioset))
        .count();
    match 2 * known > classes.len() {
        true => Vec::new(),
        false => tags.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_file_names_audioset_classes_in_every_category() {
        let sounds = Sounds::builtin();
        assert_eq!(sounds.default_threshold, 0.2);
        for category in [Category::Style, Category::Instrument, Category::Voice] {
            assert!(
                sounds
                    .classes
                    .iter()
                    .filter(|c| c.category == category)
                    .count()
                    >= 5,
                "{category:?}"
            );
        }
        let house = sounds.classes.iter().find(|c| c.audioset == "House music");
        assert_eq!(house.unwrap().name, "House");
        // Genres the genre model names are not styles here.
        for genre in ["Reggae", "Blues", "Jazz", "Hip hop music", "Rock music"] {
            assert!(
                sounds.classes.iter().all(|c| c.audioset != genre),
                "{genre}"
            );
        }
    }

    /// The thresholds are `cargo xtask aspects`'s fit (to 4 significant digits): a refit that
    /// is not copied into `models/audioset.toml` fails here.
    #[test]
    fn every_builtin_threshold_is_the_fitted_one() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/models/report/aspects.json");
        let fit: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        for class in &Sounds::builtin().classes {
            let fitted = fit["thresholds"][&class.audioset].as_f64().unwrap() as f32;
            let ours = class.threshold.expect("every built-in class is fitted");
            assert!(
                (ours - fitted).abs() <= fitted * 1e-3,
                "{}: {ours} vs {fitted}",
                class.audioset
            );
        }
    }

    /// Every class shown is one the shipped mood model scores (`models/mood.json`'s tags).
    #[test]
    fn every_builtin_class_is_a_tag_of_the_mood_model() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/models/mood.json");
        let metadata: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let tags: Vec<&str> = metadata["context"]["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        assert_eq!(tags.len(), 527, "AudioSet's classes");
        for class in &Sounds::builtin().classes {
            assert!(
                tags.contains(&class.audioset.as_str()),
                "{}",
                class.audioset
            );
        }
    }

    #[test]
    fn picks_the_most_likely_classes_above_their_threshold_per_category() {
        let sounds = Sounds::parse(
            r#"
            version = 1
            default_threshold = 0.2
            [[class]]
            audioset = "House music"
            name = "House"
            category = "style"
            [[class]]
            audioset = "Disco"
            name = "Disco"
            category = "style"
            threshold = 0.5
            [[class]]
            audioset = "Techno"
            name = "Techno"
            category = "style"
            [[class]]
            audioset = "Piano"
            name = "Piano"
            category = "instrument"
            [[class]]
            audioset = "Rapping"
            name = "Rapping"
            category = "voice"
            "#,
        )
        .unwrap();
        let tags: Vec<String> = [
            "Speech",
            "Techno",
            "Disco",
            "House music",
            "Piano",
            "Rapping",
        ]
        .map(String::from)
        .to_vec();
        let heard = sounds.pick(&tags, &[0.9, 0.3, 0.45, 0.6, 0.19, 0.2]);
        // Disco (0.45) is below its own 0.5; Piano below the default; Speech is not listed.
        assert_eq!(heard.names(Category::Style), "House, Techno");
        assert_eq!(heard.styles[0].audioset, "House music");
        assert_eq!(heard.styles[0].probability, 0.6);
        assert!(heard.instruments.is_empty());
        assert_eq!(heard.names(Category::Voice), "Rapping");
        // Tags that name none of the classes (another model's) show nothing.
        assert_eq!(sounds.pick(&["rock".into()], &[1.0]), Heard::default());
    }

    #[test]
    fn at_most_three_per_category() {
        let sounds = Sounds::builtin();
        let tags: Vec<String> = sounds.classes.iter().map(|c| c.audioset.clone()).collect();
        let probabilities: Vec<f32> = (0..tags.len()).map(|i| 0.3 + i as f32 * 0.01).collect();
        let heard = sounds.pick(&tags, &probabilities);
        for category in [Category::Style, Category::Instrument, Category::Voice] {
            let list = heard.of(category);
            assert_eq!(list.len(), SHOWN, "{category:?}");
            assert!(list
                .windows(2)
                .all(|w| w[0].probability >= w[1].probability));
        }
    }

    #[test]
    fn bad_files_are_refused_and_a_user_file_replaces_the_builtin_one() {
        let bad = |text: &str| Sounds::parse(text).is_err();
        let class =
            "[[class]]\naudioset = \"Piano\"\nname = \"Piano\"\ncategory = \"instrument\"\n";
        assert!(bad(&format!(
            "version = 1\ndefault_threshold = 1.5\n{class}"
        )));
        assert!(bad(&format!(
            "version = 1\ndefault_threshold = 0.2\n{class}{class}"
        )));
        assert!(bad(&format!(
            "version = 1\ndefault_threshold = 0.2\n{}",
            class.replace("instrument", "drum")
        )));
        let dir = std::env::temp_dir().join(format!("genrescope-audioset-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(&Sounds::current(Some(&dir)).unwrap(), Sounds::builtin());
        std::fs::write(
            dir.join(FILE_NAME),
            format!("version = 1\ndefault_threshold = 0.1\n{class}"),
        )
        .unwrap();
        let user = Sounds::current(Some(&dir));
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(user.unwrap().classes.len(), 1);
    }
    #[test]
    fn audioset_classes_are_never_shown_as_bare_tags() {
        let musicnn: Vec<String> = ["rock", "dance", "House", "guitar", "Hip-Hop", "funk"]
            .map(String::from)
            .to_vec();
        assert_eq!(shown_as_tags(&musicnn), musicnn);
        let audioset: Vec<String> = Sounds::builtin()
            .classes
            .iter()
            .map(|c| c.audioset.clone())
            .chain(["Speech".to_owned(), "Music".to_owned()])
            .collect();
        assert!(shown_as_tags(&audioset).is_empty());
        assert!(shown_as_tags(&[]).is_empty());
    }
}

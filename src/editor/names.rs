//! What the editor writes for genres: the names of the genre vocabulary
//! ([`crate::genres::Vocabulary::display_name`]), never the labels models store (`hiphop`,
//! `pop-rock(allmusic)`) or ids (`rnb`).

use std::sync::Arc;

use crate::genres::Vocabulary;
use crate::inference::{ModelMetadata, OutputKind};

/// The names of the current model's labels, in the model's order; named again only when the
/// labels change (a model change), not every frame.
#[derive(Debug, Default)]
pub struct Names {
    labels: Option<Arc<[String]>>,
    names: Arc<[String]>,
}

impl Names {
    /// `of(labels)[i]` is how `labels[i]` reads.
    pub fn of(&mut self, labels: &Arc<[String]>) -> Arc<[String]> {
        let same = self
            .labels
            .as_ref()
            .is_some_and(|known| Arc::ptr_eq(known, labels) || **known == **labels);
        if !same {
            self.names = display_names(labels).into();
            self.labels = Some(labels.clone());
        }
        self.names.clone()
    }
}

/// The names of a model's labels, in its order, no two alike
/// ([`Vocabulary::model_labels`]).
pub fn display_names(labels: &[String]) -> Vec<String> {
    Vocabulary::builtin().names(labels)
}

/// The track summary's lines: `1. Hip-Hop  71%` for the `n` most likely genres.
pub fn summary_lines(names: &[String], summary: &[f32], n: usize) -> Vec<String> {
    crate::inference::decision::ranked(summary)
        .into_iter()
        .take(n)
        .enumerate()
        .map(|(rank, i)| format!("{}. {}  {:.0}%", rank + 1, names[i], summary[i] * 100.0))
        .collect()
}

/// The model picker's details of a model: what it names, with genre names, and its windows.
pub fn model_details(metadata: &ModelMetadata) -> String {
    let names = display_names(&metadata.labels);
    let kind = match metadata.output {
        OutputKind::Softmax => "genres",
        OutputKind::Sigmoid => "tags, each with its own probability",
    };
    format!(
        "{} {kind}: {}\n{:.1}-s windows every {:.2} s",
        names.len(),
        names.join(", "),
        metadata.input.window_seconds(),
        metadata.input.hop_seconds()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inference::ModelChoice;

    #[test]
    fn names_follow_the_model_and_are_only_renamed_when_it_changes() {
        let mut names = Names::default();
        let first: Arc<[String]> = ["hiphop", "rnb", "pop-rock(allmusic)", "international"]
            .map(String::from)
            .into();
        let named = names.of(&first);
        assert_eq!(
            *named,
            ["Hip-Hop", "R&B / Soul", "Pop or Rock", "World"].map(String::from)
        );
        // The same labels again (a new view of the same model): the same names, not renamed.
        let again: Arc<[String]> = first.iter().cloned().collect();
        assert!(Arc::ptr_eq(&named, &names.of(&again)));
        let tagger: Arc<[String]> = ["rock", "80s", "soul", "rnb"].map(String::from).into();
        assert_eq!(
            *names.of(&tagger),
            ["Rock", "80s", "soul", "R&B / Soul"].map(String::from)
        );
    }

    #[test]
    fn the_summary_reads_names_most_likely_first() {
        let names = display_names(&["jazz", "hiphop", "rnb"].map(String::from));
        assert_eq!(
            summary_lines(&names, &[0.1, 0.71, 0.19], 3),
            ["1. Hip-Hop  71%", "2. R&B / Soul  19%", "3. Jazz  10%"]
        );
        assert_eq!(summary_lines(&names, &[0.1, 0.71, 0.19], 1).len(), 1);
    }

    #[test]
    fn model_details_list_every_built_in_models_labels_by_name() {
        let genres = model_details(&ModelChoice::Builtin.metadata().unwrap());
        let labels = ModelChoice::Builtin.metadata().unwrap().labels;
        assert!(
            genres.starts_with(&format!("{} genres: ", labels.len())),
            "{genres}"
        );
        assert!(genres.contains("Hip-Hop"), "{genres}");
        for artefact in ["hiphop", "allmusic", "international", "rnb"] {
            assert!(!genres.contains(artefact), "{artefact} in {genres}");
        }
        let tags = model_details(&ModelChoice::MsdMusicnn.metadata().unwrap());
        assert!(
            tags.starts_with("50 tags, each with its own probability: Rock, Pop, "),
            "{tags}"
        );
        assert!(tags.contains("80s") && tags.contains("Hip-Hop"), "{tags}");
    }
}

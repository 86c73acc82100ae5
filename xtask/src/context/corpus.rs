//! The labelled corpus as a pooled model learns it: every clip's labels turned into a set of
//! candidate genres through the genre vocabulary, the genres with enough clips to be measured,
//! and artist-grouped cross-validation folds; or, for the mood target, the 4Q clips and their
//! emotion quadrants (`genrescope::moods`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use genrescope::genres::{LabelKind, Vocabulary};
use genrescope::moods::{self, MOODS};

use crate::data::dataset::{Clip, Dataset, LabelsTable};
use crate::data::split::group_folds;

/// The corpus options `genre-v2` and `distill` share, so that both judge on the same clips,
/// genres and folds.
#[derive(clap::Args)]
pub struct CorpusArgs {
    /// A labels table (`../shared/music/labels.tsv`'s format) or a `<root>/<label>/<file>` tree.
    #[arg(default_value_os_t = genrescope::research::music_dir().join("labels.tsv"))]
    pub data: PathBuf,
    /// The genre vocabulary the labels are mapped through.
    #[arg(long, default_value = "models/genres.toml")]
    pub vocabulary: PathBuf,
    /// Folders written by `tools/musicnn/export_weights.py` (`MSD_musicnn`, `MTT_musicnn`).
    #[arg(long, default_value = "cache/musicnn")]
    pub weights: PathBuf,
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// A genre is in the model with at least this many single-genre clips...
    #[arg(long, default_value_t = 10)]
    pub min_single: usize,
    /// ...and this many clips in all.
    #[arg(long, default_value_t = 20)]
    pub min_clips: usize,
    /// What the heads learn: the genres, or the mood quadrant of the clips that have one (the
    /// 4Q emotion dataset's `Q1`-`Q4` in the labels table's `source_path`).
    #[arg(long, value_enum, default_value_t = Target::Genre)]
    pub target: Target,
}

/// What a corpus's classes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    Genre,
    Mood,
}

impl CorpusArgs {
    /// The vocabulary and the corpus these options describe.
    pub fn load(&self) -> anyhow::Result<(Vocabulary, Corpus)> {
        let vocabulary = Vocabulary::load(&self.vocabulary)?;
        let thresholds = Thresholds {
            single: self.min_single,
            any: self.min_clips,
        };
        let corpus = match self.target {
            Target::Genre => {
                Corpus::load(&self.data, &vocabulary, thresholds, self.folds, self.seed)?
            }
            Target::Mood => Corpus::load_moods(&self.data, thresholds, self.folds, self.seed)?,
        };
        Ok((vocabulary, corpus))
    }
}

/// How many clips a genre needs to be in the built-in model.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Thresholds {
    /// Clips labelled with that genre alone.
    pub single: usize,
    /// Clips that may be that genre (single, umbrella or multi-genre labels).
    pub any: usize,
}

/// One clip with the genres it may be.
#[derive(Debug, Clone)]
pub struct Labelled {
    pub clip: Clip,
    /// Candidate class indices, sorted, at least one.
    pub genres: Vec<usize>,
    pub kind: LabelKind,
    /// The dataset it comes from (the first folder of its path).
    pub source: String,
}

/// The clips, classes and folds every candidate is judged on.
pub struct Corpus {
    pub clips: Vec<Labelled>,
    /// Genre ids, in output order.
    pub classes: Vec<String>,
    /// The fold of each clip.
    pub folds: Vec<usize>,
    pub k: usize,
    /// Per genre of the vocabulary: (single-genre clips, clips in all), before selection.
    pub counts: BTreeMap<String, (usize, usize)>,
    /// Clips left out: no genre label, or only genres that did not make the threshold.
    pub dropped: usize,
    pub thresholds: Thresholds,
    pub target: Target,
}

impl Corpus {
    /// Loads a labels table or folder tree, keeps the genres that pass `thresholds`, and
    /// assigns `k` artist-grouped folds (stratified by each clip's first candidate genre).
    pub fn load(
        source: &Path,
        vocabulary: &Vocabulary,
        thresholds: Thresholds,
        k: usize,
        seed: u64,
    ) -> anyhow::Result<Self> {
        let dataset = Dataset::load(source)?;
        let root = if source.is_dir() {
            source
        } else {
            source.parent().unwrap_or(Path::new("."))
        };
        let mut mapped = Vec::new();
        let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for clip in dataset.clips {
            let genres = vocabulary
                .clip_genres(clip.labels.iter().map(String::as_str))
                .map_err(|e| anyhow::anyhow!("{}: {e}", clip.path.display()))?;
            for genre in &genres.genres {
                let entry = counts.entry(genre.clone()).or_default();
                entry.1 += 1;
                if genres.kind == LabelKind::Single {
                    entry.0 += 1;
                }
            }
            mapped.push((clip, genres));
        }
        let classes: Vec<String> = counts
            .iter()
            .filter(|(_, &(single, any))| single >= thresholds.single && any >= thresholds.any)
            .map(|(id, _)| id.clone())
            .collect();
        anyhow::ensure!(
            classes.len() >= 2,
            "fewer than two genres have {} single-genre and {} clips in all",
            thresholds.single,
            thresholds.any
        );
        let mut clips = Vec::new();
        let mut dropped = 0;
        for (mut clip, genres) in mapped {
            let indices: Vec<usize> = genres
                .genres
                .iter()
                .filter_map(|g| classes.iter().position(|c| c == g))
                .collect();
            if indices.is_empty() {
                dropped += 1;
                continue;
            }
            let source = clip
                .path
                .strip_prefix(root)
                .ok()
                .and_then(|p| p.components().next())
                .map_or_else(String::new, |c| {
                    c.as_os_str().to_string_lossy().into_owned()
                });
            // Stratify folds by the first candidate.
            clip.labels = indices.iter().map(|&i| classes[i].clone()).collect();
            clips.push(Labelled {
                clip,
                genres: indices,
                kind: genres.kind,
                source,
            });
        }
        let plain: Vec<Clip> = clips.iter().map(|c| c.clip.clone()).collect();
        let folds = group_folds(&plain, k, seed);
        Ok(Self {
            clips,
            classes,
            folds,
            k,
            counts,
            dropped,
            thresholds,
            target: Target::Genre,
        })
    }

    /// The clips of a labels table whose `source_path` names a 4Q emotion quadrant, each with
    /// its quadrant (`q1`…`q4`) as its one class, in `k` artist-grouped folds.
    pub fn load_moods(
        table: &Path,
        thresholds: Thresholds,
        k: usize,
        seed: u64,
    ) -> anyhow::Result<Self> {
        let quadrants = quadrants(table)?;
        let dataset = Dataset::load(table)?;
        let total = dataset.clips.len();
        let classes: Vec<String> = MOODS.iter().map(|m| m.id.to_owned()).collect();
        let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        let clips: Vec<Labelled> = dataset
            .clips
            .into_iter()
            .filter_map(|mut clip| {
                let mood = quadrants.get(&clip.path)?;
                let index = classes.iter().position(|c| c == mood.id)?;
                let count = counts.entry(mood.id.to_owned()).or_default();
                *count = (count.0 + 1, count.1 + 1);
                clip.labels = vec![mood.id.to_owned()];
                Some(Labelled {
                    clip,
                    genres: vec![index],
                    kind: LabelKind::Single,
                    source: "mer4q".into(),
                })
            })
            .collect();
        anyhow::ensure!(
            !clips.is_empty(),
            "{}: no clip has a mood quadrant",
            table.display()
        );
        let plain: Vec<Clip> = clips.iter().map(|c| c.clip.clone()).collect();
        let folds = group_folds(&plain, k, seed);
        Ok(Self {
            dropped: total - clips.len(),
            clips,
            classes,
            folds,
            k,
            counts,
            thresholds,
            target: Target::Mood,
        })
    }

    /// Indices of the clips in `fold` (`in_fold`) or in every other fold.
    pub fn fold(&self, fold: usize, in_fold: bool) -> Vec<usize> {
        (0..self.clips.len())
            .filter(|&i| (self.folds[i] == fold) == in_fold)
            .collect()
    }
}

/// Every clip of a labels table with a quadrant in its `source_path`, by its full path.
fn quadrants(table: &Path) -> anyhow::Result<BTreeMap<PathBuf, &'static moods::Mood>> {
    let labels_table = LabelsTable::read(table)?;
    let (Some(path), Some(source)) = (
        labels_table.column("path"),
        labels_table.column("source_path"),
    ) else {
        anyhow::bail!(
            "{}: the mood target needs `path` and `source_path` columns",
            table.display()
        );
    };
    Ok(labels_table
        .rows()
        .filter_map(|fields| {
            let mood = moods::from_dataset_path(LabelsTable::field(&fields, Some(source)))?;
            Some((
                labels_table
                    .root
                    .join(LabelsTable::field(&fields, Some(path))),
                mood,
            ))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shared_corpus_keeps_measurable_genres_and_never_splits_an_artist() {
        let table = genrescope::research::music_dir().join("labels.tsv");
        let thresholds = Thresholds {
            single: 10,
            any: 20,
        };
        let corpus = Corpus::load(&table, Vocabulary::builtin(), thresholds, 5, 1).unwrap();
        assert!(corpus.classes.contains(&"hip-hop".to_owned()));
        assert!(!corpus.classes.iter().any(|c| c.contains("allmusic")));
        assert!(
            !corpus.classes.contains(&"metal".to_owned()),
            "7 clips are too few"
        );
        for (id, &(single, any)) in &corpus.counts {
            let kept = corpus.classes.contains(id);
            assert_eq!(kept, single >= 10 && any >= 20, "{id}");
        }
        let mut fold_of_group: BTreeMap<&str, usize> = BTreeMap::new();
        for (clip, &fold) in corpus.clips.iter().zip(&corpus.folds) {
            let seen = *fold_of_group.entry(&clip.clip.group).or_insert(fold);
            assert_eq!(seen, fold, "{} is on two sides", clip.clip.group);
        }
        let partial = corpus
            .clips
            .iter()
            .filter(|c| c.kind == LabelKind::Partial)
            .count();
        assert!(partial > 50, "AllMusic's Pop/Rock clips are partial labels");
        assert!(corpus.clips.iter().any(|c| c.source == "mer4q"));
    }

    #[test]
    fn the_mood_corpus_is_the_4q_clips_by_quadrant() {
        let table = genrescope::research::music_dir().join("labels.tsv");
        let thresholds = Thresholds {
            single: 10,
            any: 20,
        };
        let corpus = Corpus::load_moods(&table, thresholds, 5, 1).unwrap();
        assert_eq!(corpus.classes, ["q1", "q2", "q3", "q4"]);
        assert!(corpus.clips.len() > 400, "{} clips", corpus.clips.len());
        assert!(corpus
            .clips
            .iter()
            .all(|c| c.clip.path.to_string_lossy().contains("mer4q")));
        for (id, &(n, _)) in &corpus.counts {
            assert!(n > 80, "{id}: {n} clips");
        }
    }
}

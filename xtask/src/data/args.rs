//! The dataset, class and split options shared by `dataset`, `train` and `train-all`.

use std::path::PathBuf;

use super::dataset::{ClassSelection, Dataset};
use super::split::{from_lists, group_split, Split};

#[derive(clap::Args, Debug, Clone)]
pub struct DataArgs {
    /// A `<label>/<file>` folder tree or a labels table (`labels.tsv` format).
    pub source: PathBuf,
    /// Classes to keep (comma-separated); default: every class with `--min-count` clips.
    #[arg(long, value_delimiter = ',')]
    pub classes: Vec<String>,
    /// Keep classes with at least this many clips (ignored with `--classes`).
    #[arg(long, default_value_t = 20)]
    pub min_count: usize,
    /// Fraction of each class held out for validation, never sharing an artist with training.
    #[arg(long, default_value_t = 0.2)]
    pub valid_fraction: f64,
    /// Seed of the split (and of training).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Fraction of each class held out first as a test set (same grouping), never used for
    /// training or model selection; `eval` reports on it.
    #[arg(long, default_value_t = 0.0)]
    pub test_fraction: f64,
    /// Explicit train and validation list files instead of the group split.
    #[arg(long, num_args = 2, value_names = ["TRAIN", "VALID"])]
    pub lists: Option<Vec<PathBuf>>,
}

/// A dataset restricted to its classes, and its split.
pub struct Selected {
    /// Every clip the source lists (before class selection).
    pub all: usize,
    pub data: Dataset,
    pub classes: Vec<String>,
    pub split: Split,
    /// Held-out test clips (`--test-fraction`), disjoint in groups from train and validation.
    pub test: Vec<usize>,
    /// How the split was made, for reports and metadata.
    pub description: String,
}

impl DataArgs {
    pub fn select(&self) -> anyhow::Result<Selected> {
        let all = Dataset::load(&self.source)?;
        let selection = if self.classes.is_empty() {
            ClassSelection::MinCount(self.min_count)
        } else {
            ClassSelection::Named(self.classes.clone())
        };
        let (data, classes) = all.select(&selection)?;
        let (split, test, description) = match &self.lists {
            Some(lists) => {
                let (split, missing) = from_lists(&data.clips, &lists[0], &lists[1])?;
                if !missing.is_empty() {
                    println!(
                        "{} list entries have no clip here (first: {})",
                        missing.len(),
                        missing[0]
                    );
                }
                let description =
                    format!("list files {} / {}", lists[0].display(), lists[1].display());
                (split, Vec::new(), description)
            }
            None if self.test_fraction > 0.0 => {
                // Test first, then validation out of the rest, both group-disjoint.
                let outer = group_split(&data.clips, self.test_fraction, self.seed)?;
                let rest: Vec<_> = outer.train.iter().map(|&i| data.clips[i].clone()).collect();
                let inner = group_split(&rest, self.valid_fraction, self.seed)?;
                let split = Split {
                    train: inner.train.iter().map(|&i| outer.train[i]).collect(),
                    valid: inner.valid.iter().map(|&i| outer.train[i]).collect(),
                };
                let description = format!(
                    "artist-grouped stratified split, seed {}: {:.0} % test, then {:.0} % of the rest validation",
                    self.seed,
                    self.test_fraction * 100.0,
                    self.valid_fraction * 100.0
                );
                (split, outer.valid, description)
            }
            None => (
                group_split(&data.clips, self.valid_fraction, self.seed)?,
                Vec::new(),
                format!(
                    "artist-grouped stratified split, {:.0} % validation, seed {}",
                    self.valid_fraction * 100.0,
                    self.seed
                ),
            ),
        };
        Ok(Selected {
            all: all.clips.len(),
            data,
            classes,
            split,
            test,
            description,
        })
    }
}

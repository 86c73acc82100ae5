//! `cargo xtask dataset <folder|labels.tsv>`: what a training run would see — classes, clips
//! per class, groups, and the validation split — before any audio is decoded.

use std::path::PathBuf;

use crate::data::dataset::{ClassSelection, Dataset};
use crate::data::split::{from_lists, group_split, Split};

#[derive(clap::Args)]
pub struct Args {
    /// A `<label>/<file>` folder tree or a labels table (`labels.tsv` format).
    source: PathBuf,
    /// Classes to keep (comma-separated); default: every class with `--min-count` clips.
    #[arg(long, value_delimiter = ',')]
    classes: Vec<String>,
    /// Keep classes with at least this many clips (ignored with `--classes`).
    #[arg(long, default_value_t = 20)]
    min_count: usize,
    /// Fraction of each class held out for validation, never sharing an artist with training.
    #[arg(long, default_value_t = 0.2)]
    valid_fraction: f64,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Explicit train and validation list files instead of the group split.
    #[arg(long, num_args = 2, value_names = ["TRAIN", "VALID"])]
    lists: Option<Vec<PathBuf>>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let all = Dataset::load(&args.source)?;
    let selection = if args.classes.is_empty() {
        ClassSelection::MinCount(args.min_count)
    } else {
        ClassSelection::Named(args.classes.clone())
    };
    let (data, classes) = all.select(&selection)?;
    let split: Split = match &args.lists {
        Some(lists) => {
            let (split, missing) = from_lists(&data.clips, &lists[0], &lists[1])?;
            if !missing.is_empty() {
                println!(
                    "{} list entries have no clip here (first: {})",
                    missing.len(),
                    missing[0]
                );
            }
            split
        }
        None => group_split(&data.clips, args.valid_fraction, args.seed)?,
    };

    let groups = |indices: &[usize]| {
        let mut g: Vec<&str> = indices
            .iter()
            .map(|&i| data.clips[i].group.as_str())
            .collect();
        g.sort_unstable();
        g.dedup();
        g.len()
    };
    println!(
        "{}: {} of {} clips in {} classes; train {} clips / {} groups, valid {} clips / {} groups",
        args.source.display(),
        data.clips.len(),
        all.clips.len(),
        classes.len(),
        split.train.len(),
        groups(&split.train),
        split.valid.len(),
        groups(&split.valid)
    );
    println!(
        "{:<28} {:>6} {:>6} {:>11}",
        "class", "train", "valid", "multi-label"
    );
    for class in &classes {
        let count = |indices: &[usize]| {
            indices
                .iter()
                .filter(|&&i| data.clips[i].primary_label() == class)
                .count()
        };
        let multi = data
            .clips
            .iter()
            .filter(|c| c.primary_label() == class && c.labels.len() > 1)
            .count();
        println!(
            "{class:<28} {:>6} {:>6} {multi:>11}",
            count(&split.train),
            count(&split.valid)
        );
    }
    Ok(())
}

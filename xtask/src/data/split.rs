//! Train/validation splits that never put one group (artist) on both sides: stratified group
//! k-fold with a seed, a single split from it, and explicit list files (GTZAN's artist-filtered
//! lists).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::{bail, Context};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::dataset::Clip;

/// Indices into a clip list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub train: Vec<usize>,
    pub valid: Vec<usize>,
}

/// Assigns every group to one of `k` folds so that each fold gets about `1/k` of every class
/// (by primary label): groups are taken largest first (ties in seeded random order), each into
/// the fold where it most reduces the squared shortfall against the per-fold class targets.
/// Returns the fold of each clip.
pub fn group_folds(clips: &[Clip], k: usize, seed: u64) -> Vec<usize> {
    let k = k.max(2);
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, clip) in clips.iter().enumerate() {
        groups.entry(clip.group.as_str()).or_default().push(i);
    }
    let mut groups: Vec<Vec<usize>> = groups.into_values().collect();
    groups.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    groups.sort_by_key(|members| std::cmp::Reverse(members.len())); // stable: ties stay shuffled

    let mut totals: HashMap<&str, f64> = HashMap::new();
    for clip in clips {
        *totals.entry(clip.primary_label()).or_default() += 1.0;
    }
    let mut fold_counts: Vec<HashMap<&str, f64>> = vec![HashMap::new(); k];
    let mut fold_sizes = vec![0usize; k];
    let mut fold_of = vec![0usize; clips.len()];
    for members in groups {
        let mut group_counts: HashMap<&str, f64> = HashMap::new();
        for &i in &members {
            *group_counts.entry(clips[i].primary_label()).or_default() += 1.0;
        }
        // Cost of a fold: how much the group raises its squared distance from the class targets.
        let cost = |fold: usize| -> f64 {
            group_counts
                .iter()
                .map(|(label, n)| {
                    let before = fold_counts[fold].get(label).copied().unwrap_or(0.0);
                    let target = totals[label] / k as f64;
                    (before + n - target).powi(2) - (before - target).powi(2)
                })
                .sum()
        };
        let best = (0..k)
            .min_by(|&a, &b| {
                cost(a)
                    .total_cmp(&cost(b))
                    .then(fold_sizes[a].cmp(&fold_sizes[b]))
            })
            .expect("k >= 2");
        for &i in &members {
            fold_of[i] = best;
            *fold_counts[best]
                .entry(clips[i].primary_label())
                .or_default() += 1.0;
        }
        fold_sizes[best] += members.len();
    }
    fold_of
}

/// `k` splits, each validating on one fold of [`group_folds`] and training on the rest.
pub fn k_fold(clips: &[Clip], k: usize, seed: u64) -> Vec<Split> {
    let folds = group_folds(clips, k, seed);
    (0..k.max(2))
        .map(|fold| Split {
            train: (0..clips.len()).filter(|&i| folds[i] != fold).collect(),
            valid: (0..clips.len()).filter(|&i| folds[i] == fold).collect(),
        })
        .collect()
}

/// One group-aware stratified split with about `valid_fraction` of every class in validation.
pub fn group_split(clips: &[Clip], valid_fraction: f64, seed: u64) -> anyhow::Result<Split> {
    if !(valid_fraction > 0.0 && valid_fraction <= 0.5) {
        bail!("validation fraction {valid_fraction} must be in (0, 0.5]");
    }
    let k = (1.0 / valid_fraction).round() as usize;
    Ok(k_fold(clips, k, seed).swap_remove(0))
}

/// Finds clips by the paths a list file names, ignoring extensions and leading folders
/// (`blues/blues.00000.wav` finds `gtzan/blues/blues.00000.ogg`).
pub struct ListIndex {
    index: HashMap<String, usize>,
}

fn stem(path: &str) -> String {
    path.rsplit_once('.')
        .map_or(path, |(stem, _)| stem)
        .replace('\\', "/")
}

impl ListIndex {
    pub fn new(clips: &[Clip]) -> Self {
        let mut index: HashMap<String, usize> = HashMap::new();
        for (i, clip) in clips.iter().enumerate() {
            let path = stem(&clip.path.to_string_lossy());
            // Register every path suffix at a folder boundary: "gtzan/blues/blues.00000" also
            // answers to "blues/blues.00000" and "blues.00000".
            let mut rest = path.as_str();
            loop {
                index.entry(rest.to_owned()).or_insert(i);
                match rest.split_once('/') {
                    Some((_, tail)) => rest = tail,
                    None => break,
                }
            }
        }
        Self { index }
    }

    /// The clips a list file names, and the entries that match none.
    pub fn read(&self, list: &Path) -> anyhow::Result<(Vec<usize>, Vec<String>)> {
        let text = std::fs::read_to_string(list)
            .with_context(|| format!("cannot read {}", list.display()))?;
        let mut missing = Vec::new();
        let found = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .filter_map(|line| {
                let found = self.index.get(&stem(line)).copied();
                if found.is_none() {
                    missing.push(line.to_owned());
                }
                found
            })
            .collect();
        Ok((found, missing))
    }
}

/// A split from two list files (GTZAN's `*_filtered.txt` format: one relative path per line).
/// Entries without a clip are returned as missing.
pub fn from_lists(
    clips: &[Clip],
    train_list: &Path,
    valid_list: &Path,
) -> anyhow::Result<(Split, Vec<String>)> {
    let index = ListIndex::new(clips);
    let (train, mut missing) = index.read(train_list)?;
    let (valid, more) = index.read(valid_list)?;
    missing.extend(more);
    let split = Split { train, valid };
    if split.train.iter().any(|i| split.valid.contains(i)) {
        bail!(
            "{} and {} share clips",
            train_list.display(),
            valid_list.display()
        );
    }
    Ok((split, missing))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::path::PathBuf;

    /// 6 classes × 5 artists × 4 clips each, plus 20 clips without artist.
    fn clips() -> Vec<Clip> {
        let mut clips = Vec::new();
        for class in 0..6 {
            for artist in 0..5 {
                for song in 0..4 {
                    clips.push(Clip {
                        path: PathBuf::from(format!("c{class}/a{artist}_{song}.ogg")),
                        labels: vec![format!("c{class}")],
                        group: format!("artist:{class}-{artist}"),
                        licence: None,
                    });
                }
            }
        }
        for i in 0..20 {
            clips.push(Clip {
                path: PathBuf::from(format!("solo/{i}.ogg")),
                labels: vec![format!("c{}", i % 6)],
                group: format!("clip:{i}"),
                licence: None,
            });
        }
        clips
    }

    #[test]
    fn no_group_straddles_a_split_and_classes_are_balanced() {
        let clips = clips();
        for seed in 0..5 {
            let splits = k_fold(&clips, 5, seed);
            let mut validated = HashSet::new();
            for split in &splits {
                let train_groups: HashSet<&str> = split
                    .train
                    .iter()
                    .map(|&i| clips[i].group.as_str())
                    .collect();
                assert!(split
                    .valid
                    .iter()
                    .all(|&i| !train_groups.contains(clips[i].group.as_str())));
                assert_eq!(split.train.len() + split.valid.len(), clips.len());
                for class in 0..6 {
                    let label = format!("c{class}");
                    let n = split
                        .valid
                        .iter()
                        .filter(|&&i| clips[i].labels[0] == label)
                        .count();
                    // 23-24 clips per class over 5 folds: one artist (4) or so per fold.
                    assert!(
                        (3..=8).contains(&n),
                        "seed {seed}: class {class} has {n} in a fold"
                    );
                }
                validated.extend(split.valid.iter().copied());
            }
            assert_eq!(
                validated.len(),
                clips.len(),
                "every clip is validated exactly once"
            );
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_split() {
        let clips = clips();
        assert_eq!(
            group_split(&clips, 0.2, 7).unwrap(),
            group_split(&clips, 0.2, 7).unwrap()
        );
        assert_ne!(
            group_split(&clips, 0.2, 7).unwrap(),
            group_split(&clips, 0.2, 8).unwrap()
        );
        assert!(group_split(&clips, 0.9, 7).is_err());
    }

    #[test]
    fn list_files_match_by_path_without_extension() {
        let dir = std::env::temp_dir().join(format!("genrescope-lists-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let clip = |path: &str| Clip {
            path: PathBuf::from(path),
            labels: vec!["blues".into()],
            group: path.into(),
            licence: None,
        };
        let clips = vec![
            clip("music/gtzan/blues/blues.00000.ogg"),
            clip("music/gtzan/blues/blues.00001.au"),
        ];
        std::fs::write(
            dir.join("train.txt"),
            "blues/blues.00001.wav\nblues/blues.00099.wav\n",
        )
        .unwrap();
        std::fs::write(dir.join("valid.txt"), "blues/blues.00000.wav\n").unwrap();
        let (split, missing) =
            from_lists(&clips, &dir.join("train.txt"), &dir.join("valid.txt")).unwrap();
        assert_eq!(
            split,
            Split {
                train: vec![1],
                valid: vec![0]
            }
        );
        assert_eq!(missing, vec!["blues/blues.00099.wav"]);
        std::fs::remove_dir_all(dir).unwrap();
    }
}

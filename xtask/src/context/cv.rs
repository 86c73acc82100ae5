//! Candidates judged by artist-grouped cross-validation on the whole corpus: every candidate
//! (network, layer, pools, classifier) sees the same folds; its weight decay is chosen inside
//! each training part (on the other folds, never on the fold it is scored on); single-genre,
//! umbrella (partial) and multi-genre clips are scored separately.

use std::collections::BTreeMap;

use genrescope::genres::LabelKind;
use genrescope::inference::context::{Accumulator, Pool};
use ndarray::{s, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::corpus::Corpus;
use super::head::{self, Classifier, Head, HeadConfig};
use super::windows::{self, Layer, Network};
use crate::metrics::{argmax, mean_std, Confusion};

/// One way of turning windows into a genre.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub networks: Vec<Network>,
    pub layer: Layer,
    /// Empty: today's per-window head (each window classified alone, answers averaged).
    pub pools: Vec<Pool>,
    pub classifier: Classifier,
}

impl Candidate {
    pub fn name(&self) -> String {
        let pools: Vec<&str> = self.pools.iter().map(|p| p.name()).collect();
        format!(
            "{} {} {} {}",
            windows::joined(&self.networks),
            self.layer.name(),
            if pools.is_empty() {
                "window-average".into()
            } else {
                pools.join("+")
            },
            self.classifier.name()
        )
    }

    /// Today's default: a per-window MLP on the MSD penultimate embedding, answers averaged.
    pub fn today() -> Self {
        Self {
            networks: vec![Network::MSD],
            layer: Layer::Penultimate,
            pools: Vec::new(),
            classifier: Classifier::Mlp(128),
        }
    }

    /// Each clip's window rows of this candidate's layer, networks side by side
    /// (`[windows, width]`), from the probe rows of every network.
    pub fn windows(&self, probes: &BTreeMap<Network, Vec<Array2<f32>>>) -> Vec<Array2<f32>> {
        let clips = probes.values().next().map_or(0, Vec::len);
        (0..clips)
            .map(|c| {
                let parts: Vec<_> = self
                    .networks
                    .iter()
                    .map(|n| {
                        let rows = &probes[n][c];
                        rows.slice(s![.., self.layer.range(*n, rows.ncols())])
                    })
                    .collect();
                let n = parts
                    .iter()
                    .map(ndarray::ArrayBase::nrows)
                    .min()
                    .unwrap_or(0);
                let parts: Vec<_> = parts.iter().map(|p| p.slice(s![..n, ..])).collect();
                ndarray::concatenate(ndarray::Axis(1), &parts)
                    .expect("same window count")
                    .as_standard_layout()
                    .into_owned()
            })
            .collect()
    }
}

/// Training and scoring settings shared by every candidate.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    /// Weight decays tried inside each training part.
    pub grid: Vec<f64>,
    /// How many of the training part's folds validate each weight decay.
    pub inner_folds: usize,
    /// Random sub-contexts (1 window to the whole clip) added per training clip, so the head
    /// also knows the short contexts it sees live.
    pub contexts: usize,
    pub steps: usize,
    pub learning_rate: f64,
    pub dropout: f64,
    pub seed: u64,
}

/// Pooled statistics of `windows` rows `range` (`windows` in standard layout).
pub fn pooled(windows: &Array2<f32>, range: std::ops::Range<usize>, pools: &[Pool]) -> Vec<f32> {
    let rows = windows.slice(s![range, ..]);
    let acc = Accumulator::of(
        rows.rows()
            .into_iter()
            .map(|r| r.to_slice().expect("row-major")),
    );
    acc.pooled(windows.ncols(), pools)
}

/// Training rows of `clips`: per clip the whole-clip pool plus `contexts` random sub-contexts
/// (or, for a per-window candidate, every window), each with the clip's candidate genres.
fn training_rows(
    candidate: &Candidate,
    windows: &[Array2<f32>],
    corpus: &Corpus,
    clips: &[usize],
    settings: &Settings,
) -> (Array2<f32>, Vec<Vec<usize>>) {
    let mut rows: Vec<Vec<f32>> = Vec::new();
    let mut targets = Vec::new();
    for &c in clips {
        let w = &windows[c];
        let genres = &corpus.clips[c].genres;
        if candidate.pools.is_empty() {
            for row in w.rows() {
                rows.push(row.to_vec());
                targets.push(genres.clone());
            }
            continue;
        }
        rows.push(pooled(w, 0..w.nrows(), &candidate.pools));
        targets.push(genres.clone());
        let mut rng = ChaCha8Rng::seed_from_u64(settings.seed ^ ((c as u64) << 20));
        for _ in 0..settings.contexts {
            let len = rng.random_range(1..=w.nrows());
            let start = rng.random_range(0..=w.nrows() - len);
            rows.push(pooled(w, start..start + len, &candidate.pools));
            targets.push(genres.clone());
        }
    }
    let width = rows.first().map_or(0, Vec::len);
    let flat: Vec<f32> = rows.into_iter().flatten().collect();
    (
        Array2::from_shape_vec((flat.len() / width.max(1), width), flat).expect("equal rows"),
        targets,
    )
}

/// Probabilities of each clip in `clips` from its first `windows` windows (`None`: all):
/// the head over their pool, or the mean of per-window answers.
fn predict(
    candidate: &Candidate,
    head: &Head,
    windows: &[Array2<f32>],
    clips: &[usize],
    first: Option<usize>,
) -> Vec<Vec<f32>> {
    clips
        .iter()
        .map(|&c| {
            let w = &windows[c];
            let n = first.map_or(w.nrows(), |f| f.min(w.nrows()));
            if candidate.pools.is_empty() {
                let p = head.predict(w.slice(s![..n, ..]));
                p.mean_axis(ndarray::Axis(0)).expect("windows").to_vec()
            } else {
                let x = pooled(w, 0..n, &candidate.pools);
                head.predict(ndarray::ArrayView2::from_shape((1, x.len()), &x).expect("row"))
                    .row(0)
                    .to_vec()
            }
        })
        .collect()
}

fn config(candidate: &Candidate, settings: &Settings, weight_decay: f64) -> HeadConfig {
    HeadConfig {
        classifier: candidate.classifier,
        weight_decay,
        steps: settings.steps,
        learning_rate: settings.learning_rate,
        dropout: settings.dropout,
        seed: settings.seed,
    }
}

/// Figures of one set of clips.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct Scores {
    /// Single-genre clips: accuracy and macro-F1.
    pub accuracy: f64,
    pub macro_f1: f64,
    /// Umbrella-labelled clips: top genre in the set.
    pub partial_in_set: f64,
    /// Multi-genre clips: top genre one of theirs.
    pub multi_in_set: f64,
    /// Every clip: top genre among its candidates.
    pub all_in_set: f64,
    pub clips: [usize; 3],
}

/// Scores `probabilities` of `clips` (same order).
pub fn score(corpus: &Corpus, clips: &[usize], probabilities: &[Vec<f32>]) -> (Scores, Confusion) {
    let (mut truth, mut predicted) = (Vec::new(), Vec::new());
    let mut in_set: BTreeMap<LabelKind, (usize, usize)> = BTreeMap::new();
    for (&c, p) in clips.iter().zip(probabilities) {
        let clip = &corpus.clips[c];
        let top = argmax(p);
        let hit = in_set.entry(clip.kind).or_default();
        hit.0 += usize::from(clip.genres.contains(&top));
        hit.1 += 1;
        if clip.kind == LabelKind::Single {
            truth.push(clip.genres[0]);
            predicted.push(top);
        }
    }
    let confusion = Confusion::new(&corpus.classes, &truth, &predicted);
    let rate = |kind| {
        in_set
            .get(&kind)
            .map_or(0.0, |&(h, n)| h as f64 / n.max(1) as f64)
    };
    let count = |kind| in_set.get(&kind).map_or(0, |&(_, n)| n);
    let (hits, total) = in_set
        .values()
        .fold((0, 0), |(h, n), &(a, b)| (h + a, n + b));
    let scores = Scores {
        accuracy: confusion.accuracy(),
        macro_f1: confusion.macro_f1(),
        partial_in_set: rate(LabelKind::Partial),
        multi_in_set: rate(LabelKind::Multi),
        all_in_set: hits as f64 / total.max(1) as f64,
        clips: [
            count(LabelKind::Single),
            count(LabelKind::Partial),
            count(LabelKind::Multi),
        ],
    };
    (scores, confusion)
}

/// The inner criterion a weight decay is chosen by: single-genre macro-F1 and top-in-set over
/// every clip, equally weighted.
fn criterion(s: &Scores) -> f64 {
    (s.macro_f1 + s.all_in_set) / 2.0
}

/// A candidate's cross-validated result.
#[derive(Debug, Clone, Serialize)]
pub struct Result {
    pub candidate: String,
    pub spec: Candidate,
    pub folds: Vec<Scores>,
    /// Per fold, single-genre figures of the first window alone (the first live answer).
    pub first_window: Vec<Scores>,
    /// Weight decay chosen in each fold.
    pub weight_decays: Vec<f64>,
    /// Single-genre clips' confusion, summed over folds.
    #[serde(skip)]
    pub confusion: Confusion,
    /// Out-of-fold probabilities of every clip.
    #[serde(skip)]
    pub out_of_fold: Vec<Vec<f32>>,
    /// Per source: (clips whose top genre is a candidate, clips).
    pub sources: BTreeMap<String, (usize, usize)>,
    pub seconds: f64,
}

/// The candidate to ship by the one-standard-error rule: the best mean single-genre macro-F1
/// among the candidates running at most `max_networks` networks, or the simplest candidate whose
/// mean is within one standard error (std / √folds) of it: fewer networks, then a logistic head
/// before an MLP (narrower first), then fewer pooled statistics, then the better mean. Heads
/// that differ by less than their folds' noise are told apart by what they cost and how well
/// they reproduce, not by that noise.
pub fn choose(results: &[Result], max_networks: usize) -> Option<usize> {
    let eligible: Vec<usize> = (0..results.len())
        .filter(|&i| results[i].spec.networks.len() <= max_networks)
        .collect();
    let f1 = |i: usize| results[i].stat(|s| s.macro_f1);
    let best = *eligible
        .iter()
        .max_by(|&&a, &&b| f1(a).0.total_cmp(&f1(b).0))?;
    let (mean, std) = f1(best);
    let floor = mean - std / (results[best].folds.len().max(1) as f64).sqrt();
    let complexity = |i: usize| {
        let spec = &results[i].spec;
        let width = match spec.classifier {
            Classifier::Logistic => 0,
            Classifier::Mlp(width) => width,
        };
        (spec.networks.len(), width, spec.pools.len())
    };
    eligible
        .into_iter()
        .filter(|&i| f1(i).0 >= floor)
        .min_by(|&a, &b| {
            complexity(a)
                .cmp(&complexity(b))
                .then(f1(b).0.total_cmp(&f1(a).0))
        })
}

impl Result {
    /// Mean and sample standard deviation of a figure over folds.
    pub fn stat(&self, figure: impl Fn(&Scores) -> f64) -> (f64, f64) {
        mean_std(&self.folds.iter().map(figure).collect::<Vec<_>>())
    }

    /// The weight decay chosen most often (ties: the larger, more regularised).
    pub fn usual_weight_decay(&self) -> f64 {
        let mut counts: BTreeMap<u64, usize> = BTreeMap::new();
        for w in &self.weight_decays {
            *counts.entry(w.to_bits()).or_default() += 1;
        }
        let best = counts.values().max().copied().unwrap_or(0);
        counts
            .iter()
            .filter(|(_, &n)| n == best)
            .map(|(&bits, _)| f64::from_bits(bits))
            .fold(0.0, f64::max)
    }
}

/// Trains a head on `train` clips with the weight decay that validates best on the training
/// part's own folds.
fn fit_nested(
    candidate: &Candidate,
    windows: &[Array2<f32>],
    corpus: &Corpus,
    train: &[usize],
    settings: &Settings,
) -> (Head, f64) {
    let inner: Vec<usize> = {
        let mut folds: Vec<usize> = train.iter().map(|&c| corpus.folds[c]).collect();
        folds.sort_unstable();
        folds.dedup();
        folds.into_iter().take(settings.inner_folds).collect()
    };
    let weight_decay = if settings.grid.len() == 1 {
        settings.grid[0]
    } else {
        let score_of = |wd: f64| -> f64 {
            let scores: Vec<f64> = inner
                .iter()
                .map(|&fold| {
                    let (fit_on, check): (Vec<usize>, Vec<usize>) =
                        train.iter().partition(|&&c| corpus.folds[c] != fold);
                    let (x, y) = training_rows(candidate, windows, corpus, &fit_on, settings);
                    let head = head::train(
                        x.view(),
                        &y,
                        corpus.classes.len(),
                        &config(candidate, settings, wd),
                    );
                    let p = predict(candidate, &head, windows, &check, None);
                    criterion(&score(corpus, &check, &p).0)
                })
                .collect();
            scores.iter().sum::<f64>() / scores.len().max(1) as f64
        };
        settings
            .grid
            .iter()
            .copied()
            .map(|wd| (wd, score_of(wd)))
            .fold((settings.grid[0], f64::NEG_INFINITY), |best, (wd, s)| {
                if s > best.1 {
                    (wd, s)
                } else {
                    best
                }
            })
            .0
    };
    let (x, y) = training_rows(candidate, windows, corpus, train, settings);
    let head = head::train(
        x.view(),
        &y,
        corpus.classes.len(),
        &config(candidate, settings, weight_decay),
    );
    (head, weight_decay)
}

/// `candidate` trained on `train` (weight decay chosen on the training part's own folds) and
/// its answers for `clips`.
pub fn fit_and_predict(
    candidate: &Candidate,
    probes: &BTreeMap<Network, Vec<Array2<f32>>>,
    corpus: &Corpus,
    settings: &Settings,
    train: &[usize],
    clips: &[usize],
) -> Vec<Vec<f32>> {
    let windows = candidate.windows(probes);
    let (head, _) = fit_nested(candidate, &windows, corpus, train, settings);
    predict(candidate, &head, &windows, clips, None)
}

/// Cross-validates `candidate` on every fold of `corpus`.
pub fn cross_validate(
    candidate: &Candidate,
    probes: &BTreeMap<Network, Vec<Array2<f32>>>,
    corpus: &Corpus,
    settings: &Settings,
) -> Result {
    let started = std::time::Instant::now();
    let windows = candidate.windows(probes);
    let mut result = Result {
        candidate: candidate.name(),
        spec: candidate.clone(),
        folds: Vec::new(),
        first_window: Vec::new(),
        weight_decays: Vec::new(),
        confusion: Confusion::new(&corpus.classes, &[], &[]),
        out_of_fold: vec![Vec::new(); corpus.clips.len()],
        sources: BTreeMap::new(),
        seconds: 0.0,
    };
    for fold in 0..corpus.k {
        let (train, test) = (corpus.fold(fold, false), corpus.fold(fold, true));
        let (head, weight_decay) = fit_nested(candidate, &windows, corpus, &train, settings);
        let p = predict(candidate, &head, &windows, &test, None);
        let (scores, confusion) = score(corpus, &test, &p);
        let first = predict(candidate, &head, &windows, &test, Some(1));
        result.first_window.push(score(corpus, &test, &first).0);
        for (t, row) in confusion.matrix.iter().enumerate() {
            for (q, n) in row.iter().enumerate() {
                result.confusion.matrix[t][q] += n;
            }
        }
        for (&c, p) in test.iter().zip(p) {
            let clip = &corpus.clips[c];
            let entry = result.sources.entry(clip.source.clone()).or_default();
            entry.0 += usize::from(clip.genres.contains(&argmax(&p)));
            entry.1 += 1;
            result.out_of_fold[c] = p;
        }
        println!(
            "  {} fold {}: acc {:.3} macro-F1 {:.3} partial {:.3} multi {:.3} (weight decay {weight_decay:e})",
            result.candidate,
            fold + 1,
            scores.accuracy,
            scores.macro_f1,
            scores.partial_in_set,
            scores.multi_in_set
        );
        result.folds.push(scores);
        result.weight_decays.push(weight_decay);
    }
    result.seconds = started.elapsed().as_secs_f64();
    result
}

/// Trains `candidate` on every clip with `weight_decay`.
pub fn fit_all(
    candidate: &Candidate,
    probes: &BTreeMap<Network, Vec<Array2<f32>>>,
    corpus: &Corpus,
    settings: &Settings,
    weight_decay: f64,
) -> Head {
    let windows = candidate.windows(probes);
    let all: Vec<usize> = (0..corpus.clips.len()).collect();
    let (x, y) = training_rows(candidate, &windows, corpus, &all, settings);
    head::train(
        x.view(),
        &y,
        corpus.classes.len(),
        &config(candidate, settings, weight_decay),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(networks: Vec<Network>, classifier: Classifier, f1: &[f64]) -> Result {
        let spec = Candidate {
            networks,
            layer: Layer::Penultimate,
            pools: Vec::new(),
            classifier,
        };
        Result {
            candidate: spec.name(),
            spec,
            folds: f1
                .iter()
                .map(|&macro_f1| Scores {
                    macro_f1,
                    ..Scores::default()
                })
                .collect(),
            first_window: Vec::new(),
            weight_decays: Vec::new(),
            confusion: Confusion::new(&[], &[], &[]),
            out_of_fold: Vec::new(),
            sources: BTreeMap::new(),
            seconds: 0.0,
        }
    }

    #[test]
    fn the_simplest_candidate_within_one_standard_error_of_the_best_ships() {
        let msd = || vec![Network::MSD];
        let results = [
            // Best mean 0.64, standard error 0.035 / √5 ≈ 0.016: the floor is ≈ 0.624.
            result(msd(), Classifier::Mlp(128), &[0.60, 0.62, 0.64, 0.66, 0.68]),
            result(msd(), Classifier::Logistic, &[0.62, 0.63, 0.63, 0.64, 0.63]),
            result(
                vec![Network::MSD, Network::MTT],
                Classifier::Logistic,
                &[0.7; 5],
            ),
        ];
        assert_eq!(
            choose(&results, 1),
            Some(1),
            "logistic within noise of the MLP"
        );
        assert_eq!(
            choose(&results, 2),
            Some(2),
            "two networks, clearly better, when allowed"
        );
        let below = [
            results[0].clone(),
            result(msd(), Classifier::Logistic, &[0.58, 0.59, 0.60, 0.61, 0.62]),
        ];
        assert_eq!(
            choose(&below, 1),
            Some(0),
            "logistic more than one error below"
        );
        assert_eq!(
            choose(&results[2..], 1),
            None,
            "nothing within --max-networks"
        );
    }
}

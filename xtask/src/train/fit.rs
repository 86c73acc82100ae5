//! The training loop: Adam, mini-batches in a seeded order, class-weighted cross-entropy,
//! reduce-on-plateau learning rate, early stopping on validation loss (or clip macro-F1), a
//! checkpoint after every epoch and `--resume` from it.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::activation::{log_softmax, softmax};
use burn::tensor::{Device, Tensor, TensorData};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use rand::seq::{IndexedRandom, SliceRandom};
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use super::augment::{self, Augmentation};
use super::data::TrainingData;
use super::models::Net;
use super::windows::WindowSet;
use crate::metrics::{argmax, clip_probabilities, Confusion};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FitConfig {
    pub max_epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    /// Stop after this many epochs without a better monitored figure.
    pub patience: usize,
    /// Halve the learning rate after this many epochs without a better monitored figure.
    pub lr_patience: usize,
    pub seed: u64,
    /// Weight each class's loss by `windows / (classes · class windows)`.
    pub class_weights: bool,
    /// What early stopping, the learning-rate schedule and the kept epoch follow.
    pub monitor: Monitor,
    /// Train-time augmentations (recorded; the data applies them).
    #[serde(default)]
    pub augment: Vec<Augmentation>,
    /// Train each epoch on at most this many windows per clip, drawn anew every epoch from
    /// (seed, epoch); `None`: every window.
    #[serde(default)]
    pub windows_per_clip: Option<usize>,
}

/// The validation figure that decides the best epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Monitor {
    /// Lowest validation loss (cross-entropy per window).
    Loss,
    /// Highest clip-level validation macro-F1.
    MacroF1,
}

impl Monitor {
    /// The figure as a value to minimise.
    fn score(self, log: &EpochLog) -> f64 {
        match self {
            Monitor::Loss => log.valid_loss,
            Monitor::MacroF1 => -log.valid_clip_macro_f1,
        }
    }
}

/// Cross-entropy of `logits` against target distributions `[n, classes]`, each window weighted
/// by `Σ_c t_c · weight_c`: `Σ_i w_i · (−Σ_c t_ic · log softmax(z_i)_c) / Σ_i w_i`. With one-hot
/// targets this is the usual (class-weighted) cross-entropy.
pub fn soft_cross_entropy(
    logits: Tensor<2>,
    targets: Tensor<2>,
    class_weights: Option<&Tensor<1>>,
) -> Tensor<1> {
    let per_window: Tensor<1> = (targets.clone() * log_softmax(logits, 1))
        .sum_dim(1)
        .neg()
        .squeeze_dim(1);
    match class_weights {
        Some(w) => {
            let window_weights: Tensor<1> = (targets * w.clone().unsqueeze_dim::<2>(0))
                .sum_dim(1)
                .squeeze_dim(1);
            (per_window * window_weights.clone()).sum() / window_weights.sum()
        }
        None => per_window.mean(),
    }
}

/// One epoch's figures (losses are mean cross-entropy per window; clip figures aggregate the
/// mean window probability per clip).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EpochLog {
    pub epoch: usize,
    pub learning_rate: f64,
    pub train_loss: f64,
    pub train_accuracy: f64,
    pub valid_loss: f64,
    pub valid_accuracy: f64,
    pub valid_clip_accuracy: f64,
    pub valid_clip_macro_f1: f64,
    pub seconds: f64,
}

impl EpochLog {
    /// The validation figures of this (the kept) epoch, as recorded in a model's `metrics`.
    pub fn validation_metrics(&self) -> serde_json::Value {
        serde_json::json!({
            "split": "validation (clip level, mean window probability)",
            "valid_clip_accuracy": self.valid_clip_accuracy,
            "valid_clip_macro_f1": self.valid_clip_macro_f1,
            "valid_window_accuracy": self.valid_accuracy,
            "valid_loss": self.valid_loss,
        })
    }
}

/// What survives an interruption, written after every epoch.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct State {
    config: FitConfig,
    history: Vec<EpochLog>,
    learning_rate: f64,
    /// Best [`Monitor::score`] so far.
    best_score: f64,
    best_epoch: usize,
    stale_epochs: usize,
    lr_stale_epochs: usize,
    finished: bool,
}

/// A model [`fit`] trains: logits `[batch, classes]` of windows `[batch, frames, width]`.
pub trait Classifier: Module {
    fn logits(&self, x: Tensor<3>) -> Tensor<2>;
}

impl Classifier for Net {
    fn logits(&self, x: Tensor<3>) -> Tensor<2> {
        self.forward(x)
    }
}

/// The result of a run: the best model (see [`Monitor`]) and the history.
pub struct Fitted<M> {
    pub net: M,
    pub history: Vec<EpochLog>,
    pub best_epoch: usize,
}

struct Paths {
    state: PathBuf,
    model: PathBuf,
    optimizer: PathBuf,
    best: PathBuf,
}

impl Paths {
    fn new(dir: &Path) -> Self {
        Self {
            state: dir.join("state.json"),
            model: dir.join("model.bpk"),
            optimizer: dir.join("optimizer.bpk"),
            best: dir.join("best.bpk"),
        }
    }
}

/// Trains `net` (initialised on `device`, an autodiff device) and returns its best epoch.
/// With `resume`, continues from the checkpoint in `dir`.
pub fn fit<M: Classifier>(
    mut net: M,
    data: &TrainingData,
    classes: usize,
    config: &FitConfig,
    device: &Device,
    dir: &Path,
    resume: bool,
) -> anyhow::Result<Fitted<M>> {
    std::fs::create_dir_all(dir)?;
    let paths = Paths::new(dir);
    let mut optimizer = AdamConfig::new().init();
    let mut state = State::new(config);
    if resume && paths.state.is_file() {
        state = State::load(&paths.state, config)?;
        net = net
            .try_load_file(&paths.model)
            .map_err(|e| anyhow::anyhow!("checkpoint {}: {e}", paths.model.display()))?;
        optimizer = optimizer
            .load(&paths.optimizer)
            .map_err(|e| anyhow::anyhow!("checkpoint {}: {e}", paths.optimizer.display()))?;
        eprintln!("resuming after epoch {}", state.history.len());
    }
    let weights = config
        .class_weights
        .then(|| class_weights(&data.train.class_counts(classes), device));

    let bars = MultiProgress::new();
    let epochs_bar = bars.add(ProgressBar::new(config.max_epochs as u64).with_style(
        ProgressStyle::with_template("epoch {pos}/{len} {bar:20} {msg}")?,
    ));
    epochs_bar.set_position(state.history.len() as u64);
    while !state.finished && state.history.len() < config.max_epochs {
        let epoch = state.history.len() + 1;
        let started = Instant::now();
        let step = Step {
            config,
            learning_rate: state.learning_rate,
            weights: weights.as_ref(),
            device,
        };
        let (trained, train) = train_epoch(net, &mut optimizer, data, epoch, &step, &bars)?;
        net = trained;
        let valid = evaluate(&net, &data.valid, classes, device, config.batch_size);
        let log = EpochLog {
            epoch,
            learning_rate: state.learning_rate,
            train_loss: train.loss_sum / train.seen as f64,
            train_accuracy: train.correct as f64 / train.seen as f64,
            valid_loss: valid.loss,
            valid_accuracy: valid.window_accuracy,
            valid_clip_accuracy: valid.confusion.accuracy(),
            valid_clip_macro_f1: valid.confusion.macro_f1(),
            seconds: started.elapsed().as_secs_f64(),
        };
        // Printed even when the bars are hidden (no terminal), so logs keep the history.
        bars.suspend(|| println!("{}", log.line()));
        if state.record(log, config) {
            net.clone()
                .save_file(&paths.best)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        // Model and optimizer first, the state last: an interruption in between resumes from
        // the previous epoch's state with this epoch's weights at worst, never a torn state.
        net.clone()
            .save_file(&paths.model)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        optimizer
            .save(&paths.optimizer)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        state.save(&paths.state)?;
        epochs_bar.set_position(epoch as u64);
        epochs_bar.set_message(format!("best epoch {}", state.best_epoch));
    }
    epochs_bar.finish_and_clear();
    anyhow::ensure!(state.best_epoch > 0, "no epoch was trained");
    let best = net
        .try_load_file(&paths.best)
        .map_err(|e| anyhow::anyhow!("{}: {e}", paths.best.display()))?;
    Ok(Fitted {
        net: best,
        history: state.history,
        best_epoch: state.best_epoch,
    })
}

impl State {
    fn new(config: &FitConfig) -> Self {
        Self {
            config: config.clone(),
            history: Vec::new(),
            learning_rate: config.learning_rate,
            best_score: f64::INFINITY,
            best_epoch: 0,
            stale_epochs: 0,
            lr_stale_epochs: 0,
            finished: false,
        }
    }

    /// The state of an interrupted run, to go on to `config`'s number of epochs.
    fn load(path: &Path, config: &FitConfig) -> anyhow::Result<Self> {
        let mut state: Self = serde_json::from_str(&std::fs::read_to_string(path)?)
            .context("unreadable checkpoint state")?;
        state.config.max_epochs = config.max_epochs;
        Ok(state)
    }

    /// Written whole to a temporary file, then renamed over the previous state.
    fn save(&self, path: &Path) -> anyhow::Result<()> {
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_string_pretty(self)?)?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    }

    /// Adds an epoch: keeps it as the best when its monitored figure improved (returns true),
    /// otherwise counts it towards the learning-rate halving and early stopping.
    fn record(&mut self, log: EpochLog, config: &FitConfig) -> bool {
        let score = config.monitor.score(&log);
        let improved = score < self.best_score;
        if improved {
            self.best_score = score;
            self.best_epoch = log.epoch;
            self.stale_epochs = 0;
            self.lr_stale_epochs = 0;
        } else {
            self.stale_epochs += 1;
            self.lr_stale_epochs += 1;
            if self.lr_stale_epochs >= config.lr_patience {
                self.learning_rate *= 0.5;
                self.lr_stale_epochs = 0;
            }
            self.finished = self.stale_epochs >= config.patience;
        }
        self.history.push(log);
        improved
    }
}

impl EpochLog {
    /// One line of the training log.
    fn line(&self) -> String {
        format!(
            "epoch {:>3}: lr {:.1e} train loss {:.3} acc {:.3} | valid loss {:.3} acc {:.3} clip acc {:.3} macro-F1 {:.3} ({:.0} s)",
            self.epoch, self.learning_rate, self.train_loss, self.train_accuracy, self.valid_loss,
            self.valid_accuracy, self.valid_clip_accuracy, self.valid_clip_macro_f1, self.seconds
        )
    }
}

/// `windows / (classes · class windows)` per class: every class weighs the same in the loss.
fn class_weights(counts: &[usize], device: &Device) -> Tensor<1> {
    let classes = counts.len();
    let total: usize = counts.iter().sum();
    let w: Vec<f32> = counts
        .iter()
        .map(|&n| total as f32 / (classes as f32 * n.max(1) as f32))
        .collect();
    Tensor::from_data(TensorData::new(w, [classes]), device)
}

/// What one optimisation step needs besides the model and the batch.
struct Step<'a> {
    config: &'a FitConfig,
    learning_rate: f64,
    weights: Option<&'a Tensor<1>>,
    device: &'a Device,
}

/// Training figures summed over an epoch's batches.
#[derive(Default)]
struct EpochTotals {
    /// Loss times batch size.
    loss_sum: f64,
    correct: usize,
    seen: usize,
}

/// One epoch over the (augmented) training windows in a seeded order.
fn train_epoch<M: Classifier>(
    mut net: M,
    optimizer: &mut ModuleOptimizer,
    data: &TrainingData,
    epoch: usize,
    step: &Step,
    bars: &MultiProgress,
) -> anyhow::Result<(M, EpochTotals)> {
    let (config, device) = (step.config, step.device);
    // The order, augmentations and dropout masks depend only on (seed, epoch): a resumed run
    // repeats them.
    let augmented = match &data.augmenter {
        Some(augmenter) => Some(augmenter.epoch_set(epoch)?),
        None => None,
    };
    let train = augmented.as_ref().unwrap_or(&data.train);
    let mixup = data
        .augmenter
        .as_ref()
        .is_some_and(super::augment::Augmenter::mixup);
    let batches = train.len().div_ceil(config.batch_size);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(config.seed ^ (epoch as u64) << 32);
    device.seed(config.seed.wrapping_mul(1000) + epoch as u64);
    let mut order = epoch_windows(train, config.windows_per_clip, &mut rng);
    order.shuffle(&mut rng);

    let bar = bars.add(
        ProgressBar::new(batches as u64).with_style(ProgressStyle::with_template(
            "  batch {pos}/{len} {bar:30} {msg} ETA {eta}",
        )?),
    );
    let mut totals = EpochTotals::default();
    for chunk in order.chunks(config.batch_size) {
        let (mut x, mut targets) = train.batch(chunk, device);
        if mixup {
            (x, targets) = augment::mixup(x, targets, &mut rng, device);
        }
        let logits = net.logits(x);
        let predicted: Vec<i64> = logits
            .clone()
            .argmax(1)
            .into_data()
            .convert::<i64>()
            .try_to_vec()
            .unwrap();
        totals.correct += predicted
            .iter()
            .zip(chunk)
            .filter(|(&p, &i)| p as usize == train.y[i])
            .count();
        let loss = soft_cross_entropy(logits, targets, step.weights);
        totals.loss_sum += loss.clone().into_scalar::<f32>() as f64 * chunk.len() as f64;
        totals.seen += chunk.len();
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        net = optimizer.step(step.learning_rate, net, grads);
        bar.set_message(format!(
            "loss {:.3} acc {:.3}",
            totals.loss_sum / totals.seen as f64,
            totals.correct as f64 / totals.seen as f64
        ));
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok((net, totals))
}

/// The windows of `set` one epoch trains on: all, or `per_clip` of each clip's drawn with `rng`.
fn epoch_windows(
    set: &WindowSet,
    per_clip: Option<usize>,
    rng: &mut rand_chacha::ChaCha8Rng,
) -> Vec<usize> {
    let Some(per_clip) = per_clip else {
        return (0..set.len()).collect();
    };
    let mut by_clip = vec![Vec::new(); set.clips.len()];
    for (window, &clip) in set.clip_of.iter().enumerate() {
        by_clip[clip].push(window);
    }
    by_clip
        .into_iter()
        .flat_map(|windows| {
            windows
                .choose_multiple(rng, per_clip)
                .copied()
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Validation figures of one pass.
pub struct Validation {
    pub loss: f64,
    pub window_accuracy: f64,
    /// Clip-level confusion (mean window probability per clip).
    pub confusion: Confusion,
}

/// Inference-mode pass over `set`: loss and accuracy per window and per clip.
pub fn evaluate<M: Classifier>(
    net: &M,
    set: &WindowSet,
    classes: usize,
    device: &Device,
    batch_size: usize,
) -> Validation {
    let net = net.valid();
    let (mut loss_sum, mut correct) = (0.0f64, 0usize);
    let mut probabilities = Vec::with_capacity(set.len());
    let indices: Vec<usize> = (0..set.len()).collect();
    for chunk in indices.chunks(batch_size) {
        let (x, targets) = set.batch(chunk, device);
        let (x, targets) = (x.without_autodiff(), targets.without_autodiff());
        let logits = net.logits(x);
        loss_sum += soft_cross_entropy(logits.clone(), targets, None).into_scalar::<f32>() as f64
            * chunk.len() as f64;
        let p: Vec<f32> = softmax(logits, 1)
            .into_data()
            .convert::<f32>()
            .try_to_vec()
            .unwrap();
        for (row, &i) in p.chunks_exact(classes).zip(chunk) {
            correct += (argmax(row) == set.y[i]) as usize;
            probabilities.push(row.to_vec());
        }
    }
    let clip_p = clip_probabilities(&probabilities, &set.clip_of, set.clips.len());
    let predicted: Vec<usize> = clip_p.iter().map(|p| argmax(p)).collect();
    let labels: Vec<String> = (0..classes).map(|c| c.to_string()).collect();
    Validation {
        loss: loss_sum / set.len().max(1) as f64,
        window_accuracy: correct as f64 / set.len().max(1) as f64,
        confusion: Confusion::new(&labels, &set.clip_labels, &predicted),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::loss::CrossEntropyLossConfig;
    use burn::tensor::Int;

    #[test]
    fn epochs_draw_the_asked_windows_per_clip_anew() {
        // Three clips with 5, 1 and 3 windows.
        let clip_of = vec![0, 0, 0, 0, 0, 1, 2, 2, 2];
        let set = WindowSet {
            x: vec![0.0; clip_of.len()],
            frames: 1,
            width: 1,
            y: vec![0; clip_of.len()],
            targets: vec![1.0; clip_of.len()],
            classes: 1,
            clip_of: clip_of.clone(),
            clips: vec![10, 11, 12],
            clip_labels: vec![0; 3],
        };
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        assert_eq!(
            epoch_windows(&set, None, &mut rng),
            (0..9).collect::<Vec<_>>()
        );
        let mut draws = Vec::new();
        for _ in 0..20 {
            let mut picked = epoch_windows(&set, Some(2), &mut rng);
            picked.sort();
            let per_clip = |c: usize| picked.iter().filter(|&&w| clip_of[w] == c).count();
            assert_eq!((per_clip(0), per_clip(1), per_clip(2)), (2, 1, 2));
            picked.dedup();
            assert_eq!(picked.len(), 5, "a window drawn twice");
            draws.push(picked);
        }
        draws.sort();
        draws.dedup();
        assert!(draws.len() > 5, "the draws do not change between epochs");
    }

    #[test]
    fn soft_cross_entropy_with_one_hot_targets_is_burns_weighted_cross_entropy() {
        let device = Device::flex();
        let logits = Tensor::<2>::from_data(
            TensorData::new(
                vec![2.0f32, -1.0, 0.5, 0.1, 0.2, 3.0, -2.0, 1.0, 0.0],
                [3, 3],
            ),
            &device,
        );
        let targets = Tensor::<2>::from_data(
            TensorData::new(vec![1.0f32, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0], [3, 3]),
            &device,
        );
        let indices = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 2, 1], [3]), &device);
        let weights = vec![0.5f32, 2.0, 1.0];
        let w = Tensor::<1>::from_data(TensorData::new(weights.clone(), [3]), &device);
        for (ours, theirs) in [
            (
                soft_cross_entropy(logits.clone(), targets.clone(), Some(&w)),
                CrossEntropyLossConfig::new()
                    .with_weights(Some(weights))
                    .init(&device)
                    .forward(logits.clone(), indices.clone()),
            ),
            (
                soft_cross_entropy(logits.clone(), targets.clone(), None),
                CrossEntropyLossConfig::new()
                    .init(&device)
                    .forward(logits.clone(), indices),
            ),
        ] {
            let (a, b) = (ours.into_scalar::<f32>(), theirs.into_scalar::<f32>());
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
        // A two-label target is the mean of the two one-hot losses.
        let half = Tensor::<2>::from_data(TensorData::new(vec![0.5f32, 0.5, 0.0], [1, 3]), &device);
        let first = logits.clone().slice([0..1, 0..3]);
        let mixed = soft_cross_entropy(first.clone(), half, None).into_scalar::<f32>();
        let one = |k: usize| {
            let mut t = vec![0.0f32; 3];
            t[k] = 1.0;
            soft_cross_entropy(
                first.clone(),
                Tensor::from_data(TensorData::new(t, [1, 3]), &device),
                None,
            )
            .into_scalar::<f32>()
        };
        assert!((mixed - (one(0) + one(1)) / 2.0).abs() < 1e-6);
    }
}

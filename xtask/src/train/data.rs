//! Training and validation windows in memory: per-clip features from the cache, windows cut
//! per clip (so the split stays at clip level), labels, and the per-feature standardisation
//! measured on the training windows only and stored in the model input.

use std::path::Path;

use genrescope::features::config::standardise;
use genrescope::features::Normalization;
use genrescope::inference::windows::frame_windows;
use genrescope::inference::ModelInput;
use indicatif::{ProgressBar, ProgressStyle};
use ndarray::{Array2, Array3};

use super::augment::{Augmentation, Augmenter, Source};
use super::windows::{window_set, Targets, WindowSet};
use crate::data::args::{DataArgs, Selected};
use crate::data::dataset::Clip;
use crate::data::prepare::{prepare, FeatureCache, Skipped};
use crate::data::split::Split;

/// Everything a training run reads.
pub struct TrainingData {
    pub train: WindowSet,
    pub valid: WindowSet,
    /// The model input with the training set's standardisation filled in.
    pub input: ModelInput,
    pub skipped: Vec<Skipped>,
    /// Rebuilds the training windows every epoch when augmentations are on.
    pub augmenter: Option<Augmenter>,
}

impl TrainingData {
    /// What a model's `training` metadata says about its data (source, classes, split, clip and
    /// window counts), with `extra`'s fields added.
    pub fn record(
        &self,
        data_args: &DataArgs,
        selected: &Selected,
        extra: serde_json::Value,
    ) -> serde_json::Value {
        let mut record = serde_json::json!({
            "data": data_args.source.display().to_string(),
            "classes": selected.classes,
            "split": selected.description,
            "train_clips": self.train.clips.len(),
            "train_windows": self.train.len(),
            "valid_clips": self.valid.clips.len(),
            "valid_windows": self.valid.len(),
        });
        if let (Some(fields), serde_json::Value::Object(extra)) = (record.as_object_mut(), extra) {
            fields.extend(extra);
        }
        record
    }
}

/// Decodes (or reads from the cache) every clip of the split, cuts windows and standardises
/// them with statistics of the (unaugmented) training windows. With `augment`, the training
/// clips' frames are kept for [`Augmenter`].
pub fn load(
    clips: &[Clip],
    labels: &[String],
    split: &Split,
    input: &ModelInput,
    cache_root: &Path,
    targets: &Targets,
    (augment, seed): (&[Augmentation], u64),
) -> anyhow::Result<TrainingData> {
    let (mut features, skipped) = clip_features(clips, input, cache_root)?;
    let raw_input = unstandardised(input);
    let (mut train, mut valid) = cut_split(clips, labels, split, &raw_input, &features, targets)?;
    if let ModelInput::Hybrid {
        mean: descriptors, ..
    } = &raw_input
    {
        anyhow::ensure!(
            augment.is_empty(),
            "augmentation is not available for hybrid inputs"
        );
        let statistics = HybridStatistics::of(&train, descriptors.len());
        statistics.standardise(&mut train);
        statistics.standardise(&mut valid);
        let input = statistics.into_input(raw_input);
        return Ok(TrainingData {
            train,
            valid,
            input,
            skipped,
            augmenter: None,
        });
    }
    let (mean, std) = feature_statistics(&train);
    standardise(&mut train.x, &mean, &std);
    standardise(&mut valid.x, &mean, &std);
    let augmenter = if augment.is_empty() {
        None
    } else {
        let ModelInput::Frames {
            features: raw,
            hop_frames,
        } = &raw_input
        else {
            anyhow::bail!("augmentation works on frame features, not descriptor vectors");
        };
        let mut kept = vec![None; clips.len()];
        for &i in &split.train {
            kept[i] = features[i].take();
        }
        let source = Source {
            frames: kept,
            clips: clips.to_vec(),
            labels: labels.to_vec(),
            train: split.train.clone(),
            targets: targets.clone(),
        };
        let statistics = (mean.clone(), std.clone());
        Some(Augmenter::new(
            augment,
            raw,
            *hop_frames,
            statistics,
            source,
            seed,
        )?)
    };
    Ok(TrainingData {
        train,
        valid,
        input: standardised(raw_input, mean, std),
        skipped,
        augmenter,
    })
}

/// Each clip's feature frames, by clip index; `None` where the clip was skipped.
type ClipFeatures = Vec<Option<Array2<f32>>>;

/// Every clip's features, decoded or read from the cache, and the skipped clips with their
/// reasons.
fn clip_features(
    clips: &[Clip],
    input: &ModelInput,
    cache_root: &Path,
) -> anyhow::Result<(ClipFeatures, Vec<Skipped>)> {
    let cache = FeatureCache::new(cache_root, input)?;
    let bar = ProgressBar::new(clips.len() as u64).with_style(ProgressStyle::with_template(
        "features {bar:40} {pos}/{len} clips, ETA {eta}",
    )?);
    let (prepared, skipped) = prepare(clips, input, &cache, |_| bar.inc(1))?;
    bar.finish_and_clear();
    let mut features = vec![None; clips.len()];
    for p in prepared {
        features[p.clip] = Some(p.frames);
    }
    Ok((features, skipped))
}

/// `input` without its standardisation: what the cached features and the windows cut from them
/// are before training statistics exist.
fn unstandardised(input: &ModelInput) -> ModelInput {
    match input {
        ModelInput::Frames {
            features,
            hop_frames,
        } => ModelInput::Frames {
            features: genrescope::features::FeatureConfig {
                normalization: Normalization::None,
                ..features.clone()
            },
            hop_frames: *hop_frames,
        },
        ModelInput::Hybrid {
            features,
            hop_seconds,
            mean,
            ..
        } => ModelInput::Hybrid {
            features: genrescope::features::FeatureConfig {
                normalization: Normalization::None,
                ..features.clone()
            },
            hop_seconds: *hop_seconds,
            mean: vec![0.0; mean.len()],
            std: vec![1.0; mean.len()],
        },
        other => other.clone(),
    }
}

/// The unstandardised training and validation windows of `split`.
fn cut_split(
    clips: &[Clip],
    labels: &[String],
    split: &Split,
    raw_input: &ModelInput,
    features: &[Option<Array2<f32>>],
    targets: &Targets,
) -> anyhow::Result<(WindowSet, WindowSet)> {
    let extractor = raw_input.frame_extractor()?;
    let shape = raw_input.shape();
    let (frames, width) = (shape[0], shape[1]);
    let windows_of = |index: usize| -> Option<Array3<f32>> {
        let clip_features = features[index].as_ref()?;
        Some(match (raw_input, &extractor) {
            (ModelInput::Frames { hop_frames, .. }, Some(extractor)) => {
                frame_windows(extractor, clip_features.view(), *hop_frames)
            }
            (ModelInput::Hybrid { .. }, _) => clip_features
                .clone()
                .into_shape_with_order((clip_features.nrows() / frames, frames, width))
                .expect("whole windows"),
            _ => clip_features.clone().insert_axis(ndarray::Axis(1)),
        })
    };
    let cut = |indices: &[usize]| {
        window_set(clips, labels, indices, (frames, width), targets, windows_of)
    };
    let train = cut(&split.train)?;
    let valid = cut(&split.valid)?;
    anyhow::ensure!(train.len() > 0, "no training windows");
    Ok((train, valid))
}

/// `raw_input` (frames or descriptors) with the training set's per-feature statistics.
fn standardised(raw_input: ModelInput, mean: Vec<f32>, std: Vec<f32>) -> ModelInput {
    match raw_input {
        ModelInput::Frames {
            features,
            hop_frames,
        } => ModelInput::Frames {
            features: genrescope::features::FeatureConfig {
                normalization: Normalization::PerFeature { mean, std },
                ..features
            },
            hop_frames,
        },
        ModelInput::Descriptors {
            sample_rate,
            window_seconds,
            hop_seconds,
            ..
        } => ModelInput::Descriptors {
            sample_rate,
            window_seconds,
            hop_seconds,
            mean,
            std,
        },
        ModelInput::Hybrid { .. } => unreachable!("hybrid inputs carry HybridStatistics"),
    }
}

/// Per-feature mean and standard deviation over every frame of `set` (a deviation of 0
/// becomes 1, so constant features pass unchanged).
pub fn feature_statistics(set: &WindowSet) -> (Vec<f32>, Vec<f32>) {
    column_statistics(set.x.chunks_exact(set.width), set.width)
}

/// Standardisation of hybrid windows: per-band statistics over the frame rows, and per-value
/// statistics over the first `descriptors` values of each window's last row.
struct HybridStatistics {
    /// Mean and standard deviation of each band, over the frame rows.
    bands: (Vec<f32>, Vec<f32>),
    /// Mean and standard deviation of each descriptor, over the descriptor rows.
    descriptors: (Vec<f32>, Vec<f32>),
}

impl HybridStatistics {
    fn of(set: &WindowSet, descriptors: usize) -> Self {
        let rows = set.frames;
        let frame_rows = set.x.chunks_exact(set.width).enumerate();
        Self {
            bands: column_statistics(
                frame_rows
                    .clone()
                    .filter(|(i, _)| i % rows != rows - 1)
                    .map(|(_, row)| row),
                set.width,
            ),
            descriptors: column_statistics(
                frame_rows
                    .filter(|(i, _)| i % rows == rows - 1)
                    .map(|(_, row)| &row[..descriptors]),
                descriptors,
            ),
        }
    }

    fn standardise(&self, set: &mut WindowSet) {
        let ((mean, std), (d_mean, d_std)) = (&self.bands, &self.descriptors);
        let rows = set.frames;
        for (i, row) in set.x.chunks_exact_mut(set.width).enumerate() {
            if i % rows == rows - 1 {
                standardise(&mut row[..d_mean.len()], d_mean, d_std);
            } else {
                standardise(row, mean, std);
            }
        }
    }

    /// The unstandardised hybrid `raw_input` with these statistics.
    fn into_input(self, raw_input: ModelInput) -> ModelInput {
        let ModelInput::Hybrid {
            features,
            hop_seconds,
            ..
        } = raw_input
        else {
            unreachable!("hybrid statistics of a hybrid input");
        };
        let ((mean, std), (d_mean, d_std)) = (self.bands, self.descriptors);
        ModelInput::Hybrid {
            features: genrescope::features::FeatureConfig {
                normalization: Normalization::PerFeature { mean, std },
                ..features
            },
            hop_seconds,
            mean: d_mean,
            std: d_std,
        }
    }
}

/// Mean and standard deviation of each of the `width` columns of `rows`.
fn column_statistics<'a>(
    rows: impl Iterator<Item = &'a [f32]>,
    width: usize,
) -> (Vec<f32>, Vec<f32>) {
    let mut mean = vec![0.0f64; width];
    let mut sq = vec![0.0f64; width];
    let mut count = 0usize;
    for row in rows {
        count += 1;
        for i in 0..width {
            mean[i] += row[i] as f64;
            sq[i] += (row[i] as f64).powi(2);
        }
    }
    let rows = count.max(1);
    let mean: Vec<f32> = mean.iter().map(|m| (m / rows as f64) as f32).collect();
    let std: Vec<f32> = sq
        .iter()
        .zip(&mean)
        .map(|(s, &m)| {
            let var = s / rows as f64 - (m as f64).powi(2);
            let sd = var.max(0.0).sqrt() as f32;
            if sd > 1e-6 {
                sd
            } else {
                1.0
            }
        })
        .collect();
    (mean, std)
}

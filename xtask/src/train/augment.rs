//! Train-time augmentation (`--augment gain,noise,...`), each switchable on its own so that
//! `cargo xtask augment-study` can measure it on the same validation split.
//!
//! Everything but mixup works on a clip's frame-level features, the mel power in dB per frame
//! that the feature cache holds (before the window step's `top_db`, DCT and standardisation),
//! so the same code serves MFCC and log-mel models and the cache stays valid. Level, noise,
//! pitch and tempo changes act on the power spectrum exactly as they would on the audio,
//! except that they ignore phase and the analysis window's smearing (the features never see
//! phase). Each epoch draws new parameters from `(seed, epoch, clip)`, so a resumed run sees
//! the same augmented data as an uninterrupted one. Validation windows are never augmented.

use burn::tensor::{Device, Tensor};
use genrescope::features::config::standardise;
use genrescope::features::mel::{hz_to_mel, mel_to_hz};
use genrescope::features::{FeatureConfig, FeatureExtractor, FeatureKind};
use ndarray::{s, Array2, Array3, ArrayView2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Distribution};
use serde::{Deserialize, Serialize};

use super::windows::{window_set, Targets, WindowSet};
use crate::data::dataset::Clip;

/// One augmentation; the ranges are those of the research sources and common practice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Augmentation {
    /// Level change, uniform in ±[`GAIN_DB`] dB per clip.
    Gain,
    /// White noise at a signal-to-noise ratio uniform in [`NOISE_SNR_DB`] per clip.
    Noise,
    /// Pitch shift, uniform in ±[`PITCH_SEMITONES`] semitones per clip, tempo unchanged.
    Pitch,
    /// Tempo change by a factor in [`STRETCH`] per clip, pitch unchanged.
    Stretch,
    /// Windows start at a random offset each epoch instead of on the fixed hop grid.
    Crop,
    /// SpecAugment: two time masks and two mel-band masks per window, filled with the
    /// window's mean level.
    SpecAugment,
    /// mixup: every batch is mixed with a shuffled copy of itself, inputs and targets alike,
    /// with weights from Beta([`MIXUP_ALPHA`], [`MIXUP_ALPHA`]).
    Mixup,
}

impl Augmentation {
    pub const ALL: [Augmentation; 7] = [
        Augmentation::Gain,
        Augmentation::Noise,
        Augmentation::Pitch,
        Augmentation::Stretch,
        Augmentation::Crop,
        Augmentation::SpecAugment,
        Augmentation::Mixup,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Augmentation::Gain => "gain",
            Augmentation::Noise => "noise",
            Augmentation::Pitch => "pitch",
            Augmentation::Stretch => "stretch",
            Augmentation::Crop => "crop",
            Augmentation::SpecAugment => "spec-augment",
            Augmentation::Mixup => "mixup",
        }
    }
}

pub const GAIN_DB: f32 = 6.0;
pub const NOISE_SNR_DB: (f32, f32) = (10.0, 30.0);
pub const PITCH_SEMITONES: f32 = 2.0;
pub const STRETCH: (f32, f32) = (0.8, 1.25);
/// Longest SpecAugment mask, as a fraction of the window's frames or mel bands.
pub const MASK_FRACTION: f32 = 0.1;
pub const MIXUP_ALPHA: f32 = 0.2;

/// Regenerates the training windows of every epoch with the chosen augmentations.
pub struct Augmenter {
    augmentations: Vec<Augmentation>,
    /// Frame-level features of each training clip (`None`: no usable audio), indexed like the
    /// dataset's clips.
    frames: Vec<Option<Array2<f32>>>,
    /// Window step without standardisation; `mean`/`std` are the training set's statistics.
    extractor: FeatureExtractor,
    hop_frames: usize,
    mean: Vec<f32>,
    std: Vec<f32>,
    clips: Vec<Clip>,
    labels: Vec<String>,
    train: Vec<usize>,
    targets: Targets,
    seed: u64,
}

/// What [`Augmenter::new`] needs to rebuild the training set.
pub struct Source {
    pub frames: Vec<Option<Array2<f32>>>,
    pub clips: Vec<Clip>,
    pub labels: Vec<String>,
    pub train: Vec<usize>,
    pub targets: Targets,
}

impl Augmenter {
    /// `raw` is the frame input without standardisation; `mean`/`std` standardise the windows.
    pub fn new(
        augmentations: &[Augmentation],
        raw: &FeatureConfig,
        hop_frames: usize,
        (mean, std): (Vec<f32>, Vec<f32>),
        source: Source,
        seed: u64,
    ) -> anyhow::Result<Self> {
        anyhow::ensure!(
            matches!(raw.kind, FeatureKind::LogMel | FeatureKind::Mfcc) && !raw.level.normalises(),
            "augmentation needs dB mel frames (log-mel or MFCC presets without a window level)"
        );
        Ok(Self {
            augmentations: augmentations.to_vec(),
            frames: source.frames,
            extractor: FeatureExtractor::new(raw)?,
            hop_frames,
            mean,
            std,
            clips: source.clips,
            labels: source.labels,
            train: source.train,
            targets: source.targets,
            seed,
        })
    }

    fn has(&self, a: Augmentation) -> bool {
        self.augmentations.contains(&a)
    }

    /// Whether batches are mixed ([`Augmentation::Mixup`]).
    pub fn mixup(&self) -> bool {
        self.has(Augmentation::Mixup)
    }

    /// The training windows of `epoch` (1-based), standardised like the unaugmented ones.
    pub fn epoch_set(&self, epoch: usize) -> anyhow::Result<WindowSet> {
        let config = self.extractor.config();
        let shape = (config.frames, config.feature_width());
        let mut set = window_set(
            &self.clips,
            &self.labels,
            &self.train,
            shape,
            &self.targets,
            |clip| {
                let frames = self.frames[clip].as_ref()?;
                let mut rng = ChaCha8Rng::seed_from_u64(
                    self.seed ^ (epoch as u64) << 32 ^ (clip as u64) << 12,
                );
                Some(self.windows(frames.view(), &mut rng))
            },
        )?;
        standardise(&mut set.x, &self.mean, &self.std);
        Ok(set)
    }

    /// The augmented windows of one clip's dB mel frames.
    fn windows(&self, frames: ArrayView2<f32>, rng: &mut ChaCha8Rng) -> Array3<f32> {
        let config = self.extractor.config();
        let mut db = frames.to_owned();
        if self.has(Augmentation::Stretch) {
            db = stretch(db.view(), rng.random_range(STRETCH.0..STRETCH.1));
        }
        if self.has(Augmentation::Pitch) {
            let semitones = rng.random_range(-PITCH_SEMITONES..PITCH_SEMITONES);
            db = pitch_shift(db.view(), config, semitones);
        }
        if self.has(Augmentation::Noise) {
            add_noise(&mut db, rng.random_range(NOISE_SNR_DB.0..NOISE_SNR_DB.1));
        }
        if self.has(Augmentation::Gain) {
            let gain = rng.random_range(-GAIN_DB..GAIN_DB);
            db.mapv_inplace(|x| x + gain);
        }
        let len = config.frames;
        let hop = self.hop_frames.max(1);
        let offset = if self.has(Augmentation::Crop) {
            rng.random_range(0..hop)
        } else {
            0
        };
        let starts: Vec<usize> = (offset..)
            .step_by(hop)
            .take_while(|start| start + len <= db.nrows())
            .collect();
        let mut out = Array3::zeros((starts.len(), len, config.feature_width()));
        for (i, start) in starts.into_iter().enumerate() {
            let mut window = db.slice(s![start..start + len, ..]).to_owned();
            if self.has(Augmentation::SpecAugment) {
                spec_augment(&mut window, rng);
            }
            out.slice_mut(s![i, .., ..])
                .assign(&self.extractor.finish_window(window.view()));
        }
        out
    }
}

/// Tempo × `rate` (frames resampled by linear interpolation): `n` frames become `n / rate`.
fn stretch(db: ArrayView2<f32>, rate: f32) -> Array2<f32> {
    let n = db.nrows();
    let out_len = ((n as f32 / rate).floor() as usize).max(1);
    Array2::from_shape_fn((out_len, db.ncols()), |(t, band)| {
        let position = (t as f32 * rate).min((n - 1) as f32);
        let (i, frac) = (position.floor() as usize, position.fract());
        let next = (i + 1).min(n - 1);
        db[[i, band]] * (1.0 - frac) + db[[next, band]] * frac
    })
}

/// Every frequency × 2^(semitones / 12): each band takes the level found at its centre
/// frequency divided by that ratio, interpolated between the source bands' centres (which are
/// evenly spaced in mels). Bands whose source lies outside the filterbank get the clip's
/// lowest level.
fn pitch_shift(db: ArrayView2<f32>, config: &FeatureConfig, semitones: f32) -> Array2<f32> {
    let bands = db.ncols();
    let scale = config.mel_scale;
    let low = hz_to_mel(config.fmin as f64, scale);
    let high = hz_to_mel(config.fmax_hz() as f64, scale);
    let step = (high - low) / (bands + 1) as f64;
    let ratio = 2f64.powf(semitones as f64 / 12.0);
    let floor = db.iter().copied().fold(f32::INFINITY, f32::min);
    let source: Vec<Option<(usize, f32)>> = (0..bands)
        .map(|j| {
            let centre = mel_to_hz(low + (j + 1) as f64 * step, scale);
            let index = (hz_to_mel(centre / ratio, scale) - low) / step - 1.0;
            (index >= 0.0 && index <= (bands - 1) as f64)
                .then(|| (index.floor() as usize, index.fract() as f32))
        })
        .collect();
    Array2::from_shape_fn(db.dim(), |(t, j)| match source[j] {
        Some((i, frac)) => {
            let next = (i + 1).min(bands - 1);
            db[[t, i]] * (1.0 - frac) + db[[t, next]] * frac
        }
        None => floor,
    })
}

/// Adds the expected power of white noise at `snr_db` below the clip's mean power. With the
/// area-normalised (Slaney) filterbanks of every preset, white noise has the same power in
/// every band.
fn add_noise(db: &mut Array2<f32>, snr_db: f32) {
    let mean_power =
        db.iter().map(|&x| 10f64.powf(x as f64 / 10.0)).sum::<f64>() / db.len().max(1) as f64;
    let noise = mean_power * 10f64.powf(-snr_db as f64 / 10.0);
    db.mapv_inplace(|x| (10.0 * (10f64.powf(x as f64 / 10.0) + noise).log10()) as f32);
}

/// Two time masks and two band masks of up to [`MASK_FRACTION`] of the window each.
fn spec_augment(window: &mut Array2<f32>, rng: &mut ChaCha8Rng) {
    let fill = window.mean().unwrap_or(0.0);
    for axis in 0..2 {
        let size = window.shape()[axis];
        let longest = ((size as f32 * MASK_FRACTION) as usize).max(1);
        for _ in 0..2 {
            let width = rng.random_range(0..=longest.min(size));
            let start = rng.random_range(0..=size - width);
            match axis {
                0 => window.slice_mut(s![start..start + width, ..]).fill(fill),
                _ => window.slice_mut(s![.., start..start + width]).fill(fill),
            }
        }
    }
}

/// mixup of a batch: `λ·x + (1−λ)·x[perm]` with one λ ~ Beta(α, α) per batch, targets alike.
pub fn mixup(
    x: Tensor<3>,
    targets: Tensor<2>,
    rng: &mut ChaCha8Rng,
    device: &Device,
) -> (Tensor<3>, Tensor<2>) {
    let n = x.dims()[0];
    let lambda = Beta::new(MIXUP_ALPHA, MIXUP_ALPHA)
        .expect("valid Beta parameters")
        .sample(rng);
    let mut perm: Vec<i64> = (0..n as i64).collect();
    rand::seq::SliceRandom::shuffle(perm.as_mut_slice(), rng);
    let perm =
        Tensor::<1, burn::tensor::Int>::from_data(burn::tensor::TensorData::new(perm, [n]), device);
    let mixed_x = x.clone() * lambda + x.select(0, perm.clone()) * (1.0 - lambda);
    let mixed_t = targets.clone() * lambda + targets.select(0, perm) * (1.0 - lambda);
    (mixed_x, mixed_t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use genrescope::features::Preset;

    fn ramp(frames: usize, bands: usize) -> Array2<f32> {
        Array2::from_shape_fn((frames, bands), |(t, b)| -60.0 + t as f32 * 0.1 + b as f32)
    }

    #[test]
    fn stretch_changes_the_length_and_keeps_the_levels() {
        let db = ramp(100, 8);
        let slow = stretch(db.view(), 0.8);
        assert_eq!(slow.dim(), (125, 8));
        assert_eq!(slow[[0, 3]], db[[0, 3]]);
        // Frame 50 of the slowed clip is frame 40 of the original.
        assert!((slow[[50, 2]] - db[[40, 2]]).abs() < 1e-4);
        assert_eq!(stretch(db.view(), 1.0), db);
    }

    #[test]
    fn pitch_shift_moves_a_peak_up_by_the_interval() {
        let config = FeatureConfig::preset(Preset::LogMel128);
        // One loud band at 2 kHz (Slaney mels are logarithmic there).
        let low = hz_to_mel(0.0, config.mel_scale);
        let high = hz_to_mel(config.fmax_hz() as f64, config.mel_scale);
        let step = (high - low) / 129.0;
        let band_of = |hz: f64| ((hz_to_mel(hz, config.mel_scale) - low) / step - 1.0).round();
        let source = band_of(2000.0) as usize;
        let mut db = Array2::from_elem((4, 128), -80.0f32);
        db.column_mut(source).fill(0.0);
        let up = pitch_shift(db.view(), &config, 12.0);
        let peak = (0..128)
            .max_by(|&a, &b| up[[0, a]].total_cmp(&up[[0, b]]))
            .unwrap();
        assert!(
            (peak as f64 - band_of(4000.0)).abs() <= 1.0,
            "peak at band {peak}"
        );
        assert_eq!(pitch_shift(db.view(), &config, 0.0), db);
    }

    #[test]
    fn noise_raises_quiet_bands_and_barely_touches_loud_ones() {
        let mut db = Array2::from_shape_vec((1, 2), vec![0.0f32, -60.0]).unwrap();
        add_noise(&mut db, 20.0);
        // Mean power ≈ 0.5, noise ≈ 0.005 (-23 dB).
        assert!(db[[0, 0]] > 0.0 && db[[0, 0]] < 0.05);
        assert!((db[[0, 1]] - (-23.0)).abs() < 0.1, "{}", db[[0, 1]]);
    }

    #[test]
    fn spec_augment_masks_at_most_a_tenth_per_mask() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut window = ramp(130, 128);
        spec_augment(&mut window, &mut rng);
        let changed = window
            .iter()
            .zip(ramp(130, 128).iter())
            .filter(|(a, b)| a != b)
            .count();
        assert!(changed > 0);
        // Two 13-frame masks and two 12-band masks cover at most this many cells.
        assert!(changed <= 2 * 13 * 128 + 2 * 12 * 130);
    }

    #[test]
    fn mixup_keeps_targets_distributions() {
        let _device = crate::train::device_lock();
        let device = Device::flex();
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let x = Tensor::<3>::random([6, 3, 2], burn::tensor::Distribution::Default, &device);
        let t = Tensor::<2>::from_data(
            burn::tensor::TensorData::new(
                vec![
                    1.0f32, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0,
                ],
                [6, 2],
            ),
            &device,
        );
        let (_, mixed) = mixup(x, t, &mut rng, &device);
        let sums: Vec<f32> = mixed.sum_dim(1).into_data().try_to_vec().unwrap();
        assert!(sums.iter().all(|s| (s - 1.0).abs() < 1e-5));
    }
}

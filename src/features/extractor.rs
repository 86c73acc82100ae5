//! Frame-level feature extraction (batch and streaming share one framing path) and the
//! window-level finish step.

use ndarray::{Array2, ArrayView2};

use super::config::{standardise, FeatureConfig, FeatureKind, Normalization};
use super::db::{clamp_below_max, power_to_db};
use super::dct::Dct;
use super::emphasis::PreEmphasis;
use super::level::{gated_energy, power_gain, Level};
use super::log::{ln, log10};
use super::mel::MelFilterbank;
use super::stft::{frame_count, Framer, PowerSpectrum};
use crate::Error;

/// Turns one `n_fft` frame of samples into one frame of features (before the window step).
#[derive(Clone)]
struct FrameFeatures {
    kind: FeatureKind,
    /// Whether frames are compressed here; with a normalising [`Level`] they stay mel power for
    /// the window step's gain.
    compressed: bool,
    spectrum: PowerSpectrum,
    mel: MelFilterbank,
    power: Vec<f32>,
}

impl FrameFeatures {
    fn new(config: &FeatureConfig) -> Self {
        let spectrum = PowerSpectrum::with_window(config.n_fft, config.win_length, config.window);
        let mel = MelFilterbank::new(
            f64::from(config.sample_rate),
            config.n_fft,
            config.n_mels,
            f64::from(config.fmin),
            f64::from(config.fmax_hz()),
            config.mel_scale,
            config.mel_norm,
        );
        Self {
            kind: config.kind,
            compressed: !config.level.normalises(),
            power: vec![0.0; spectrum.bins()],
            spectrum,
            mel,
        }
    }

    /// The mel energy (sum over bands of mel power) of one frame of a full-scale 1-kHz sine
    /// through the front end (its pre-emphasis included): 0 dB for [`Level::Window`]'s target.
    fn reference_energy(&self, config: &FeatureConfig) -> f64 {
        let mut frames = Self {
            compressed: false,
            ..self.clone()
        };
        let n_fft = frames.spectrum.n_fft();
        let rate = f64::from(config.sample_rate);
        let sine = |i: usize| (std::f64::consts::TAU * 1000.0 * i as f64 / rate).sin() as f32;
        let frame: Vec<f32> = match config.pre_emphasis {
            Some(c) => (0..n_fft).map(|i| sine(i + 1) - c * sine(i)).collect(),
            None => (0..n_fft).map(sine).collect(),
        };
        let mut mel = vec![0.0; frames.mel.n_mels()];
        frames.compute(&frame, &mut mel);
        mel.iter().map(|&p| f64::from(p)).sum()
    }

    /// Writes `n_mels` values: dB mel power, musicnn's compressed mel power, or (for the window
    /// step's level) the mel power itself. The logarithm
    /// runs as one loop over the frame's mel values, which vectorises ([`super::log`]). On
    /// x86-64 CPUs with AVX the same code runs compiled for AVX (8 lanes instead of SSE2's 4);
    /// without FMA every operation rounds as in the SSE2 build, so the values are identical.
    fn compute(&mut self, frame: &[f32], out: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx") {
            // SAFETY: the CPU has AVX (checked just above).
            return unsafe { self.compute_avx(frame, out) };
        }
        self.compute_portable(frame, out);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx")]
    fn compute_avx(&mut self, frame: &[f32], out: &mut [f32]) {
        self.compute_portable(frame, out);
    }

    /// [`Self::compute`] for the target's baseline features; inlined (with everything it calls
    /// but the FFT) into [`Self::compute_avx`], which compiles it for AVX.
    #[inline(always)]
    fn compute_portable(&mut self, frame: &[f32], out: &mut [f32]) {
        self.spectrum.compute(frame, &mut self.power);
        self.mel.apply(&self.power, out);
        if self.compressed {
            compress(self.kind, out);
        }
    }
}

/// Mel power to the values `kind` names: dB, musicnn's `log10(1 + 10000·x)` or EfficientAT's
/// `(ln(x + 1e-5) + 4.5) / 5`. Inline and branch-free per value: the loop vectorises.
#[inline(always)]
fn compress(kind: FeatureKind, values: &mut [f32]) {
    match kind {
        FeatureKind::LogMel | FeatureKind::Mfcc => {
            values.iter_mut().for_each(|x| *x = power_to_db(*x));
        }
        FeatureKind::Musicnn => values
            .iter_mut()
            .for_each(|x| *x = log10(1.0 + 10_000.0 * *x)),
        FeatureKind::EfficientAt => values
            .iter_mut()
            .for_each(|x| *x = (ln(*x + 1e-5) + 4.5) / 5.0),
    }
}

/// Streaming features: push samples in any pieces, get each frame's features as soon as its
/// last sample arrives (see [`Framer`] for the framing). Allocates only in
/// [`FrameStream::new()`] (and in `clone()`).
#[derive(Clone)]
pub struct FrameStream {
    emphasis: Option<PreEmphasis>,
    framer: Framer,
    frame: FrameFeatures,
    out: Vec<f32>,
}

impl FrameStream {
    pub fn new(config: &FeatureConfig) -> Result<Self, Error> {
        config.validate()?;
        Ok(Self {
            emphasis: config.pre_emphasis.map(PreEmphasis::new),
            framer: Framer::with_padding(config.n_fft, config.hop_length, config.padding),
            frame: FrameFeatures::new(config),
            out: vec![0.0; config.n_mels],
        })
    }

    /// Values per emitted frame (`n_mels`).
    pub fn frame_width(&self) -> usize {
        self.out.len()
    }

    /// Feeds samples; calls `emit` with each completed frame's `n_mels` values, in order.
    pub fn push(&mut self, samples: &[f32], mut emit: impl FnMut(&[f32])) {
        let Self {
            emphasis,
            framer,
            frame,
            out,
        } = self;
        let mut frames = |samples: &[f32]| {
            framer.push(samples, |samples| {
                frame.compute(samples, out);
                emit(out);
            });
        };
        match emphasis {
            Some(emphasis) => emphasis.push(samples, frames),
            None => frames(samples),
        }
    }

    /// Ends the stream: appends the closing padding and emits the frames it completes.
    pub fn finish(self, mut emit: impl FnMut(&[f32])) {
        let Self {
            framer,
            mut frame,
            mut out,
            ..
        } = self;
        framer.finish(|samples| {
            frame.compute(samples, &mut out);
            emit(&out);
        });
    }
}

/// Batch feature extraction for a [`FeatureConfig`], plus the window step shared by every use.
pub struct FeatureExtractor {
    config: FeatureConfig,
    dct: Option<Dct>,
    /// The mel energy per frame of a full-scale 1-kHz sine (see [`Level::Window`]).
    reference_energy: f64,
    /// A fresh stream, cloned for each clip: building the FFT plan and the filterbank costs
    /// about 4 % of a 30-s clip's features.
    stream: FrameStream,
}

impl FeatureExtractor {
    pub fn new(config: &FeatureConfig) -> Result<Self, Error> {
        config.validate()?;
        let dct =
            (config.kind == FeatureKind::Mfcc).then(|| Dct::new(config.n_mels, config.n_mfcc));
        let stream = FrameStream::new(config)?;
        Ok(Self {
            config: config.clone(),
            dct,
            reference_energy: stream.frame.reference_energy(config),
            stream,
        })
    }

    pub fn config(&self) -> &FeatureConfig {
        &self.config
    }

    /// Frame-level features of a whole clip at `config.sample_rate`: `frames × n_mels`, the
    /// same values a [`FrameStream`] emits for the same samples.
    pub fn frames(&self, samples: &[f32]) -> Array2<f32> {
        let mut stream = self.stream.clone();
        let width = stream.frame_width();
        let mut values =
            Vec::with_capacity(frame_count(samples.len(), self.config.hop_length) * width);
        stream.push(samples, |frame| values.extend_from_slice(frame));
        stream.finish(|frame| values.extend_from_slice(frame));
        let rows = values.len() / width;
        Array2::from_shape_vec((rows, width), values).expect("whole frames")
    }

    /// The window step: sets the window's level and compresses its mel power (with a
    /// normalising [`Level`]), applies `top_db` relative to the maximum of `frames`, the DCT for
    /// MFCC, and the normalisation. Returns `frames.nrows() × feature_width()`.
    ///
    /// librosa applies `top_db` over whatever array it is given. Here the array is always one
    /// model window, in batch and streaming use alike, so a window's features never depend on
    /// audio outside it beyond the frames' own overlap; the level's gain likewise.
    pub fn finish_window(&self, frames: ArrayView2<f32>) -> Array2<f32> {
        let mut db = frames.to_owned();
        if let Level::Window {
            target_db,
            max_gain_db,
        } = self.config.level
        {
            let values = db.as_slice_mut().expect("owned arrays are contiguous");
            let energy = gated_energy(values, self.config.n_mels);
            let gain = power_gain(energy, self.reference_energy, target_db, max_gain_db);
            values.iter_mut().for_each(|p| *p *= gain);
            compress(self.config.kind, values);
        }
        if let (Some(top_db), FeatureKind::LogMel | FeatureKind::Mfcc) =
            (self.config.top_db, self.config.kind)
        {
            clamp_below_max(
                db.as_slice_mut().expect("owned arrays are contiguous"),
                top_db,
            );
        }
        let mut features = match &self.dct {
            Some(dct) => {
                let mut mfcc = Array2::zeros((db.nrows(), self.config.n_mfcc));
                for (row, mut out) in db.rows().into_iter().zip(mfcc.rows_mut()) {
                    dct.apply(
                        row.as_slice().expect("contiguous rows"),
                        out.as_slice_mut().expect("contiguous rows"),
                    );
                }
                mfcc
            }
            None => db,
        };
        if let Normalization::PerFeature { mean, std } = &self.config.normalization {
            standardise(
                features
                    .as_slice_mut()
                    .expect("owned arrays are contiguous"),
                mean,
                std,
            );
        }
        features
    }

    /// The gated level ([`gated_energy`]) of a window of mel power frames (what
    /// [`Self::frames`] returns under a normalising [`Level`]), in dB relative to a full-scale
    /// 1-kHz sine through the same front end; `None` for a window without energy.
    pub fn window_level_db(&self, frames: ArrayView2<f32>) -> Option<f64> {
        let frames = frames.as_standard_layout();
        let values = frames.as_slice().expect("standard layout is contiguous");
        gated_energy(values, self.config.n_mels)
            .map(|energy| 10.0 * (energy / self.reference_energy).log10())
    }

    /// Features of a whole clip treated as one window: equal to the librosa call named by
    /// [`FeatureKind`] on the same samples.
    pub fn extract(&self, samples: &[f32]) -> Array2<f32> {
        self.finish_window(self.frames(samples).view())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::config::Preset;

    fn test_signal(len: usize) -> Vec<f32> {
        (0..len)
            .map(|i| {
                let t = i as f32;
                0.4 * (t * 0.031).sin() + 0.2 * (t * 0.0071).sin() * (t * 0.45).cos()
            })
            .collect()
    }

    #[test]
    fn frame_counts_match_librosa_for_every_preset() {
        for name in Preset::ALL {
            let config = FeatureConfig::preset(name);
            let extractor = FeatureExtractor::new(&config).unwrap();
            for len in [
                0,
                1,
                config.hop_length - 1,
                config.hop_length,
                3 * config.sample_rate as usize,
            ] {
                let frames = extractor.frames(&test_signal(len));
                // Pre-emphasis drops the first sample.
                let filtered = len.saturating_sub(usize::from(config.pre_emphasis.is_some()));
                assert_eq!(
                    frames.nrows(),
                    frame_count(filtered, config.hop_length),
                    "{name} {len}"
                );
                assert_eq!(frames.ncols(), config.n_mels);
            }
        }
    }

    #[test]
    fn streaming_in_any_pieces_equals_batch() {
        for name in Preset::ALL {
            let config = FeatureConfig::preset(name);
            let extractor = FeatureExtractor::new(&config).unwrap();
            let signal = test_signal(config.sample_rate as usize * 2 + 123);
            let batch = extractor.frames(&signal);

            for piece in [1, 7, 511, 4096, 100_000] {
                let mut stream = FrameStream::new(&config).unwrap();
                let mut streamed = Vec::new();
                for chunk in signal.chunks(piece) {
                    stream.push(chunk, |f| streamed.extend_from_slice(f));
                }
                stream.finish(|f| streamed.extend_from_slice(f));
                let max_diff = streamed
                    .iter()
                    .zip(batch.iter())
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0f32, f32::max);
                assert_eq!(streamed.len(), batch.len(), "{name} piece {piece}");
                assert!(max_diff <= 1e-6, "{name} piece {piece}: {max_diff}");
            }
        }
    }

    #[test]
    fn hops_longer_than_the_frame_skip_samples_in_both_apis() {
        let config = FeatureConfig {
            n_fft: 256,
            win_length: 256,
            hop_length: 1000,
            n_mels: 20,
            ..FeatureConfig::preset(Preset::LogMel128)
        };
        let extractor = FeatureExtractor::new(&config).unwrap();
        let signal = test_signal(10_000);
        let batch = extractor.frames(&signal);
        assert_eq!(batch.nrows(), frame_count(signal.len(), 1000));
        let mut stream = FrameStream::new(&config).unwrap();
        let mut streamed = Vec::new();
        for chunk in signal.chunks(333) {
            stream.push(chunk, |f| streamed.extend_from_slice(f));
        }
        stream.finish(|f| streamed.extend_from_slice(f));
        assert_eq!(streamed, batch.into_raw_vec_and_offset().0);
    }

    #[test]
    fn window_step_clamps_within_the_window_only() {
        let config = FeatureConfig::preset(Preset::LogMel128);
        let extractor = FeatureExtractor::new(&config).unwrap();
        let frames = extractor.frames(&test_signal(22_050));
        let window = extractor.finish_window(frames.view());
        let max = frames.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        assert!(window.iter().all(|&v| v >= max - 80.0));
        // Values above the floor are untouched.
        for (a, b) in frames.iter().zip(window.iter()) {
            if *a >= max - 80.0 {
                assert_eq!(a, b);
            }
        }
    }

    fn levelled(preset: Preset, target_db: f32) -> FeatureConfig {
        FeatureConfig {
            level: Level::Window {
                target_db,
                max_gain_db: 60.0,
            },
            ..FeatureConfig::preset(preset)
        }
    }

    #[test]
    fn a_levelled_window_does_not_depend_on_the_gain() {
        for preset in [Preset::Musicnn, Preset::LogMel128, Preset::Mfcc13] {
            let extractor = FeatureExtractor::new(&levelled(preset, -20.0)).unwrap();
            let as_is = FeatureExtractor::new(&FeatureConfig::preset(preset)).unwrap();
            let signal = test_signal(3 * extractor.config().sample_rate as usize);
            let reference = extractor.extract(&signal);
            let range = reference.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            for gain_db in [-20.0f32, -6.0, -3.0, 6.0, 20.0] {
                let gain = 10f32.powf(gain_db / 20.0);
                let scaled: Vec<f32> = signal.iter().map(|x| x * gain).collect();
                let max_diff = extractor
                    .extract(&scaled)
                    .iter()
                    .zip(&reference)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0f32, f32::max);
                assert!(
                    max_diff <= 1e-4 * range,
                    "{preset} {gain_db} dB: {max_diff}"
                );
                // Without the level step the same gain moves the features.
                let moved = as_is
                    .extract(&scaled)
                    .iter()
                    .zip(as_is.extract(&signal).iter())
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0f32, f32::max);
                assert!(moved > 100.0 * max_diff.max(1e-6), "{preset} {gain_db} dB");
            }
        }
    }

    #[test]
    fn the_level_target_is_relative_to_a_full_scale_sine() {
        // A full-scale 1-kHz sine is at 0 dB: normalised to 0 dB it keeps its features.
        let config = FeatureConfig::preset(Preset::Musicnn);
        let sine: Vec<f32> = (0..config.sample_rate)
            .map(|i| (std::f64::consts::TAU * 1000.0 * f64::from(i) / 16_000.0).sin() as f32)
            .collect();
        let steady = |extractor: FeatureExtractor| {
            let frames = extractor.frames(&sine);
            extractor.finish_window(frames.slice(ndarray::s![4..frames.nrows() - 4, ..]))
        };
        let levelled = steady(FeatureExtractor::new(&levelled(Preset::Musicnn, 0.0)).unwrap());
        let as_is = steady(FeatureExtractor::new(&config).unwrap());
        let max_diff = levelled
            .iter()
            .zip(&as_is)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(max_diff < 1e-4, "{max_diff}");
    }

    #[test]
    fn normalisation_standardises_each_feature() {
        let mut config = FeatureConfig::preset(Preset::Mfcc13);
        let plain = FeatureExtractor::new(&config)
            .unwrap()
            .extract(&test_signal(22_050));
        config.normalization = Normalization::PerFeature {
            mean: vec![1.0; 13],
            std: vec![2.0; 13],
        };
        let normalised = FeatureExtractor::new(&config)
            .unwrap()
            .extract(&test_signal(22_050));
        for (p, n) in plain.iter().zip(normalised.iter()) {
            assert!(((p - 1.0) / 2.0 - n).abs() < 1e-6);
        }
    }
}

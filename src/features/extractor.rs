//! Frame-level feature extraction (batch and streaming share one framing path) and the
//! window-level finish step.

use ndarray::{Array2, ArrayView2};

use super::config::{standardise, FeatureConfig, FeatureKind, Normalization};
use super::db::{clamp_below_max, power_to_db};
use super::dct::Dct;
use super::log::log10;
use super::mel::MelFilterbank;
use super::stft::{frame_count, Framer, PowerSpectrum};
use crate::Error;

/// Turns one `n_fft` frame of samples into one frame of features (before the window step).
#[derive(Clone)]
struct FrameFeatures {
    kind: FeatureKind,
    spectrum: PowerSpectrum,
    mel: MelFilterbank,
    power: Vec<f32>,
}

impl FrameFeatures {
    fn new(config: &FeatureConfig) -> Self {
        let spectrum = PowerSpectrum::new(config.n_fft, config.win_length);
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
            power: vec![0.0; spectrum.bins()],
            spectrum,
            mel,
        }
    }

    /// Writes `n_mels` values: dB mel power, or musicnn's compressed mel power. The logarithm
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
        match self.kind {
            FeatureKind::LogMel | FeatureKind::Mfcc => {
                out.iter_mut().for_each(|x| *x = power_to_db(*x));
            }
            FeatureKind::Musicnn => out.iter_mut().for_each(|x| *x = log10(1.0 + 10_000.0 * *x)),
        }
    }
}

/// Streaming features: push samples in any pieces, get each frame's features as soon as its
/// last sample arrives (see [`Framer`] for the framing). Allocates only in
/// [`FrameStream::new()`] (and in `clone()`).
#[derive(Clone)]
pub struct FrameStream {
    framer: Framer,
    frame: FrameFeatures,
    out: Vec<f32>,
}

impl FrameStream {
    pub fn new(config: &FeatureConfig) -> Result<Self, Error> {
        config.validate()?;
        Ok(Self {
            framer: Framer::new(config.n_fft, config.hop_length),
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
        let Self { framer, frame, out } = self;
        framer.push(samples, |samples| {
            frame.compute(samples, out);
            emit(out);
        });
    }

    /// Ends the stream: appends the closing padding and emits the frames it completes.
    pub fn finish(self, mut emit: impl FnMut(&[f32])) {
        let Self {
            framer,
            mut frame,
            mut out,
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
    /// A fresh stream, cloned for each clip: building the FFT plan and the filterbank costs
    /// about 4 % of a 30-s clip's features.
    stream: FrameStream,
}

impl FeatureExtractor {
    pub fn new(config: &FeatureConfig) -> Result<Self, Error> {
        config.validate()?;
        let dct =
            (config.kind == FeatureKind::Mfcc).then(|| Dct::new(config.n_mels, config.n_mfcc));
        Ok(Self {
            config: config.clone(),
            dct,
            stream: FrameStream::new(config)?,
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

    /// The window step: applies `top_db` relative to the maximum of `frames`, the DCT for MFCC,
    /// and the normalisation. Returns `frames.nrows() × feature_width()`.
    ///
    /// librosa applies `top_db` over whatever array it is given. Here the array is always one
    /// model window, in batch and streaming use alike, so a window's features never depend on
    /// audio outside it beyond the frames' own overlap.
    pub fn finish_window(&self, frames: ArrayView2<f32>) -> Array2<f32> {
        let mut db = frames.to_owned();
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
                assert_eq!(
                    frames.nrows(),
                    frame_count(len, config.hop_length),
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

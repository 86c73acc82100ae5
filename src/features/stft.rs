//! Short-time power spectra on `realfft`, framed like `librosa.stft(center=True,
//! pad_mode="constant")`: a periodic Hann window of `win_length` samples zero-padded to `n_fft`,
//! frames every `hop_length` samples, the signal zero-padded by `n_fft / 2` on both sides.
//! EfficientAT's front end (`torch.stft` defaults) differs in two choices, both selectable: a
//! symmetric Hann window ([`WindowShape`]) and reflected ends ([`Padding`]).

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};
use serde::{Deserialize, Serialize};

use super::limit::clip;

/// The analysis window's shape: a Hann window either way, its last point differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowShape {
    /// `0.5 - 0.5·cos(2πn / N)` (`scipy.signal.get_window("hann", fftbins=True)`, librosa).
    #[default]
    PeriodicHann,
    /// `0.5 - 0.5·cos(2πn / (N - 1))` (`torch.hann_window(N, periodic=False)`, EfficientAT).
    SymmetricHann,
}

impl WindowShape {
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// How the signal is extended by `n_fft / 2` samples at each end so that frame `t` is centred
/// on sample `t·hop`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Padding {
    /// With zeros (`librosa.stft(pad_mode="constant")`).
    #[default]
    Zeros,
    /// With the signal mirrored about its first and last sample (`torch.stft`'s default
    /// `pad_mode="reflect"`). Needs `hop < n_fft / 2`; a signal of at most `n_fft / 2` samples,
    /// too short to mirror (torch refuses it), is padded with zeros.
    Reflect,
}

impl Padding {
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// Computes `|rfft(window · frame)|²` for one frame of `n_fft` samples. Allocates only in
/// [`PowerSpectrum::new()`] (and in `clone()`).
#[derive(Clone)]
pub struct PowerSpectrum {
    fft: Arc<dyn RealToComplex<f32>>,
    /// The analysis window, already centred and zero-padded to `n_fft` samples.
    window: Vec<f32>,
    input: Vec<f32>,
    spectrum: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
}

impl PowerSpectrum {
    /// A periodic Hann window; `win_length` must not exceed `n_fft` (it is clamped).
    pub fn new(n_fft: usize, win_length: usize) -> Self {
        Self::with_window(n_fft, win_length, WindowShape::PeriodicHann)
    }

    /// [`Self::new`] with a window of the given shape.
    pub fn with_window(n_fft: usize, win_length: usize, shape: WindowShape) -> Self {
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(n_fft);
        let spectrum = fft.make_output_vec();
        let scratch = fft.make_scratch_vec();
        Self {
            window: window(n_fft, win_length.min(n_fft), shape),
            input: vec![0.0; n_fft],
            spectrum,
            scratch,
            fft,
        }
    }

    pub fn n_fft(&self) -> usize {
        self.window.len()
    }

    /// Number of frequency bins, `n_fft / 2 + 1`.
    pub fn bins(&self) -> usize {
        self.spectrum.len()
    }

    /// Writes the power spectrum of `frame` (exactly `n_fft` samples) into `power` (`bins()`
    /// values, in squared amplitude: a full-scale sine peaks near `(win_length / 4)²`).
    #[inline(always)]
    pub fn compute(&mut self, frame: &[f32], power: &mut [f32]) {
        for (p, c) in power.iter_mut().zip(self.spectrum(frame)) {
            *p = c.norm_sqr();
        }
    }

    /// The complex spectrum `rfft(window · frame)` of `frame` (exactly `n_fft` samples),
    /// samples clipped to ±[`SAMPLE_LIMIT`](super::limit::SAMPLE_LIMIT) (so finite frames give finite spectra).
    #[inline(always)]
    pub fn spectrum(&mut self, frame: &[f32]) -> &[Complex<f32>] {
        for ((dst, &x), &w) in self.input.iter_mut().zip(frame).zip(&self.window) {
            *dst = clip(x) * w;
        }
        self.fft
            .process_with_scratch(&mut self.input, &mut self.spectrum, &mut self.scratch)
            .expect("buffers come from the plan itself");
        &self.spectrum
    }
}

/// Cuts a stream into frames of `n_fft` samples every `hop` samples, centred like
/// `librosa.stft(center=True)`: the stream is extended by `n_fft / 2` samples at each end (see
/// [`Padding`]), so frame `t` covers input samples `t·hop - n_fft/2 .. t·hop + n_fft/2`. Push
/// samples in any pieces; each frame is handed out as soon as its last sample arrives (with
/// [`Padding::Reflect`], the first frame waits for `n_fft / 2 + 1` samples, the ones it mirrors).
/// Allocates only in [`Framer::new()`] (and in `clone()`) and in [`Framer::finish()`].
pub struct Framer {
    n_fft: usize,
    hop: usize,
    padding: Padding,
    /// The samples of the next frame gathered so far: at most `n_fft`, or `n_fft + 1` just
    /// after the opening reflection.
    pending: Vec<f32>,
    /// Input samples still to skip before the next frame starts (only when hop > n_fft).
    skip: usize,
    /// Whether the opening padding is in `pending` (from the start with zeros; with
    /// reflection, once the samples it mirrors have arrived).
    opened: bool,
}

impl Framer {
    /// Zero padding.
    pub fn new(n_fft: usize, hop: usize) -> Self {
        Self::with_padding(n_fft, hop, Padding::Zeros)
    }

    /// `padding` [`Padding::Reflect`] needs `hop < n_fft / 2` (`FeatureConfig::validate`
    /// checks it).
    pub fn with_padding(n_fft: usize, hop: usize, padding: Padding) -> Self {
        let mut pending = Vec::with_capacity(n_fft + 1);
        let opened = padding == Padding::Zeros;
        if opened {
            pending.resize(n_fft / 2, 0.0);
        }
        Self {
            n_fft,
            hop: hop.max(1),
            padding,
            pending,
            skip: 0,
            opened,
        }
    }

    /// Feeds samples; calls `emit` with each completed frame of `n_fft` samples, in order.
    pub fn push(&mut self, mut samples: &[f32], mut emit: impl FnMut(&[f32])) {
        while !samples.is_empty() {
            if self.skip > 0 {
                let n = self.skip.min(samples.len());
                self.skip -= n;
                samples = &samples[n..];
                continue;
            }
            let wanted = if self.opened {
                self.n_fft
            } else {
                self.n_fft / 2 + 1
            };
            let n = wanted.saturating_sub(self.pending.len()).min(samples.len());
            self.pending.extend_from_slice(&samples[..n]);
            samples = &samples[n..];
            if !self.opened && self.pending.len() == wanted {
                self.open_reflected();
            }
            self.emit_ready(&mut emit);
        }
    }

    /// Prepends the mirror image of the first `n_fft / 2 + 1` samples (held in `pending`):
    /// `x[n_fft/2], …, x[1]` before `x[0]`.
    fn open_reflected(&mut self) {
        let half = self.n_fft / 2;
        // NOTE: `pending` holds half + 1 samples and has room for n_fft + 1: neither the
        // extension nor the rotation allocates.
        self.pending.extend_from_within(1..=half);
        self.pending[half + 1..].reverse();
        self.pending.rotate_right(half);
        self.opened = true;
    }

    /// Emits every complete frame at the front of `pending` and moves on by `hop`.
    fn emit_ready(&mut self, emit: &mut impl FnMut(&[f32])) {
        while self.opened && self.pending.len() >= self.n_fft {
            emit(&self.pending[..self.n_fft]);
            if self.hop >= self.n_fft {
                self.pending.clear();
                self.skip = self.hop - self.n_fft;
            } else {
                // NOTE: `drain` shifts within the existing capacity; it never allocates.
                self.pending.drain(..self.hop);
            }
        }
    }

    /// Ends the stream: appends the closing padding and emits the frames it completes.
    pub fn finish(mut self, mut emit: impl FnMut(&[f32])) {
        let half = self.n_fft / 2;
        if !self.opened {
            // Too short to mirror: zeros at both ends instead.
            let samples = std::mem::take(&mut self.pending);
            self = Self::new(self.n_fft, self.hop);
            self.push(&samples, &mut emit);
        }
        let closing: Vec<f32> = match self.padding {
            Padding::Zeros => vec![0.0; half],
            // `pending` ends with the last n_fft - hop > half input samples, x[N-1] last:
            // the closing mirror is x[N-2], …, x[N-1-half].
            Padding::Reflect => {
                let end = self.pending.len() - 1;
                self.pending[end - half..end]
                    .iter()
                    .rev()
                    .copied()
                    .collect()
            }
        };
        self.push(&closing, emit);
    }
}

impl Clone for Framer {
    /// Keeps `pending`'s capacity of `n_fft + 1` (a derived clone would not), so that the clone
    /// never allocates either.
    fn clone(&self) -> Self {
        let mut pending = Vec::with_capacity(self.n_fft + 1);
        pending.extend_from_slice(&self.pending);
        Self { pending, ..*self }
    }
}

/// Periodic Hann window of `win_length` samples (`scipy.signal.get_window("hann", fftbins=True)`),
/// centred in `n_fft` zeros like `librosa.util.pad_center`. Computed in f64, stored as f32.
pub fn hann_window(n_fft: usize, win_length: usize) -> Vec<f32> {
    window(n_fft, win_length, WindowShape::PeriodicHann)
}

/// A Hann window of `shape` and `win_length` samples centred in `n_fft` zeros (the offset
/// rounded down, as `librosa.util.pad_center` and `torch.stft` place it). Computed in f64,
/// stored as f32.
pub fn window(n_fft: usize, win_length: usize, shape: WindowShape) -> Vec<f32> {
    let mut window = vec![0.0f32; n_fft];
    let offset = (n_fft - win_length) / 2;
    let period = match shape {
        WindowShape::PeriodicHann => win_length,
        WindowShape::SymmetricHann => win_length.saturating_sub(1).max(1),
    };
    for (i, w) in window[offset..offset + win_length].iter_mut().enumerate() {
        let phase = std::f64::consts::TAU * i as f64 / period as f64;
        *w = (0.5 - 0.5 * phase.cos()) as f32;
    }
    window
}

/// `librosa.istft(frames, hop_length=hop, window="hann", center=True, length=length)`:
/// Hann-windowed overlap-add of the inverse transforms, divided by the summed squared window
/// where it is non-zero, with the centring padding removed. `frames` hold `n_fft / 2 + 1` bins.
pub fn istft(frames: &[Vec<Complex<f32>>], n_fft: usize, hop: usize, length: usize) -> Vec<f32> {
    let ifft = RealFftPlanner::<f32>::new().plan_fft_inverse(n_fft);
    let window = hann_window(n_fft, n_fft);
    let padded = n_fft + hop * frames.len().saturating_sub(1);
    let mut signal = vec![0.0f32; padded];
    let mut envelope = vec![0.0f32; padded];
    let mut spectrum = ifft.make_input_vec();
    let mut output = ifft.make_output_vec();
    let mut scratch = ifft.make_scratch_vec();
    for (t, frame) in frames.iter().enumerate() {
        spectrum.copy_from_slice(frame);
        // Like numpy's irfft, ignore the imaginary parts of the DC and Nyquist bins.
        spectrum[0].im = 0.0;
        if let Some(last) = spectrum.last_mut() {
            last.im = 0.0;
        }
        ifft.process_with_scratch(&mut spectrum, &mut output, &mut scratch)
            .expect("imaginary parts that must be zero were zeroed");
        let start = t * hop;
        for (i, (&x, &w)) in output.iter().zip(&window).enumerate() {
            signal[start + i] += w * x / n_fft as f32;
            envelope[start + i] += w * w;
        }
    }
    (0..length)
        .map(|i| {
            let j = i + n_fft / 2;
            match (signal.get(j), envelope.get(j)) {
                (Some(&x), Some(&e)) if e > f32::MIN_POSITIVE => x / e,
                (Some(&x), _) => x,
                _ => 0.0,
            }
        })
        .collect()
}

/// Number of frames `librosa.stft(center=True)` produces for `samples` input samples.
pub fn frame_count(samples: usize, hop_length: usize) -> usize {
    1 + samples / hop_length
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periodic_hann_matches_its_definition() {
        let w = hann_window(8, 8);
        let expected = [
            0.0,
            0.146_446_6,
            0.5,
            0.853_553_4,
            1.0,
            0.853_553_4,
            0.5,
            0.146_446_6,
        ];
        for (a, b) in w.iter().zip(expected) {
            assert!((a - b).abs() < 1e-6, "{w:?}");
        }
        // A shorter window sits in the middle of the frame.
        assert_eq!(
            hann_window(8, 4),
            vec![0.0, 0.0, 0.0, 0.5, 1.0, 0.5, 0.0, 0.0]
        );
    }

    #[test]
    fn symmetric_hann_ends_at_zero() {
        // 5 points centred in 6 (the offset rounds down, as torch.stft places it).
        let w = window(6, 5, WindowShape::SymmetricHann);
        assert_eq!(w, vec![0.0, 0.5, 1.0, 0.5, 0.0, 0.0]);
    }

    /// Frames of `signal` cut by a framer fed in pieces of `piece` samples.
    fn frames(signal: &[f32], n_fft: usize, hop: usize, piece: usize) -> Vec<Vec<f32>> {
        let mut framer = Framer::with_padding(n_fft, hop, Padding::Reflect);
        let mut frames = Vec::new();
        for chunk in signal.chunks(piece) {
            framer.push(chunk, |f| frames.push(f.to_vec()));
        }
        framer.finish(|f| frames.push(f.to_vec()));
        frames
    }

    #[test]
    fn reflected_ends_mirror_the_signal_like_torch() {
        let signal: Vec<f32> = (1..=20).map(|i| i as f32).collect();
        let (n_fft, hop) = (8, 3);
        // numpy.pad(x, 4, mode="reflect"): 5 4 3 2 | 1 … 20 | 19 18 17 16.
        let mut padded: Vec<f32> = [5.0, 4.0, 3.0, 2.0].to_vec();
        padded.extend(&signal);
        padded.extend([19.0, 18.0, 17.0, 16.0]);
        let expected: Vec<Vec<f32>> = (0..frame_count(signal.len(), hop))
            .map(|t| padded[t * hop..t * hop + n_fft].to_vec())
            .collect();
        for piece in [1, 2, 5, 7, 100] {
            assert_eq!(
                frames(&signal, n_fft, hop, piece),
                expected,
                "piece {piece}"
            );
        }
        // Too short to mirror: zeros, as with zero padding.
        let short = [1.0, 2.0, 3.0];
        let mut zeros = Vec::new();
        let mut framer = Framer::new(n_fft, hop);
        framer.push(&short, |f| zeros.push(f.to_vec()));
        framer.finish(|f| zeros.push(f.to_vec()));
        assert_eq!(frames(&short, n_fft, hop, 1), zeros);
    }

    #[test]
    fn a_bin_centred_sine_lands_in_its_bin() {
        let n_fft = 512;
        let mut stft = PowerSpectrum::new(n_fft, n_fft);
        let frame: Vec<f32> = (0..n_fft)
            .map(|i| (std::f32::consts::TAU * 32.0 * i as f32 / n_fft as f32).cos())
            .collect();
        let mut power = vec![0.0; stft.bins()];
        stft.compute(&frame, &mut power);
        // Hann-windowed cosine of amplitude 1 in bin 32: |X| = n_fft / 4, neighbours n_fft / 8.
        assert!((power[32].sqrt() - 128.0).abs() < 1e-3, "{}", power[32]);
        assert!((power[31].sqrt() - 64.0).abs() < 1e-3);
        assert!((power[33].sqrt() - 64.0).abs() < 1e-3);
        assert!(power[40] < 1e-6);
    }

    #[test]
    fn istft_inverts_the_stft() {
        let (n_fft, hop) = (512, 128);
        let signal: Vec<f32> = (0..5000).map(|i| ((i as f32) * 0.05).sin() * 0.5).collect();
        let mut stft = PowerSpectrum::new(n_fft, n_fft);
        let mut frames = Vec::new();
        let mut framer = Framer::new(n_fft, hop);
        framer.push(&signal, |f| frames.push(stft.spectrum(f).to_vec()));
        framer.finish(|f| frames.push(stft.spectrum(f).to_vec()));
        let back = istft(&frames, n_fft, hop, signal.len());
        let error = back
            .iter()
            .zip(&signal)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(error < 1e-5, "{error}");
    }

    #[test]
    fn frame_count_matches_librosa_centered_framing() {
        assert_eq!(frame_count(66_150, 512), 130);
        assert_eq!(frame_count(0, 512), 1);
        assert_eq!(frame_count(511, 512), 1);
        assert_eq!(frame_count(512, 512), 2);
    }
}

//! Short-time power spectra on `realfft`, framed like `librosa.stft(center=True,
//! pad_mode="constant")`: a periodic Hann window of `win_length` samples zero-padded to `n_fft`,
//! frames every `hop_length` samples, the signal zero-padded by `n_fft / 2` on both sides.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

use super::limit::clip;

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
    /// `win_length` must not exceed `n_fft` (it is clamped).
    pub fn new(n_fft: usize, win_length: usize) -> Self {
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(n_fft);
        let spectrum = fft.make_output_vec();
        let scratch = fft.make_scratch_vec();
        Self {
            window: hann_window(n_fft, win_length.min(n_fft)),
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
/// `librosa.stft(center=True, pad_mode="constant")`: the stream starts with `n_fft / 2` zeros,
/// and [`Framer::finish()`] appends the closing `n_fft / 2` zeros, so frame `t` covers input
/// samples `t·hop - n_fft/2 .. t·hop + n_fft/2`. Push samples in any pieces; each frame is
/// handed out as soon as its last sample arrives. Allocates only in [`Framer::new()`] (and in
/// `clone()`).
pub struct Framer {
    n_fft: usize,
    hop: usize,
    /// The samples of the next frame gathered so far (at most `n_fft`).
    pending: Vec<f32>,
    /// Input samples still to skip before the next frame starts (only when hop > n_fft).
    skip: usize,
}

impl Framer {
    pub fn new(n_fft: usize, hop: usize) -> Self {
        let mut pending = Vec::with_capacity(n_fft);
        pending.resize(n_fft / 2, 0.0);
        Self {
            n_fft,
            hop: hop.max(1),
            pending,
            skip: 0,
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
            let n = (self.n_fft - self.pending.len()).min(samples.len());
            self.pending.extend_from_slice(&samples[..n]);
            samples = &samples[n..];
            if self.pending.len() == self.n_fft {
                emit(&self.pending);
                if self.hop >= self.n_fft {
                    self.pending.clear();
                    self.skip = self.hop - self.n_fft;
                } else {
                    // NOTE: `drain` shifts within the existing capacity; it never allocates.
                    self.pending.drain(..self.hop);
                }
            }
        }
    }

    /// Ends the stream: appends the closing padding and emits the frames it completes.
    pub fn finish(mut self, emit: impl FnMut(&[f32])) {
        let padding = vec![0.0; self.n_fft / 2];
        self.push(&padding, emit);
    }
}

impl Clone for Framer {
    /// Keeps `pending`'s capacity of `n_fft` (a derived clone would not), so that the clone
    /// never allocates either.
    fn clone(&self) -> Self {
        let mut pending = Vec::with_capacity(self.n_fft);
        pending.extend_from_slice(&self.pending);
        Self { pending, ..*self }
    }
}

/// Periodic Hann window of `win_length` samples (`scipy.signal.get_window("hann", fftbins=True)`),
/// centred in `n_fft` zeros like `librosa.util.pad_center`. Computed in f64, stored as f32.
pub fn hann_window(n_fft: usize, win_length: usize) -> Vec<f32> {
    let mut window = vec![0.0f32; n_fft];
    let offset = (n_fft - win_length) / 2;
    for (i, w) in window[offset..offset + win_length].iter_mut().enumerate() {
        let phase = std::f64::consts::TAU * i as f64 / win_length as f64;
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

//! Harmonic/percussive source separation as `librosa.effects.hpss(y)`: median filtering of the
//! magnitude spectrogram across time (harmonic) and across frequency (percussive), soft masks
//! with power 2, and inverse STFT back to two signals of the input's length.

use realfft::num_complex::Complex;

use super::stft::{istft, Framer, PowerSpectrum};

const N_FFT: usize = 2048;
const HOP: usize = 512;
/// Median filter length in frames (harmonic) and in bins (percussive).
const KERNEL: usize = 31;

/// The harmonic and percussive parts of a signal; each as long as the input.
#[derive(Debug, Clone, PartialEq)]
pub struct Separated {
    pub harmonic: Vec<f32>,
    pub percussive: Vec<f32>,
}

/// Separates `samples` (any rate; librosa's defaults n_fft 2048, hop 512, kernel 31).
pub fn hpss(samples: &[f32]) -> Separated {
    let mut stft = PowerSpectrum::new(N_FFT, N_FFT);
    let mut frames: Vec<Vec<Complex<f32>>> = Vec::new();
    let mut framer = Framer::new(N_FFT, HOP);
    framer.push(samples, |f| frames.push(stft.spectrum(f).to_vec()));
    framer.finish(|f| frames.push(stft.spectrum(f).to_vec()));

    let magnitude: Vec<Vec<f32>> = frames
        .iter()
        .map(|frame| frame.iter().map(|c| c.norm()).collect())
        .collect();
    let (n_frames, bins) = (magnitude.len(), stft.bins());

    // Harmonic: median across time for each bin; percussive: across frequency for each frame.
    let mut harmonic_mag = vec![vec![0.0f32; bins]; n_frames];
    let mut window = Vec::with_capacity(KERNEL);
    for bin in 0..bins {
        for (t, frame) in harmonic_mag.iter_mut().enumerate() {
            window.clear();
            window.extend(reflected(t, n_frames).map(|u| magnitude[u][bin]));
            frame[bin] = median(&mut window);
        }
    }
    let percussive_mag: Vec<Vec<f32>> = magnitude
        .iter()
        .map(|frame| {
            (0..bins)
                .map(|k| {
                    window.clear();
                    window.extend(reflected(k, bins).map(|u| frame[u]));
                    median(&mut window)
                })
                .collect()
        })
        .collect();

    let masked = |mask_of: fn(f32, f32) -> f32| -> Vec<Vec<Complex<f32>>> {
        frames
            .iter()
            .zip(harmonic_mag.iter().zip(&percussive_mag))
            .map(|(frame, (h, p))| {
                frame
                    .iter()
                    .zip(h.iter().zip(p))
                    .map(|(c, (&h, &p))| c * mask_of(h, p))
                    .collect()
            })
            .collect()
    };
    let harmonic = istft(&masked(softmask), N_FFT, HOP, samples.len());
    let percussive = istft(&masked(|h, p| softmask(p, h)), N_FFT, HOP, samples.len());
    Separated {
        harmonic,
        percussive,
    }
}

/// The `KERNEL` indices centred on `i` in `0..len`, mirrored at the edges like
/// `scipy.ndimage.median_filter(mode="reflect")` (the edge sample repeats: d c b a | a b c d).
fn reflected(i: usize, len: usize) -> impl Iterator<Item = usize> {
    let half = (KERNEL / 2) as isize;
    let period = 2 * len as isize;
    (-half..=half).map(move |offset| {
        let j = (i as isize + offset).rem_euclid(period);
        (if j < len as isize { j } else { period - 1 - j }) as usize
    })
}

fn median(values: &mut [f32]) -> f32 {
    let mid = values.len() / 2;
    *values.select_nth_unstable_by(mid, f32::total_cmp).1
}

/// `librosa.util.softmask(x, reference, power=2)`: `x² / (x² + reference²)`, 0 where both
/// vanish.
fn softmask(x: f32, reference: f32) -> f32 {
    let z = x.max(reference);
    if z < f32::MIN_POSITIVE {
        return 0.0;
    }
    let (x, r) = ((x / z).powi(2), (reference / z).powi(2));
    x / (x + r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflection_repeats_the_edge_sample() {
        let first: Vec<usize> = reflected(0, 100).take(16).collect();
        assert_eq!(&first[..3], [14, 13, 12]);
        assert_eq!(&first[13..], [1, 0, 0]);
        // Shorter than the kernel: keeps reflecting back and forth.
        assert!(reflected(1, 3).all(|j| j < 3));
    }

    #[test]
    fn a_steady_tone_is_harmonic_and_clicks_are_percussive() {
        let rate = 22_050;
        let tone: Vec<f32> = (0..rate * 2)
            .map(|i| 0.5 * (std::f32::consts::TAU * 440.0 * i as f32 / rate as f32).sin())
            .collect();
        let mut clicks = vec![0.0f32; rate * 2];
        for i in (0..clicks.len()).step_by(rate / 4) {
            clicks[i] = 1.0;
        }
        let energy = |x: &[f32]| x.iter().map(|v| v * v).sum::<f32>();
        let tone_parts = hpss(&tone);
        assert!(energy(&tone_parts.harmonic) > 50.0 * energy(&tone_parts.percussive));
        let click_parts = hpss(&clicks);
        assert!(energy(&click_parts.percussive) > 10.0 * energy(&click_parts.harmonic));
        // The masks split the spectrum: the parts add back up to the input.
        let sum: Vec<f32> = tone_parts
            .harmonic
            .iter()
            .zip(&tone_parts.percussive)
            .map(|(h, p)| h + p)
            .collect();
        let error = sum
            .iter()
            .zip(&tone)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(error < 1e-4, "{error}");
    }
}

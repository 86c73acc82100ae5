//! Chromagrams as `librosa.feature.chroma_stft` computes them: tuning estimated from the
//! spectrogram's peaks (`librosa.estimate_tuning` / `piptrack`), librosa's Gaussian chroma
//! filterbank (`librosa.filters.chroma`), and each frame scaled to a maximum of 1.

/// Pitch classes per octave.
pub const N_CHROMA: usize = 12;
/// `piptrack`'s defaults: peaks are searched between these frequencies (Hz) ...
const PIPTRACK_FMIN: f64 = 150.0;
const PIPTRACK_FMAX: f64 = 4000.0;
/// ... and must exceed this fraction of the frame's largest value.
const PIPTRACK_THRESHOLD: f64 = 0.1;
/// Resolution of the tuning estimate, in fractions of a chroma bin.
const TUNING_RESOLUTION: f64 = 0.01;

/// Octaves above A0 (A4 = 440 Hz shifted by `tuning` chroma bins), as `librosa.hz_to_octs`.
fn hz_to_octs(hz: f64, tuning: f64) -> f64 {
    let a440 = 440.0 * 2f64.powf(tuning / N_CHROMA as f64);
    (hz / (a440 / 16.0)).log2()
}

/// Tuning deviation from A440 in fractions of a chroma bin (-0.5..0.5), estimated from the
/// interpolated spectral peaks of `spectra` (one power spectrum of `n_fft / 2 + 1` bins per
/// frame), as `librosa.estimate_tuning(S=spectra)`.
pub fn estimate_tuning(spectra: &[Vec<f32>], sample_rate: f64, n_fft: usize) -> f64 {
    let mut peaks = Vec::new(); // (frequency Hz, magnitude)
    for s in spectra {
        let s: Vec<f64> = s.iter().map(|&v| f64::from(v)).collect();
        let n = s.len();
        if n < 3 {
            continue;
        }
        let reference = PIPTRACK_THRESHOLD * s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let gated: Vec<f64> = s
            .iter()
            .map(|&v| if v > reference { v } else { 0.0 })
            .collect();
        for k in 1..n {
            let freq = k as f64 * sample_rate / n_fft as f64;
            let is_max = if k == n - 1 {
                gated[k] > gated[k - 1]
            } else {
                gated[k] > gated[k - 1] && gated[k] >= gated[k + 1]
            };
            if !(is_max && (PIPTRACK_FMIN..PIPTRACK_FMAX).contains(&freq)) {
                continue;
            }
            // Parabolic interpolation of the peak position (0 at the edges or when the
            // parabola would move it by a bin or more) and numpy's gradient for the height.
            let (shift, gradient) = if k == n - 1 {
                (0.0, s[k] - s[k - 1])
            } else {
                let a = s[k + 1] + s[k - 1] - 2.0 * s[k];
                let b = (s[k + 1] - s[k - 1]) / 2.0;
                (if b.abs() >= a.abs() { 0.0 } else { -b / a }, b)
            };
            let pitch = (k as f64 + shift) * sample_rate / n_fft as f64;
            peaks.push((pitch, s[k] + 0.5 * gradient * shift));
        }
    }
    let pitched: Vec<&(f64, f64)> = peaks.iter().filter(|(pitch, _)| *pitch > 0.0).collect();
    if pitched.is_empty() {
        return 0.0;
    }
    let threshold = median(pitched.iter().map(|(_, mag)| *mag).collect());
    let frequencies = pitched
        .iter()
        .filter(|(_, mag)| *mag >= threshold)
        .map(|(pitch, _)| *pitch);
    pitch_tuning(frequencies)
}

/// `np.median`: the mean of the two middle values for an even count.
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}

/// `librosa.pitch_tuning`: the most common deviation from the equal-tempered grid, as the left
/// edge of the winning histogram bin.
fn pitch_tuning(frequencies: impl Iterator<Item = f64>) -> f64 {
    let bins = (1.0 / TUNING_RESOLUTION).ceil() as usize;
    let edges: Vec<f64> = (0..=bins).map(|i| -0.5 + i as f64 / bins as f64).collect();
    let mut counts = vec![0usize; bins];
    for f in frequencies.filter(|&f| f > 0.0) {
        let mut residual = (N_CHROMA as f64 * hz_to_octs(f, 0.0)).rem_euclid(1.0);
        if residual >= 0.5 {
            residual -= 1.0;
        }
        // np.histogram: half-open bins, the last one closed.
        let bin = edges[1..]
            .partition_point(|&edge| edge <= residual)
            .min(bins - 1);
        counts[bin] += 1;
    }
    let best = counts
        .iter()
        .enumerate()
        .fold(0, |best, (i, &c)| if c > counts[best] { i } else { best });
    edges[best]
}

/// `librosa.filters.chroma(sr, n_fft, tuning)` with its defaults (Gaussian bumps, per-bin L2
/// norm, octave weighting centred on octave 5 with width 2, C first): `N_CHROMA` rows of
/// `n_fft / 2 + 1` weights, computed in f64 and stored as f32.
pub fn chroma_filterbank(sample_rate: f64, n_fft: usize, tuning: f64) -> Vec<Vec<f32>> {
    let n_chroma = N_CHROMA as f64;
    let mut frqbins: Vec<f64> = (1..n_fft)
        .map(|k| n_chroma * hz_to_octs(k as f64 * sample_rate / n_fft as f64, tuning))
        .collect();
    frqbins.insert(0, frqbins[0] - 1.5 * n_chroma);
    let widths: Vec<f64> = frqbins
        .windows(2)
        .map(|w| (w[1] - w[0]).max(1.0))
        .chain(std::iter::once(1.0))
        .collect();
    let half = (n_chroma / 2.0).round();

    let mut weights = vec![vec![0.0f64; n_fft]; N_CHROMA];
    for (bin, (&position, &width)) in frqbins.iter().zip(&widths).enumerate() {
        for (chroma, row) in weights.iter_mut().enumerate() {
            let d = (position - chroma as f64 + half + 10.0 * n_chroma).rem_euclid(n_chroma) - half;
            row[bin] = (-0.5 * (2.0 * d / width).powi(2)).exp();
        }
        let norm = weights
            .iter()
            .map(|row| row[bin].powi(2))
            .sum::<f64>()
            .sqrt();
        let octave_weight = (-0.5 * ((position / n_chroma - 5.0) / 2.0).powi(2)).exp();
        for row in &mut weights {
            row[bin] = row[bin] / norm * octave_weight;
        }
    }
    // Start at C rather than A.
    weights.rotate_left(3);
    weights
        .into_iter()
        .map(|row| row[..n_fft / 2 + 1].iter().map(|&w| w as f32).collect())
        .collect()
}

/// `librosa.feature.chroma_stft(S=spectra, tuning=tuning)`: per frame, the filterbank energies
/// scaled so the largest is 1 (all zeros for a silent frame).
pub fn chroma_stft(
    spectra: &[Vec<f32>],
    sample_rate: f64,
    n_fft: usize,
    tuning: f64,
) -> Vec<[f32; N_CHROMA]> {
    let bank = chroma_filterbank(sample_rate, n_fft, tuning);
    spectra
        .iter()
        .map(|power| {
            let mut chroma = [0.0f32; N_CHROMA];
            for (c, row) in chroma.iter_mut().zip(&bank) {
                *c = row
                    .iter()
                    .zip(power)
                    .map(|(&w, &p)| f64::from(w) * f64::from(p))
                    .sum::<f64>() as f32;
            }
            let max = chroma.iter().copied().fold(0.0f32, f32::max);
            if max > 0.0 {
                chroma.iter_mut().for_each(|c| *c /= max);
            }
            chroma
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_440_hz_tone_is_in_tune_and_lights_up_a() {
        let (rate, n_fft) = (22_050.0, 2048);
        let spectra: Vec<Vec<f32>> = (0..8)
            .map(|_| {
                let mut s = vec![0.0f32; n_fft / 2 + 1];
                // A parabola peaking exactly at 440 Hz (bin 40.867).
                let centre = 440.0 * n_fft as f64 / rate;
                for (k, v) in s.iter_mut().enumerate() {
                    *v = (1.0 - (k as f64 - centre).powi(2) / 4.0).max(0.0) as f32;
                }
                s
            })
            .collect();
        let tuning = estimate_tuning(&spectra, rate, n_fft);
        assert!(tuning.abs() < 0.02, "{tuning}");
        let chroma = chroma_stft(&spectra, rate, n_fft, tuning);
        let a = chroma[0]
            .iter()
            .enumerate()
            .fold(0, |b, (i, &v)| if v > chroma[0][b] { i } else { b });
        assert_eq!(a, 9, "{:?}", chroma[0]); // C, C#, D, D#, E, F, F#, G, G#, A
        assert_eq!(chroma[0][9], 1.0);
    }

    #[test]
    fn filterbank_columns_are_unit_norm_before_octave_weighting() {
        let bank = chroma_filterbank(22_050.0, 2048, 0.0);
        assert_eq!((bank.len(), bank[0].len()), (12, 1025));
        assert!(bank.iter().flatten().all(|w| w.is_finite() && *w >= 0.0));
    }
}

//! Mel filterbanks as `librosa.filters.mel` builds them (Slaney or HTK scale, Slaney area
//! normalisation or none) or as Kaldi does (`torchaudio.compliance.kaldi.get_mel_banks`,
//! EfficientAT's front end), stored sparsely.

use serde::{Deserialize, Serialize};

use super::linalg::{dot, LANES};

/// The Hz ↔ mel mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MelScale {
    /// Auditory Toolbox (librosa's default): linear below 1 kHz, logarithmic above.
    Slaney,
    /// `2595 · log10(1 + f / 700)`.
    Htk,
    /// Kaldi's `1127 · ln(1 + f / 700)` (the HTK scale in other units), with Kaldi's
    /// filterbank: triangles linear in mels rather than in Hz, over the `n_fft / 2` bins below
    /// Nyquist (the Nyquist bin weighs zero).
    Kaldi,
}

/// Filter normalisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MelNorm {
    /// Each triangle divided by its width in Hz / 2 (librosa's `norm="slaney"`, the default).
    Slaney,
    /// Triangles peak at 1.
    None,
}

const SLANEY_F_SP: f64 = 200.0 / 3.0;
const SLANEY_MIN_LOG_HZ: f64 = 1000.0;
const SLANEY_MIN_LOG_MEL: f64 = SLANEY_MIN_LOG_HZ / SLANEY_F_SP;

fn slaney_logstep() -> f64 {
    6.4f64.ln() / 27.0
}

/// Frequency in Hz to mels.
pub fn hz_to_mel(hz: f64, scale: MelScale) -> f64 {
    match scale {
        MelScale::Htk => 2595.0 * (1.0 + hz / 700.0).log10(),
        MelScale::Kaldi => 1127.0 * (1.0 + hz / 700.0).ln(),
        MelScale::Slaney if hz >= SLANEY_MIN_LOG_HZ => {
            SLANEY_MIN_LOG_MEL + (hz / SLANEY_MIN_LOG_HZ).ln() / slaney_logstep()
        }
        MelScale::Slaney => hz / SLANEY_F_SP,
    }
}

/// Mels to frequency in Hz.
pub fn mel_to_hz(mel: f64, scale: MelScale) -> f64 {
    match scale {
        MelScale::Htk => 700.0 * (10f64.powf(mel / 2595.0) - 1.0),
        MelScale::Kaldi => 700.0 * ((mel / 1127.0).exp() - 1.0),
        MelScale::Slaney if mel >= SLANEY_MIN_LOG_MEL => {
            SLANEY_MIN_LOG_HZ * (slaney_logstep() * (mel - SLANEY_MIN_LOG_MEL)).exp()
        }
        MelScale::Slaney => mel * SLANEY_F_SP,
    }
}

/// One triangular filter: weights for bins `start..start + weights.len()`, padded with zeros
/// to a multiple of [`LANES`] where the spectrum is long enough, so that [`dot`] runs whole
/// vector lanes only (narrow low-frequency filters otherwise cost mostly a scalar tail).
#[derive(Debug, Clone)]
struct Filter {
    start: usize,
    weights: Vec<f32>,
}

/// `n_mels` triangular filters over the `n_fft / 2 + 1` bins of a power spectrum.
#[derive(Debug, Clone)]
pub struct MelFilterbank {
    filters: Vec<Filter>,
    bins: usize,
}

impl MelFilterbank {
    /// Same arguments and result as `librosa.filters.mel(sr=sample_rate, n_fft=n_fft,
    /// n_mels=n_mels, fmin=fmin_hz, fmax=fmax_hz, htk=scale == Htk, norm=...)`: computed in
    /// f64 and rounded to f32 as librosa's default `dtype=float32` does.
    pub fn new(
        sample_rate: f64,
        n_fft: usize,
        n_mels: usize,
        fmin_hz: f64,
        fmax_hz: f64,
        scale: MelScale,
        norm: MelNorm,
    ) -> Self {
        let bins = n_fft / 2 + 1;
        let fft_freqs: Vec<f64> = (0..bins)
            .map(|k| k as f64 * sample_rate / n_fft as f64)
            .collect();
        let (mel_min, mel_max) = (hz_to_mel(fmin_hz, scale), hz_to_mel(fmax_hz, scale));
        let mel_freqs: Vec<f64> = (0..n_mels + 2)
            .map(|i| {
                let mel = mel_min + (mel_max - mel_min) * i as f64 / (n_mels + 1) as f64;
                mel_to_hz(mel, scale)
            })
            .collect();

        let filters = (0..n_mels)
            .map(|m| {
                let (left, centre, right) = (mel_freqs[m], mel_freqs[m + 1], mel_freqs[m + 2]);
                let enorm = match norm {
                    MelNorm::Slaney => 2.0 / (right - left),
                    MelNorm::None => 1.0,
                };
                let all: Vec<f32> = match scale {
                    MelScale::Kaldi => kaldi_triangle(m, mel_min, mel_max, n_mels, &fft_freqs)
                        .into_iter()
                        .map(|w| (f64::from(w) * enorm) as f32)
                        .collect(),
                    MelScale::Slaney | MelScale::Htk => fft_freqs
                        .iter()
                        .map(|&f| (triangle(left, centre, right, f) * enorm) as f32)
                        .collect(),
                };
                let start = all.iter().position(|&w| w != 0.0).unwrap_or(0);
                let end = all.iter().rposition(|&w| w != 0.0).map_or(start, |i| i + 1);
                let end = (start + (end - start).next_multiple_of(LANES)).min(bins);
                Filter {
                    start,
                    weights: all[start..end].to_vec(),
                }
            })
            .collect();
        Self { filters, bins }
    }

    pub fn n_mels(&self) -> usize {
        self.filters.len()
    }

    /// Number of spectrum bins the filterbank expects.
    pub fn bins(&self) -> usize {
        self.bins
    }

    /// Writes the filterbank energies of `power` (`bins()` values) into `mel` (`n_mels()`).
    #[inline(always)]
    pub fn apply(&self, power: &[f32], mel: &mut [f32]) {
        for (out, filter) in mel.iter_mut().zip(&self.filters) {
            *out = dot(&power[filter.start..], &filter.weights);
        }
    }

    /// The dense `n_mels × bins` weight matrix, row by row (for tests and export).
    pub fn dense(&self) -> Vec<Vec<f32>> {
        self.filters
            .iter()
            .map(|f| {
                let mut row = vec![0.0; self.bins];
                row[f.start..f.start + f.weights.len()].copy_from_slice(&f.weights);
                row
            })
            .collect()
    }
}

/// Kaldi's filter `m` over the bins at `fft_freqs` (Hz): a triangle linear in mels between
/// mel-spaced points, none on the Nyquist bin, computed in f32 as
/// `torchaudio.compliance.kaldi.get_mel_banks` computes it (its edges fall between bins
/// differently in f64: a bin 0.1 % inside a triangle in f64 may be outside in f32, which
/// changes a band's energy by up to 0.1 %).
fn kaldi_triangle(
    m: usize,
    mel_min: f64,
    mel_max: f64,
    n_mels: usize,
    fft_freqs: &[f64],
) -> Vec<f32> {
    let delta = ((mel_max - mel_min) / (n_mels + 1) as f64) as f32;
    let point = |i: usize| mel_min as f32 + i as f32 * delta;
    let (left, centre, right) = (point(m), point(m + 1), point(m + 2));
    let nyquist = fft_freqs.len() - 1;
    fft_freqs
        .iter()
        .enumerate()
        .map(|(bin, &hz)| {
            if bin == nyquist {
                return 0.0;
            }
            let mel = 1127.0f32 * (1.0f32 + hz as f32 / 700.0).ln();
            let up = (mel - left) / (centre - left);
            let down = (right - mel) / (right - centre);
            up.min(down).max(0.0)
        })
        .collect()
}

/// A triangle rising from `left` to 1 at `centre` and falling to 0 at `right`, at `x`.
fn triangle(left: f64, centre: f64, right: f64, x: f64) -> f64 {
    let lower = (x - left) / (centre - left);
    let upper = (right - x) / (right - centre);
    lower.min(upper).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_round_trip_and_hit_their_anchor_points() {
        for scale in [MelScale::Slaney, MelScale::Htk, MelScale::Kaldi] {
            for hz in [0.0, 100.0, 999.0, 1000.0, 4000.0, 11_025.0] {
                let back = mel_to_hz(hz_to_mel(hz, scale), scale);
                assert!((back - hz).abs() < 1e-9, "{scale:?} {hz}");
            }
        }
        assert!((hz_to_mel(1000.0, MelScale::Slaney) - 15.0).abs() < 1e-12);
        assert!((hz_to_mel(1000.0, MelScale::Htk) - 999.985_6).abs() < 1e-3);
    }

    #[test]
    fn unnormalised_triangles_peak_at_one_and_tile_the_spectrum() {
        let bank = MelFilterbank::new(
            22_050.0,
            2048,
            40,
            0.0,
            11_025.0,
            MelScale::Htk,
            MelNorm::None,
        );
        let dense = bank.dense();
        for row in &dense {
            let peak = row.iter().copied().fold(0.0f32, f32::max);
            assert!(peak > 0.5 && peak <= 1.0, "{peak}");
        }
        // Between the first and last centre, neighbouring triangles sum to one.
        for bin in 100..900 {
            let sum: f32 = dense.iter().map(|row| row[bin]).sum();
            assert!((sum - 1.0).abs() < 1e-5, "bin {bin}: {sum}");
        }
    }

    #[test]
    fn kaldi_triangles_are_linear_in_mels() {
        let bank = MelFilterbank::new(
            32_000.0,
            1024,
            128,
            0.0,
            15_000.0,
            MelScale::Kaldi,
            MelNorm::None,
        );
        let dense = bank.dense();
        assert_eq!(dense.len(), 128);
        assert!(dense.iter().all(|row| row[512] == 0.0));
        // Between the first and last centre, neighbouring triangles sum to one (in mels as in
        // Hz), and each bin's weights follow its mel position.
        let mel = |bin: usize| hz_to_mel(bin as f64 * 31.25, MelScale::Kaldi);
        let delta = hz_to_mel(15_000.0, MelScale::Kaldi) / 129.0;
        for bin in 20..460 {
            let sum: f32 = dense.iter().map(|row| row[bin]).sum();
            // f32 mels near 2 000 carry ~2e-4 of rounding: weights hold to ~1e-5 of a triangle.
            assert!((sum - 1.0).abs() < 1e-4, "bin {bin}: {sum}");
            let position = mel(bin) / delta;
            if (position - position.round()).abs() < 1e-3 {
                continue; // on a triangle's corner: f32 and f64 may put it on either side
            }
            let m = position.floor() as usize; // the filter falling through this bin
            let falling = (m as f64 + 1.0) - position;
            assert!(
                (f64::from(dense[m - 1][bin]) - falling).abs() < 1e-4,
                "bin {bin}"
            );
        }
    }

    #[test]
    fn sparse_apply_equals_the_dense_product() {
        let bank = MelFilterbank::new(
            16_000.0,
            512,
            96,
            0.0,
            8_000.0,
            MelScale::Slaney,
            MelNorm::Slaney,
        );
        let power: Vec<f32> = (0..bank.bins())
            .map(|k| (k as f32 * 0.37).sin().abs())
            .collect();
        let mut mel = vec![0.0; bank.n_mels()];
        bank.apply(&power, &mut mel);
        for (m, row) in bank.dense().iter().enumerate() {
            let dense: f32 = row.iter().zip(&power).map(|(w, p)| w * p).sum();
            assert!((dense - mel[m]).abs() <= 1e-6 * dense.abs().max(1.0), "{m}");
        }
    }
}

//! Global tempo as `librosa.feature.tempo(y=y, sr=sr)` estimates it: onset strength (mean
//! positive dB-mel flux), its windowed autocorrelation (tempogram, 8-s window) averaged over
//! time, weighted by a log-normal prior around 120 BPM, and the best lag's tempo.

use super::stft::hann_window;
use super::{FeatureConfig, FeatureExtractor, Preset};

/// Frames between onset-strength values, in samples.
const HOP: usize = 512;
/// Autocorrelation window, in seconds.
const AC_SECONDS: f64 = 8.0;
/// The prior: log-normal around this tempo (BPM) with one octave of standard deviation.
const START_BPM: f64 = 120.0;
const STD_OCTAVES: f64 = 1.0;
/// Tempi at or above this (BPM) are never chosen.
const MAX_BPM: f64 = 320.0;

/// `librosa.onset.onset_strength(y=y, sr=sr)`: per frame, the mean over 128 mel bands of the
/// positive dB increase since the previous frame, delayed by librosa's centring (3 frames).
pub fn onset_strength(samples: &[f32], sample_rate: u32) -> Vec<f32> {
    let config = FeatureConfig {
        sample_rate,
        ..FeatureConfig::preset(Preset::LogMel128)
    };
    let db = FeatureExtractor::new(&config)
        .expect("the log-mel preset is valid at any supported rate")
        .extract(samples);
    let frames = db.nrows();
    // lag 1 plus n_fft / (2 · hop) frames of centring.
    let delay = 1 + config.n_fft / (2 * HOP);
    (0..frames)
        .map(|t| {
            if t < delay {
                return 0.0;
            }
            let (now, before) = (db.row(t + 1 - delay), db.row(t - delay));
            let flux: f64 = now
                .iter()
                .zip(before.iter())
                .map(|(a, b)| f64::from((a - b).max(0.0)))
                .sum();
            (flux / db.ncols() as f64) as f32
        })
        .collect()
}

/// Estimated tempo of the whole clip, in BPM.
pub fn tempo(samples: &[f32], sample_rate: u32) -> f32 {
    let onset = onset_strength(samples, sample_rate);
    let tempogram = mean_tempogram(&onset, tempogram_window(sample_rate));
    let win = tempogram.len();

    let bpm = |lag: usize| 60.0 * f64::from(sample_rate) / (HOP * lag) as f64;
    let score = |lag: usize| {
        let octaves = (bpm(lag).log2() - START_BPM.log2()) / STD_OCTAVES;
        (1e6 * tempogram[lag]).ln_1p() - 0.5 * octaves * octaves
    };
    let best = (1..win)
        .filter(|&lag| bpm(lag) < MAX_BPM)
        .fold(None, |best: Option<usize>, lag| match best {
            Some(b) if score(b) >= score(lag) => Some(b),
            _ => Some(lag),
        })
        .unwrap_or(1);
    bpm(best) as f32
}

/// Autocorrelation window in onset frames (librosa's `time_to_frames(8.0)`).
pub fn tempogram_window(sample_rate: u32) -> usize {
    ((AC_SECONDS * f64::from(sample_rate)) as usize / HOP).max(2)
}

/// `librosa.feature.tempogram(onset_envelope=onset, win_length=win)` averaged over time: per
/// frame, the Hann-windowed autocorrelation of the onset strength around it (the envelope
/// padded with linear ramps to zero), scaled to a maximum of 1.
pub fn mean_tempogram(onset: &[f32], win: usize) -> Vec<f64> {
    let n = onset.len();
    let half = win / 2;
    let (first, last) = (f64::from(onset[0]), f64::from(onset[n - 1]));
    let padded: Vec<f64> = (0..half)
        .map(|i| first * i as f64 / half as f64)
        .chain(onset.iter().map(|&v| f64::from(v)))
        .chain((0..half).map(|j| last * (half - 1 - j) as f64 / half as f64))
        .collect();
    let window = hann_window(win, win);

    let mut mean = vec![0.0f64; win];
    let mut frame = vec![0.0f64; win];
    for t in 0..n {
        for (i, x) in frame.iter_mut().enumerate() {
            *x = padded[t + i] * f64::from(window[i]);
        }
        let autocorrelation: Vec<f64> = (0..win)
            .map(|lag| {
                frame[..win - lag]
                    .iter()
                    .zip(&frame[lag..])
                    .map(|(a, b)| a * b)
                    .sum()
            })
            .collect();
        let peak = autocorrelation.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        if peak > f64::MIN_POSITIVE {
            for (m, a) in mean.iter_mut().zip(&autocorrelation) {
                *m += a / peak;
            }
        }
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    mean
}

#[cfg(test)]
mod tests {
    use super::*;

    fn click_track(bpm: f64, seconds: usize) -> Vec<f32> {
        let rate = 22_050;
        let period = (60.0 / bpm * rate as f64) as usize;
        let mut samples = vec![0.0f32; seconds * rate];
        for start in (0..samples.len()).step_by(period) {
            for (i, s) in samples[start..].iter_mut().take(200).enumerate() {
                *s = (std::f32::consts::TAU * 1000.0 * i as f32 / rate as f32).sin() * 0.8;
            }
        }
        samples
    }

    #[test]
    fn finds_the_tempo_of_a_click_track() {
        for bpm in [90.0, 120.0, 150.0] {
            let found = tempo(&click_track(bpm, 12), 22_050);
            // Lags are whole frames: 60 · 22050 / (512 · lag) is within a few BPM of any tempo.
            assert!((found as f64 - bpm).abs() < 0.03 * bpm, "{bpm}: {found}");
        }
    }

    #[test]
    fn onset_strength_is_delayed_three_frames_and_never_negative() {
        let onset = onset_strength(&click_track(120.0, 3), 22_050);
        assert_eq!(&onset[..3], [0.0, 0.0, 0.0]);
        assert!(onset.iter().all(|v| *v >= 0.0 && v.is_finite()));
    }
}

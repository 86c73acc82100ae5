//! Frame descriptors of the GTZAN feature table (`features_30_sec.csv`), computed as librosa's
//! defaults do (n_fft = frame length 2048, hop 512, centred frames), and their clip summary.
//!
//! Columns: chroma_stft, RMS, zero-crossing rate, spectral centroid, bandwidth and
//! rolloff, the harmonic and percussive signals' statistics, and the 20 MFCC means and
//! variances.

use super::chroma::{chroma_stft, estimate_tuning, N_CHROMA};
use super::hpss::hpss;
use super::limit::clip;
use super::stft::{Framer, PowerSpectrum};
use super::tempo::tempo;
use super::{FeatureConfig, FeatureExtractor, Preset};

const FRAME_LENGTH: usize = 2048;
const HOP_LENGTH: usize = 512;
/// Fraction of a frame's spectral magnitude below the rolloff frequency.
const ROLL_PERCENT: f64 = 0.85;
/// `librosa.zero_crossings`' default: samples this small count as zero.
const ZERO_THRESHOLD: f32 = 1e-10;

/// One value per frame for each descriptor; all vectors have the same length.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FrameDescriptors {
    /// Pitch-class energies scaled to a maximum of 1 (`librosa.feature.chroma_stft`).
    pub chroma: Vec<[f32; N_CHROMA]>,
    /// The clip's tuning estimated for the chroma, in chroma bins from A440 (-0.5..0.5).
    pub tuning: f64,
    /// Root mean square of the frame's samples (`librosa.feature.rms`).
    pub rms: Vec<f32>,
    /// Fraction of adjacent sample pairs that change sign (`librosa.feature.zero_crossing_rate`).
    pub zero_crossing_rate: Vec<f32>,
    /// Magnitude-weighted mean frequency, Hz.
    pub spectral_centroid: Vec<f32>,
    /// Magnitude-weighted standard deviation around the centroid, Hz.
    pub spectral_bandwidth: Vec<f32>,
    /// Lowest frequency below which 85 % of the magnitude lies, Hz.
    pub spectral_rolloff: Vec<f32>,
}

/// Computes [`FrameDescriptors`] for a clip at `sample_rate` Hz.
pub fn frame_descriptors(samples: &[f32], sample_rate: u32) -> FrameDescriptors {
    let mut spectrum = PowerSpectrum::new(FRAME_LENGTH, FRAME_LENGTH);
    let freqs: Vec<f64> = (0..spectrum.bins())
        .map(|k| k as f64 * f64::from(sample_rate) / FRAME_LENGTH as f64)
        .collect();
    let mut power = vec![0.0; spectrum.bins()];
    let mut out = FrameDescriptors::default();
    let mut spectra = Vec::new();

    let mut on_frame = |frame: &[f32]| {
        let energy: f64 = frame.iter().map(|&x| f64::from(clip(x)).powi(2)).sum();
        out.rms.push((energy / frame.len() as f64).sqrt() as f32);

        spectrum.compute(frame, &mut power);
        let magnitude: Vec<f64> = power.iter().map(|&p| f64::from(p).sqrt()).collect();
        let (centroid, bandwidth, rolloff) = spectral_shape(&magnitude, &freqs);
        out.spectral_centroid.push(centroid as f32);
        out.spectral_bandwidth.push(bandwidth as f32);
        out.spectral_rolloff.push(rolloff as f32);
        spectra.push(power.clone());
    };
    let mut framer = Framer::new(FRAME_LENGTH, HOP_LENGTH);
    framer.push(samples, &mut on_frame);
    framer.finish(&mut on_frame);

    out.tuning = estimate_tuning(&spectra, f64::from(sample_rate), FRAME_LENGTH);
    out.chroma = chroma_stft(&spectra, f64::from(sample_rate), FRAME_LENGTH, out.tuning);
    out.zero_crossing_rate = zero_crossing_rate(samples);
    out
}

/// Centroid, bandwidth and rolloff (Hz) of one magnitude spectrum. A silent frame gives zeros.
fn spectral_shape(magnitude: &[f64], freqs: &[f64]) -> (f64, f64, f64) {
    let total: f64 = magnitude.iter().sum();
    if total <= 0.0 {
        return (0.0, 0.0, 0.0);
    }
    let centroid = magnitude.iter().zip(freqs).map(|(m, f)| m * f).sum::<f64>() / total;
    let spread = magnitude
        .iter()
        .zip(freqs)
        .map(|(m, f)| m * (f - centroid).powi(2))
        .sum::<f64>()
        / total;
    let threshold = ROLL_PERCENT * total;
    let mut cumulative = 0.0;
    let rolloff_bin = magnitude
        .iter()
        .position(|m| {
            cumulative += m;
            cumulative >= threshold
        })
        .unwrap_or(magnitude.len() - 1);
    (centroid, spread.sqrt(), freqs[rolloff_bin])
}

/// librosa's centred zero-crossing rate: frames of the edge-padded signal; the first sample of
/// each frame has no predecessor and counts as no crossing.
fn zero_crossing_rate(samples: &[f32]) -> Vec<f32> {
    if samples.is_empty() {
        return vec![0.0];
    }
    let half = FRAME_LENGTH / 2;
    let (first, last) = (samples[0], samples[samples.len() - 1]);
    let padded: Vec<bool> = std::iter::repeat_n(first, half)
        .chain(samples.iter().copied())
        .chain(std::iter::repeat_n(last, half))
        // Tiny values are zero, and zero counts as positive.
        .map(|x| x.abs() > ZERO_THRESHOLD && x.is_sign_negative())
        .collect();
    let frames = 1 + (padded.len() - FRAME_LENGTH) / HOP_LENGTH;
    (0..frames)
        .map(|t| {
            let frame = &padded[t * HOP_LENGTH..t * HOP_LENGTH + FRAME_LENGTH];
            let crossings = frame.windows(2).filter(|pair| pair[0] != pair[1]).count();
            crossings as f32 / FRAME_LENGTH as f32
        })
        .collect()
}

/// Mean and population variance, as `np.mean` and `np.var`.
fn mean_var(values: impl ExactSizeIterator<Item = f32> + Clone) -> (f32, f32) {
    let n = values.len().max(1) as f64;
    let mean = values.clone().map(f64::from).sum::<f64>() / n;
    let var = values.map(|v| (f64::from(v) - mean).powi(2)).sum::<f64>() / n;
    (mean as f32, var as f32)
}

/// Number of values [`clip_summary`] returns.
pub const SUMMARY_LEN: usize = 57;

/// The 57 clip-level descriptor columns, named and ordered as in `features_30_sec.csv`:
/// `chroma_stft_mean`, `chroma_stft_var`, `rms_mean`, ..., `tempo`, `mfcc1_mean`, ...,
/// `mfcc20_var`. Values are means and population variances over the clip's frames.
pub fn clip_summary(samples: &[f32], sample_rate: u32) -> Vec<(String, f32)> {
    let frames = frame_descriptors(samples, sample_rate);
    let mut columns = Vec::new();
    let (mean, var) = mean_var(frames.chroma.as_flattened().iter().copied());
    columns.push(("chroma_stft_mean".to_owned(), mean));
    columns.push(("chroma_stft_var".to_owned(), var));
    for (name, values) in [
        ("rms", &frames.rms),
        ("spectral_centroid", &frames.spectral_centroid),
        ("spectral_bandwidth", &frames.spectral_bandwidth),
        ("rolloff", &frames.spectral_rolloff),
        ("zero_crossing_rate", &frames.zero_crossing_rate),
    ] {
        let (mean, var) = mean_var(values.iter().copied());
        columns.push((format!("{name}_mean"), mean));
        columns.push((format!("{name}_var"), var));
    }
    let separated = hpss(samples);
    for (name, signal) in [
        ("harmony", &separated.harmonic),
        ("perceptr", &separated.percussive),
    ] {
        let (mean, var) = mean_var(signal.iter().copied());
        columns.push((format!("{name}_mean"), mean));
        columns.push((format!("{name}_var"), var));
    }
    columns.push(("tempo".to_owned(), tempo(samples, sample_rate)));

    let mfcc_config = FeatureConfig {
        sample_rate,
        n_mfcc: 20,
        ..FeatureConfig::preset(Preset::Mfcc13)
    };
    let mfcc = FeatureExtractor::new(&mfcc_config)
        .expect("the MFCC preset is valid at any supported rate")
        .extract(samples);
    for (i, coefficient) in mfcc.columns().into_iter().enumerate() {
        let (mean, var) = mean_var(coefficient.iter().copied());
        columns.push((format!("mfcc{}_mean", i + 1), mean));
        columns.push((format!("mfcc{}_var", i + 1), var));
    }
    columns
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pure_tone_has_its_frequency_as_centroid_and_a_steady_zero_crossing_rate() {
        let rate = 22_050;
        // Magnitude weighting lets the window's leakage pull the centroid up slightly.
        let tone: Vec<f32> = (0..rate)
            .map(|i| 0.5 * (std::f32::consts::TAU * 1000.0 * i as f32 / rate as f32).sin())
            .collect();
        let d = frame_descriptors(&tone, rate as u32);
        let middle = d.rms.len() / 2;
        // Not a whole number of periods per frame: within 0.5 %.
        assert!((d.rms[middle] / (0.5 / 2f32.sqrt()) - 1.0).abs() < 5e-3);
        assert!(
            (d.spectral_centroid[middle] - 1000.0).abs() < 10.0,
            "{}",
            d.spectral_centroid[middle]
        );
        // Magnitude weighting gives the window's leakage weight far from the tone: bandwidth
        // and rolloff are checked against librosa in tests/librosa_parity.rs; here only that
        // the 85 % point cannot lie below the tone.
        assert!(d.spectral_bandwidth[middle] > 0.0);
        assert!(
            d.spectral_rolloff[middle] >= 1000.0 - 11.0,
            "{}",
            d.spectral_rolloff[middle]
        );
        // 2 crossings per period of 22.05 samples.
        assert!((d.zero_crossing_rate[middle] - 2.0 * 1000.0 / rate as f32).abs() < 2e-3);
        assert_eq!(d.zero_crossing_rate.len(), d.rms.len());
    }

    #[test]
    fn silence_gives_zeros_not_nan() {
        let d = frame_descriptors(&[0.0; 4096], 22_050);
        for values in [
            &d.rms,
            &d.zero_crossing_rate,
            &d.spectral_centroid,
            &d.spectral_bandwidth,
            &d.spectral_rolloff,
        ] {
            assert!(values.iter().all(|&v| v == 0.0), "{values:?}");
        }
    }

    #[test]
    fn summary_columns_follow_the_gtzan_table() {
        let noise: Vec<f32> = (0..22_050u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) as f32 / u32::MAX as f32) - 0.5)
            .collect();
        let columns = clip_summary(&noise, 22_050);
        let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names.len(), SUMMARY_LEN);
        assert_eq!(
            &names[..4],
            ["chroma_stft_mean", "chroma_stft_var", "rms_mean", "rms_var"]
        );
        assert_eq!(names.last(), Some(&"mfcc20_var"));
        assert!(columns.iter().all(|(_, v)| v.is_finite()));
    }
}

//! Parity with librosa: every case in `tests/fixtures/librosa/manifest.json` (written by
//! `generate.py` there, with librosa 0.11.0) is recomputed with our feature code and compared.
//!
//! Tolerances (max over every value of every case):
//! - log-mel: 1e-3 dB absolute;
//! - MFCC: 1e-3 of the case's largest coefficient magnitude;
//! - musicnn input (`log10(1 + 10000·x)`): 1e-4 absolute;
//! - chroma_stft: the same tuning estimate (to the 0.01-bin histogram step), values 1e-4
//!   absolute (they lie in 0..=1);
//! - HPSS: harmonic and percussive signals within 1e-4 of the input's peak, their variances
//!   within 1e-3 relative;
//! - tempo: onset strength within 1e-3 of its peak, the averaged tempogram within 1e-4, and
//!   the same tempo (to 1e-3 BPM);
//! - the 57-value descriptor vector (`clip_summary`) of the music excerpt: same column names
//!   and order, each within 1e-3 relative (1e-6 absolute for the near-zero HPSS means);
//! - frame descriptors: RMS 1e-5 relative to the case's largest RMS, zero-crossing rate exact
//!   (to 1e-6), centroid and bandwidth 1e-3 relative, rolloff exact except where the 85 % point
//!   falls within float rounding of a bin edge (then one bin, at most 1 % of frames).

use std::path::{Path, PathBuf};

use genrescope::decode::decode_mono;
use genrescope::features::descriptors::{clip_summary, frame_descriptors};
use genrescope::features::hpss::hpss;
use genrescope::features::tempo::{mean_tempogram, onset_strength, tempo, tempogram_window};
use genrescope::features::{FeatureConfig, FeatureExtractor, FeatureKind};
use ndarray::Array2;
use ndarray_npy::read_npy;
use serde::Deserialize;

#[derive(Deserialize)]
struct Manifest {
    cases: Vec<Case>,
    descriptor_cases: Vec<DescriptorCase>,
    music_summary: Summary,
}

/// librosa's values of the whole GTZAN-table descriptor vector for one input.
#[derive(Deserialize)]
struct Summary {
    input: Input,
    columns: Vec<(String, f64)>,
}

#[derive(Deserialize)]
struct DescriptorCase {
    name: String,
    input: Input,
    output: String,
    chroma: String,
    tuning: f64,
    /// Every 10th sample of librosa's harmonic and percussive signals.
    hpss: String,
    /// Mean and variance of the harmonic, then of the percussive signal.
    hpss_stats: [f64; 4],
    /// librosa's onset strength (`onset_frames` values), then its time-averaged tempogram.
    tempo_arrays: String,
    onset_frames: usize,
    tempo: f64,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    config: FeatureConfig,
    input: Input,
    output: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Input {
    Npy {
        npy: String,
    },
    SharedMusic {
        shared_music: String,
        start: usize,
        samples: usize,
        sum: f64,
        sum_squares: f64,
    },
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/librosa")
}

fn shared_music() -> PathBuf {
    genrescope::research::music_dir()
}

fn load_input(input: &Input) -> Vec<f32> {
    match input {
        Input::Npy { npy } => {
            let samples: ndarray::Array1<f32> = read_npy(fixtures().join(npy)).unwrap();
            samples.to_vec()
        }
        Input::SharedMusic {
            shared_music: clip,
            start,
            samples,
            sum,
            sum_squares,
        } => {
            let path = shared_music().join(clip);
            let audio = decode_mono(&path).unwrap_or_else(|err| {
                panic!("{err} (is the research corpus in $GENRESCOPE_MUSIC or ../shared/music?)")
            });
            let excerpt = audio.samples[*start..*start + *samples].to_vec();
            // Our decoder must agree with libsndfile before features can be compared.
            let our_sum: f64 = excerpt.iter().map(|&x| f64::from(x)).sum();
            let our_squares: f64 = excerpt.iter().map(|&x| f64::from(x).powi(2)).sum();
            assert!(
                (our_sum - sum).abs() < 1e-3,
                "{clip}: sum {our_sum} vs {sum}"
            );
            assert!(
                (our_squares - sum_squares).abs() < 1e-4 * sum_squares,
                "{clip}: energy {our_squares} vs {sum_squares}"
            );
            excerpt
        }
    }
}

/// Largest absolute difference, and the largest reference magnitude.
fn compare(ours: &Array2<f32>, reference: &Array2<f32>) -> (f32, f32) {
    assert_eq!(ours.shape(), reference.shape());
    let max_diff = ours
        .iter()
        .zip(reference)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    let max_ref = reference.iter().map(|b| b.abs()).fold(0.0, f32::max);
    (max_diff, max_ref)
}

fn manifest() -> Manifest {
    let text = std::fs::read_to_string(fixtures().join("manifest.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn features_match_librosa() {
    let manifest = manifest();
    assert!(manifest.cases.len() >= 20);
    let mut failures = Vec::new();
    for case in &manifest.cases {
        let samples = load_input(&case.input);
        let reference: Array2<f32> = read_npy(fixtures().join(&case.output)).unwrap();
        let ours = FeatureExtractor::new(&case.config)
            .unwrap()
            .extract(&samples);
        let (max_diff, max_ref) = compare(&ours, &reference);
        let (error, tolerance, unit) = match case.config.kind {
            FeatureKind::LogMel => (max_diff, 1e-3, "dB"),
            FeatureKind::Mfcc => (max_diff / max_ref.max(1e-12), 1e-3, "relative"),
            // EfficientAT's input is checked against PyTorch's, in xtask/src/efficientat.
            FeatureKind::Musicnn | FeatureKind::EfficientAt => (max_diff, 1e-4, "abs"),
        };
        println!(
            "{:<28} max error {error:.2e} {unit} (tolerance {tolerance:.0e})",
            case.name
        );
        if error > tolerance {
            failures.push(format!("{}: {error:e} {unit}", case.name));
        }
    }
    assert!(failures.is_empty(), "out of tolerance: {failures:#?}");
}

#[test]
fn frame_descriptors_match_librosa() {
    let manifest = manifest();
    assert_eq!(manifest.descriptor_cases.len(), 5);
    let bin_hz = 22_050.0 / 2048.0;
    for case in &manifest.descriptor_cases {
        let samples = load_input(&case.input);
        let reference: Array2<f32> = read_npy(fixtures().join(&case.output)).unwrap();
        let ours = frame_descriptors(&samples, 22_050);
        assert_eq!(ours.rms.len(), reference.nrows(), "{}", case.name);

        let column = |i: usize| reference.column(i).to_vec();
        let max_abs = |a: &[f32], b: &[f32]| {
            a.iter()
                .zip(b)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0f32, f32::max)
        };
        let relative = |a: &[f32], b: &[f32]| {
            max_abs(a, b) / b.iter().map(|v| v.abs()).fold(1e-12f32, f32::max)
        };
        let rms = relative(&ours.rms, &column(0));
        let zcr = max_abs(&ours.zero_crossing_rate, &column(1));
        let centroid = relative(&ours.spectral_centroid, &column(2));
        let bandwidth = relative(&ours.spectral_bandwidth, &column(3));
        let rolloff_ref = column(4);
        let rolloff_off: Vec<f32> = ours
            .spectral_rolloff
            .iter()
            .zip(&rolloff_ref)
            .map(|(a, b)| (a - b).abs())
            .filter(|d| *d > 0.0)
            .collect();
        println!(
            "{:<22} rms {rms:.1e}  zcr {zcr:.1e}  centroid {centroid:.1e}  bandwidth {bandwidth:.1e}  \
             rolloff off in {}/{} frames",
            case.name,
            rolloff_off.len(),
            rolloff_ref.len()
        );
        let chroma_ref: Array2<f32> = read_npy(fixtures().join(&case.chroma)).unwrap();
        let chroma_ours: Vec<f32> = ours.chroma.iter().flatten().copied().collect();
        let chroma = max_abs(&chroma_ours, chroma_ref.as_slice().unwrap());
        println!(
            "{:<22} tuning {:+.2} (librosa {:+.2})  chroma max error {chroma:.1e}",
            case.name, ours.tuning, case.tuning
        );
        // An impulse has a flat spectrum: its "peaks" are float rounding noise, so the tuning
        // estimate (and with it the chroma) is arbitrary in librosa and here alike.
        if case.name != "descriptors/impulse" {
            assert!(
                (ours.tuning - case.tuning).abs() < 1e-9,
                "{}: tuning",
                case.name
            );
            assert!(chroma <= 1e-4, "{}: chroma {chroma}", case.name);
        }
        assert!(rms <= 1e-5, "{}: rms {rms}", case.name);
        assert!(zcr <= 1e-6, "{}: zcr {zcr}", case.name);
        assert!(centroid <= 1e-3, "{}: centroid {centroid}", case.name);
        assert!(bandwidth <= 1e-3, "{}: bandwidth {bandwidth}", case.name);
        assert!(
            rolloff_off.iter().all(|d| *d <= bin_hz + 1e-3),
            "{}: {rolloff_off:?}",
            case.name
        );
        assert!(
            rolloff_off.len() * 100 <= rolloff_ref.len(),
            "{}: {rolloff_off:?}",
            case.name
        );
    }
}

#[test]
fn hpss_matches_librosa() {
    for case in &manifest().descriptor_cases {
        let samples = load_input(&case.input);
        let reference: Array2<f32> = read_npy(fixtures().join(&case.hpss)).unwrap();
        let ours = hpss(&samples);
        let peak = samples.iter().map(|x| x.abs()).fold(1e-12f32, f32::max);
        let mut errors = [0.0f32; 2];
        for (row, expected) in reference.rows().into_iter().enumerate() {
            let i = row * 10;
            errors[0] = errors[0].max((ours.harmonic[i] - expected[0]).abs() / peak);
            errors[1] = errors[1].max((ours.percussive[i] - expected[1]).abs() / peak);
        }
        let var = |x: &[f32]| {
            let mean = x.iter().map(|&v| f64::from(v)).sum::<f64>() / x.len() as f64;
            x.iter()
                .map(|&v| (f64::from(v) - mean).powi(2))
                .sum::<f64>()
                / x.len() as f64
        };
        let relative = |ours: f64, theirs: f64| (ours - theirs).abs() / theirs.abs().max(1e-20);
        let var_errors = [
            relative(var(&ours.harmonic), case.hpss_stats[1]),
            relative(var(&ours.percussive), case.hpss_stats[3]),
        ];
        println!(
            "{:<22} harmonic {:.1e}  percussive {:.1e}  (of peak)  variances {:.1e} {:.1e}",
            case.name, errors[0], errors[1], var_errors[0], var_errors[1]
        );
        assert!(
            errors.iter().all(|e| *e <= 1e-4),
            "{}: {errors:?}",
            case.name
        );
        if case.hpss_stats[1] > 0.0 {
            assert!(
                var_errors.iter().all(|e| *e <= 1e-3),
                "{}: {var_errors:?}",
                case.name
            );
        }
    }
}

#[test]
fn tempo_matches_librosa() {
    for case in &manifest().descriptor_cases {
        let samples = load_input(&case.input);
        let reference: ndarray::Array1<f64> =
            read_npy(fixtures().join(&case.tempo_arrays)).unwrap();
        let (onset_ref, tempogram_ref) = reference.as_slice().unwrap().split_at(case.onset_frames);

        let onset = onset_strength(&samples, 22_050);
        assert_eq!(onset.len(), onset_ref.len(), "{}", case.name);
        let peak = onset_ref.iter().fold(1e-12f64, |m, v| m.max(v.abs()));
        let onset_error = onset
            .iter()
            .zip(onset_ref)
            .map(|(a, b)| (f64::from(*a) - b).abs() / peak)
            .fold(0.0, f64::max);
        let tempogram = mean_tempogram(&onset, tempogram_window(22_050));
        assert_eq!(tempogram.len(), tempogram_ref.len());
        let tempogram_error = tempogram
            .iter()
            .zip(tempogram_ref)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        let bpm = tempo(&samples, 22_050);
        println!(
            "{:<22} onset {onset_error:.1e} (of peak)  tempogram {tempogram_error:.1e}  tempo {bpm:.3} (librosa {:.3})",
            case.name, case.tempo
        );
        assert!(onset_error <= 1e-3, "{}: onset {onset_error}", case.name);
        assert!(
            tempogram_error <= 1e-4,
            "{}: tempogram {tempogram_error}",
            case.name
        );
        assert!(
            (f64::from(bpm) - case.tempo).abs() < 1e-3,
            "{}: tempo {bpm}",
            case.name
        );
    }
}

#[test]
fn descriptor_vector_matches_librosa() {
    let summary = manifest().music_summary;
    let ours = clip_summary(&load_input(&summary.input), 22_050);
    assert_eq!(ours.len(), summary.columns.len());
    for ((name, value), (expected_name, expected)) in ours.iter().zip(&summary.columns) {
        assert_eq!(name, expected_name);
        let error = (f64::from(*value) - expected).abs();
        let ok = error <= 1e-3 * expected.abs() || error <= 1e-6;
        assert!(ok, "{name}: {value} vs librosa {expected}");
    }
}

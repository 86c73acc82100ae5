//! The decoder reads every container the tooling promises (WAV, FLAC, Ogg Vorbis, MP3, AIFF,
//! AAC in MP4),
//! downmixes, resamples, and feeds the feature extractor: the path of `cargo xtask features`.

use std::path::{Path, PathBuf};

use genrescope::decode::{decode_mono, decode_mono_at};
use genrescope::features::stft::frame_count;
use genrescope::features::{FeatureConfig, FeatureExtractor, Preset};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/audio")
        .join(name)
}

/// Frequency estimated from upward zero crossings over the middle of the signal, in Hz.
fn zero_crossing_frequency(samples: &[f32], rate: u32) -> f32 {
    let middle = &samples[samples.len() / 5..samples.len() * 4 / 5];
    let crossings = middle
        .windows(2)
        .filter(|w| w[0] < 0.0 && w[1] >= 0.0)
        .count();
    crossings as f32 * rate as f32 / middle.len() as f32
}

#[test]
fn every_container_decodes_to_the_same_sine() {
    // (file, rate, channels, extra samples a lossy codec may add or drop at the edges)
    let cases = [
        ("sine440_mono_22050.wav", 22_050, 1, 0),
        ("sine440_stereo_44100.flac", 44_100, 2, 0),
        ("sine440_mono_22050.ogg", 22_050, 1, 0),
        ("sine440_stereo_44100.mp3", 44_100, 2, 2_400),
        ("sine440_mono_16000.aiff", 16_000, 1, 0),
        // AAC's encoder delay and frame padding: up to two 1024-sample frames more.
        ("sine440_stereo_44100.m4a", 44_100, 2, 2_400),
    ];
    for (name, rate, channels, slack) in cases {
        let audio = decode_mono(&fixture(name)).unwrap();
        assert_eq!(
            (audio.sample_rate, audio.channels),
            (rate, channels),
            "{name}"
        );
        let expected = rate as usize / 2;
        assert!(
            audio.samples.len().abs_diff(expected) <= slack,
            "{name}: {} samples",
            audio.samples.len()
        );
        assert_eq!(
            audio.missing_seconds, 0.0,
            "{name}: complete, not truncated"
        );
        let frequency = zero_crossing_frequency(&audio.samples, rate);
        assert!((frequency - 440.0).abs() < 5.0, "{name}: {frequency} Hz");
        let middle = &audio.samples[audio.samples.len() / 4..audio.samples.len() * 3 / 4];
        let rms = (middle.iter().map(|x| x * x).sum::<f32>() / middle.len() as f32).sqrt();
        assert!((rms - 0.5 / 2f32.sqrt()).abs() < 0.01, "{name}: rms {rms}");
    }
}

/// Phase in radians of the 440-Hz sine in `samples` (at `rate` Hz) at time 0, from its
/// correlation with sin and cos over the middle half.
fn phase_at_zero(samples: &[f32], rate: u32) -> f64 {
    let (mut sin_sum, mut cos_sum) = (0.0f64, 0.0f64);
    let start = samples.len() / 4;
    for (i, &x) in samples[start..samples.len() * 3 / 4].iter().enumerate() {
        let phase = std::f64::consts::TAU * 440.0 * (start + i) as f64 / f64::from(rate);
        sin_sum += f64::from(x) * phase.sin();
        cos_sum += f64::from(x) * phase.cos();
    }
    cos_sum.atan2(sin_sum)
}

#[test]
fn aac_in_mp4_starts_where_the_music_starts() {
    // The encoder's 1024 priming samples are trimmed by the file's edit list: the AAC sine
    // keeps the FLAC's phase (untrimmed it lagged by 1024 samples, 1.37 rad at 440 Hz) and its
    // length.
    let reference = decode_mono(&fixture("sine440_stereo_44100.flac")).unwrap();
    let aac = decode_mono(&fixture("sine440_stereo_44100.m4a")).unwrap();
    let lag = phase_at_zero(&aac.samples, 44_100) - phase_at_zero(&reference.samples, 44_100);
    let lag = (lag + std::f64::consts::PI).rem_euclid(std::f64::consts::TAU) - std::f64::consts::PI;
    assert!(lag.abs() < 0.05, "the AAC sine is {lag} rad off");
    assert_eq!(aac.samples.len(), reference.samples.len());
}

#[test]
fn any_container_becomes_features_at_the_model_rate() {
    let config = FeatureConfig::preset(Preset::Mfcc13);
    let extractor = FeatureExtractor::new(&config).unwrap();
    for name in [
        "sine440_stereo_44100.flac",
        "sine440_mono_16000.aiff",
        "sine440_mono_22050.ogg",
    ] {
        let audio = decode_mono_at(&fixture(name), config.sample_rate).unwrap();
        assert_eq!(audio.samples.len(), 11_025, "{name}");
        let frequency = zero_crossing_frequency(&audio.samples, config.sample_rate);
        assert!((frequency - 440.0).abs() < 5.0, "{name}: {frequency} Hz");
        let features = extractor.extract(&audio.samples);
        assert_eq!(
            features.dim(),
            (frame_count(11_025, config.hop_length), 13),
            "{name}"
        );
        assert!(features.iter().all(|v| v.is_finite()), "{name}");
    }
}

#[test]
fn a_corrupt_mp3_frame_is_skipped_and_counted() {
    let mut bytes = std::fs::read(fixture("sine440_stereo_44100.mp3")).unwrap();
    // MPEG-1 Layer III frame lengths at 44.1 kHz: 144 000 · kbit/s / 44 100 + padding.
    const KBPS: [usize; 16] = [
        0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0,
    ];
    let mut frame = 0;
    for _ in 0..2 {
        assert_eq!(bytes[frame], 0xff, "frame sync");
        let header = bytes[frame + 2];
        frame += 144_000 * KBPS[usize::from(header >> 4)] / 44_100 + usize::from(header >> 1 & 1);
    }
    // The third frame (the first is the Xing header), side information after the 4-byte
    // header: its first granule's part2_3_length (bits 20..32) says 0 bits while its
    // scalefac_compress (bits 49..53) asks for 74 bits of scale factors.
    assert_eq!(bytes[frame..frame + 2], [0xff, 0xfb]);
    let side = frame + 4;
    bytes[side + 2] &= 0xf0;
    bytes[side + 3] = 0;
    bytes[side + 6] |= 0x78;
    let path = std::env::temp_dir().join(format!("genrescope-frame-{}.mp3", std::process::id()));
    std::fs::write(&path, &bytes).unwrap();
    let clean = decode_mono(&fixture("sine440_stereo_44100.mp3")).unwrap();
    let audio = decode_mono(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(clean.skipped_packets, 0);
    assert_eq!(audio.skipped_packets, 1);
    // At most one frame (1 152 samples) is missing; the rest decodes.
    assert!(audio.samples.len() < clean.samples.len());
    assert!(audio.samples.len() + 1152 >= clean.samples.len());
}

#[test]
fn an_empty_file_says_so_and_a_truncated_one_counts_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.mp3");
    std::fs::write(&empty, b"").unwrap();
    let error = decode_mono(&empty).unwrap_err().to_string();
    assert!(error.contains("empty file"), "{error}");

    // Half of a 0.5-s MP3 whose Xing header counts every frame.
    let whole = std::fs::read(fixture("sine440_stereo_44100.mp3")).unwrap();
    let cut = dir.path().join("cut.mp3");
    std::fs::write(&cut, &whole[..whole.len() / 2]).unwrap();
    let audio = decode_mono(&cut).unwrap();
    let missing = 0.5 - audio.seconds();
    assert!(missing > 0.2, "{} s decoded", audio.seconds());
    assert!(
        (audio.missing_seconds - missing).abs() < 0.03,
        "{} s said missing, {missing} s missing",
        audio.missing_seconds
    );
}

/// Truncated and corrupted MP4 files (sizes cut short, atom sizes and sample tables garbled)
/// are each a clear error or a shorter decode, never a crash or a runaway allocation.
#[test]
fn damaged_mp4_files_are_errors_not_crashes() {
    let good = std::fs::read(fixture("sine440_stereo_44100.m4a")).unwrap();
    let temporary = tempfile::Builder::new()
        .prefix("genrescope-mp4-")
        .tempdir()
        .unwrap();
    let dir = temporary.path();
    let mut damaged: Vec<Vec<u8>> = [8, 16, 40, 200, good.len() / 2, good.len() - 10]
        .iter()
        .map(|&n| good[..n].to_vec())
        .collect();
    // Every 32-bit word that could be an atom size or a table count, set to huge values.
    for position in (0..good.len().saturating_sub(4)).step_by(97) {
        for value in [0xFFFF_FFF0u32, 0x7FFF_FFFF, 0] {
            let mut bytes = good.clone();
            bytes[position..position + 4].copy_from_slice(&value.to_be_bytes());
            damaged.push(bytes);
        }
    }
    let mut errors = 0;
    for (i, bytes) in damaged.iter().enumerate() {
        let path = dir.join(format!("damaged{i}.m4a"));
        std::fs::write(&path, bytes).unwrap();
        match decode_mono(&path) {
            Ok(audio) => assert!(audio.samples.iter().all(|x| x.is_finite()), "{i}"),
            Err(e) => {
                assert!(!e.to_string().is_empty());
                errors += 1;
            }
        }
    }
    assert!(
        errors >= 6,
        "the truncated files at least are errors ({errors})"
    );
}

//! A dataset folder of odd audio files, written with `hound` (nothing is committed), and what
//! every analysis path must make of each: `genrescope analyze` (`tests/cli_analyze.rs`) and the
//! xtask's dataset preparation (`xtask/src/data/prepare.rs`, which includes this file).

#![allow(dead_code)] // Each test uses a different part.

use std::path::Path;

use hound::{SampleFormat, WavSpec, WavWriter};

/// What must become of a file.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Decoded (downmixed, resampled) and analysed in full: `seconds` of audio.
    Analysed { seconds: f64 },
    /// Reported by name with a reason containing this text, and skipped.
    Skipped(&'static str),
}

/// One generated file.
#[derive(Debug, Clone)]
pub struct OddFile {
    pub name: &'static str,
    pub outcome: Outcome,
}

/// Length of the good-but-odd clips in seconds: more than one model window.
const SECONDS: f64 = 4.0;

/// Length of the long file: over the 10 minutes a "long file" starts at.
pub const LONG_SECONDS: f64 = 11.0 * 60.0;

/// A tone mix at `rate` Hz in -0.5..0.5, different for every `seed` (so no two files share a
/// feature-cache entry).
fn tone(rate: u32, seconds: f64, channel: usize, seed: usize) -> impl Iterator<Item = f64> {
    let frequency = 220.0 * (1.0 + seed as f64 / 7.0) * (1.0 + channel as f64 / 3.0);
    let n = (f64::from(rate) * seconds) as usize;
    (0..n).map(move |i| {
        let t = i as f64 / f64::from(rate);
        0.35 * (std::f64::consts::TAU * frequency * t).sin()
            + 0.15 * (std::f64::consts::TAU * 3.0 * t).sin()
    })
}

/// Writes a WAV of `channels` channels of [`tone()`] (or silence) in the given sample format.
fn write_wav(
    path: &Path,
    rate: u32,
    channels: u16,
    (bits, format): (u16, SampleFormat),
    seconds: f64,
    seed: Option<usize>,
) {
    let spec = WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: format,
    };
    let mut writer = WavWriter::create(path, spec).unwrap();
    let signals: Vec<Vec<f64>> = (0..usize::from(channels))
        .map(|c| match seed {
            Some(seed) => tone(rate, seconds, c, seed).collect(),
            None => vec![0.0; (f64::from(rate) * seconds) as usize],
        })
        .collect();
    for i in 0..signals[0].len() {
        for signal in &signals {
            let x = signal[i];
            match (bits, format) {
                (32, SampleFormat::Float) => writer.write_sample(x as f32),
                (8, _) => writer.write_sample((x * 127.0) as i8),
                (16, _) => writer.write_sample((x * 32_767.0) as i16),
                (24, _) => writer.write_sample((x * 8_388_607.0) as i32),
                _ => writer.write_sample((x * 2_147_483_647.0) as i32),
            }
            .unwrap();
        }
    }
    writer.finalize().unwrap();
}

/// Writes every odd file into `dir` (which must exist) and returns what must become of each.
pub fn write_odd_files(dir: &Path) -> Vec<OddFile> {
    use SampleFormat::{Float, Int};
    let analysed = Outcome::Analysed { seconds: SECONDS };
    let wav = |name, rate, channels, format, seconds, seed| {
        write_wav(&dir.join(name), rate, channels, format, seconds, seed);
    };
    wav("pcm8-11025hz.wav", 11_025, 1, (8, Int), SECONDS, Some(1));
    wav(
        "pcm24-96khz-stereo.wav",
        96_000,
        2,
        (24, Int),
        SECONDS,
        Some(2),
    );
    wav(
        "float-44100hz-6ch.wav",
        44_100,
        6,
        (32, Float),
        SECONDS,
        Some(3),
    );
    wav("pcm32-8000hz.wav", 8_000, 1, (32, Int), SECONDS, Some(4));
    wav("pcm16-384khz.wav", 384_000, 1, (16, Int), SECONDS, Some(5));
    wav("long-11min.wav", 8_000, 1, (8, Int), LONG_SECONDS, Some(6));
    wav("pcm16-7999hz.wav", 7_999, 1, (16, Int), SECONDS, Some(7));
    wav("silent.wav", 22_050, 2, (16, Int), SECONDS, None);
    wav("short-half-second.wav", 22_050, 1, (16, Int), 0.5, Some(8));
    wav("header-only.wav", 22_050, 1, (16, Int), 0.0, Some(9));

    // A float file whose samples include NaN and infinity.
    let spec = WavSpec {
        channels: 1,
        sample_rate: 22_050,
        bits_per_sample: 32,
        sample_format: Float,
    };
    let mut writer = WavWriter::create(dir.join("float-nan.wav"), spec).unwrap();
    for (i, x) in tone(22_050, SECONDS, 0, 10).enumerate() {
        let x = match i {
            1000 => f32::NAN,
            2000 => f32::INFINITY,
            _ => x as f32,
        };
        writer.write_sample(x).unwrap();
    }
    writer.finalize().unwrap();
    // A sample rate of 0 in the header (symphonia 0.5 panics on it; see `decode::guarded`).
    wav("zero-rate.wav", 22_050, 1, (16, Int), SECONDS, Some(11));
    let mut bytes = std::fs::read(dir.join("zero-rate.wav")).unwrap();
    bytes[24..28].copy_from_slice(&0u32.to_le_bytes());
    std::fs::write(dir.join("zero-rate.wav"), bytes).unwrap();
    std::fs::write(
        dir.join("corrupt.wav"),
        b"RIFF\x10\x00\x00\x00WAVEjunk and more junk",
    )
    .unwrap();
    std::fs::write(dir.join("empty.flac"), b"").unwrap();

    vec![
        ("pcm8-11025hz.wav", analysed.clone()),
        ("pcm24-96khz-stereo.wav", analysed.clone()),
        ("float-44100hz-6ch.wav", analysed.clone()),
        ("pcm32-8000hz.wav", analysed.clone()),
        ("pcm16-384khz.wav", analysed),
        (
            "long-11min.wav",
            Outcome::Analysed {
                seconds: LONG_SECONDS,
            },
        ),
        ("pcm16-7999hz.wav", Outcome::Skipped("sample rate 7999 Hz")),
        ("silent.wav", Outcome::Skipped("silent")),
        ("short-half-second.wav", Outcome::Skipped("too short")),
        ("header-only.wav", Outcome::Skipped("no decodable audio")),
        ("float-nan.wav", Outcome::Skipped("sample 1000 is NaN")),
        ("zero-rate.wav", Outcome::Skipped("malformed file")),
        ("corrupt.wav", Outcome::Skipped("unrecognised format")),
        ("empty.flac", Outcome::Skipped("empty file")),
    ]
    .into_iter()
    .map(|(name, outcome)| OddFile { name, outcome })
    .collect()
}

//! `demo`: writes the demo clip (a synthesised drum-machine groove: ours, so it may ship with
//! the repository's licence, unlike the research corpus) and analyses it with the bundled
//! `genrescope analyze`, as a user would.

use std::f32::consts::TAU;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Sample rate of the demo clip, in Hz.
const RATE: u32 = 22_050;
const TEMPO_BPM: f32 = 120.0;
const BARS: usize = 12;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where the clip goes.
    #[arg(long, default_value = "target/demo/demo-groove.wav")]
    pub out: PathBuf,
    /// The `genrescope` binary that analyses it.
    #[arg(long, default_value = "target/bundled/genrescope")]
    pub genrescope: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    write_wav(&args.out, &groove())?;
    println!("demo clip: {}", args.out.display());
    anyhow::ensure!(
        args.genrescope.is_file(),
        "{} not found: run `cargo xtask bundle genrescope --release` first",
        args.genrescope.display()
    );
    let status = Command::new(&args.genrescope)
        .arg("analyze")
        .arg(&args.out)
        .arg("--timeline")
        .status()?;
    anyhow::ensure!(status.success(), "genrescope analyze failed: {status}");
    Ok(())
}

/// A deterministic noise source (xorshift), in -1..1.
struct Noise(u32);

impl Noise {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0 as f32 / u32::MAX as f32 * 2.0 - 1.0
    }
}

/// Kick on every beat, snare on 2 and 4, hi-hat on eighths, a bass line and minor chords.
fn groove() -> Vec<f32> {
    let beat = (60.0 / TEMPO_BPM * RATE as f32) as usize;
    let len = beat * 4 * BARS;
    let mut out = vec![0.0f32; len];
    let mut noise = Noise(0x1234_5678);
    // Root notes of the bars (Hz): A minor, F major, C major, G major.
    let roots = [55.0, 43.65, 65.41, 49.0];
    for b in 0..4 * BARS {
        let start = b * beat;
        let root = roots[(b / 4) % roots.len()];
        for i in 0..beat {
            let t = i as f32 / RATE as f32;
            let at = start + i;
            // Kick: a falling sine with a fast decay.
            let kick_freq = 50.0 + 90.0 * (-t * 30.0).exp();
            out[at] += 0.8 * (TAU * kick_freq * t).sin() * (-t * 9.0).exp();
            // Snare on beats 2 and 4: noise plus a 180 Hz body.
            if b % 2 == 1 {
                out[at] +=
                    (0.35 * noise.next() + 0.2 * (TAU * 180.0 * t).sin()) * (-t * 18.0).exp();
            }
            // Hi-hat on every eighth note: differentiated noise, very short.
            let eighth = i % (beat / 2);
            let th = eighth as f32 / RATE as f32;
            out[at] += 0.12 * (noise.next() - noise.next()) * (-th * 60.0).exp();
            // Bass: root with two harmonics, plucked on the beat.
            let bass = (TAU * root * t).sin()
                + 0.5 * (TAU * 2.0 * root * t).sin()
                + 0.25 * (TAU * 3.0 * root * t).sin();
            out[at] += 0.25 * bass * (-t * 3.0).exp();
            // Pad: the triad two octaves up, held.
            let pad_t = at as f32 / RATE as f32;
            let third = if (b / 4) % roots.len() == 0 {
                1.189
            } else {
                1.26
            };
            out[at] += 0.05
                * [1.0, third, 1.498]
                    .iter()
                    .map(|r| (TAU * 4.0 * root * r * pad_t).sin())
                    .sum::<f32>();
        }
    }
    let peak = out.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    out.iter_mut().for_each(|x| *x *= 0.9 / peak);
    out
}

fn write_wav(path: &Path, samples: &[f32]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec)?;
    for &x in samples {
        writer.write_sample((x * f32::from(i16::MAX)) as i16)?;
    }
    writer.finalize()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_groove_is_24_seconds_of_normalised_audio() {
        let clip = groove();
        assert_eq!(clip.len(), 11_025 * 4 * BARS);
        let peak = clip.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        assert!((peak - 0.9).abs() < 1e-6);
        let rms = (clip.iter().map(|x| x * x).sum::<f32>() / clip.len() as f32).sqrt();
        assert!(rms > 0.05, "{rms}");
    }
}

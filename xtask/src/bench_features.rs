//! `cargo xtask bench-features`: single-threaded log-mel and MFCC extraction of a 30-s 22.05-kHz
//! clip, timed against librosa on the same samples in the same run, with the speed ratio.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context};
use genrescope::decode::decode_mono_at;
use genrescope::features::{FeatureConfig, FeatureExtractor};
use ndarray::Array1;

const RATE: u32 = 22_050;
const SECONDS: usize = 30;
const PRESETS: [&str; 2] = ["logmel128", "mfcc13"];
const LIBROSA_TIMING: &str = include_str!("librosa_timing.py");

#[derive(clap::Args)]
pub struct Args {
    /// Clip to time on (the first 30 s are used, looped if shorter). Default: the first GTZAN
    /// clip in ../shared/music.
    #[arg(long)]
    clip: Option<PathBuf>,
    /// Python interpreter that has librosa installed.
    #[arg(long, env = "GENRESCOPE_PYTHON", default_value = "python3")]
    python: String,
    /// Timed runs per measurement; the median is reported.
    #[arg(long, default_value_t = 20)]
    runs: usize,
}

fn default_clip() -> anyhow::Result<PathBuf> {
    let gtzan = &genrescope::research::music_dir().join("gtzan/blues");
    if !gtzan.is_dir() {
        return Err(crate::data::missing(gtzan).context("no --clip given"));
    }
    let mut clips: Vec<PathBuf> = std::fs::read_dir(gtzan)
        .with_context(|| format!("no --clip given and {} is not readable", gtzan.display()))?
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "ogg"))
        .collect();
    clips.sort();
    clips
        .into_iter()
        .next()
        .context("no clip found; pass --clip")
}

fn median_ms(runs: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut times: Vec<f64> = (0..runs.max(1))
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// Runs the librosa timing script on the clip; `Err` explains why librosa could not be timed.
fn time_librosa(python: &str, clip: &Path, runs: usize) -> anyhow::Result<serde_json::Value> {
    let script = std::env::temp_dir().join("genrescope_librosa_timing.py");
    std::fs::File::create(&script)?.write_all(LIBROSA_TIMING.as_bytes())?;
    let output = Command::new(python)
        .arg(&script)
        .arg(clip)
        .arg(runs.to_string())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run {python}"))?;
    if !output.status.success() {
        bail!("{python} failed (is librosa installed? see tests/fixtures/librosa/generate.py)");
    }
    Ok(serde_json::from_slice(&output.stdout)?)
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let clip_path = match args.clip {
        Some(path) => path,
        None => default_clip()?,
    };
    let audio = decode_mono_at(&clip_path, RATE)?;
    let samples: Vec<f32> = audio
        .samples
        .iter()
        .copied()
        .cycle()
        .take(SECONDS * RATE as usize)
        .collect();
    let npy = std::env::temp_dir().join("genrescope_bench_clip.npy");
    ndarray_npy::write_npy(&npy, &Array1::from(samples.clone()))?;

    println!(
        "clip: {} (first {SECONDS} s at {RATE} Hz), median of {} runs, single thread",
        clip_path.display(),
        args.runs
    );
    let ours: Vec<f64> = PRESETS
        .iter()
        .map(|preset| {
            let extractor = FeatureExtractor::new(&FeatureConfig::preset(preset).unwrap()).unwrap();
            median_ms(args.runs, || {
                std::hint::black_box(extractor.extract(std::hint::black_box(&samples)));
            })
        })
        .collect();
    let librosa = time_librosa(&args.python, &npy, args.runs);

    println!(
        "{:<10} {:>12} {:>12} {:>8}",
        "features", "ours ms", "librosa ms", "speed-up"
    );
    for (preset, ours_ms) in PRESETS.iter().zip(&ours) {
        match librosa.as_ref().ok().and_then(|json| json[preset].as_f64()) {
            Some(librosa_ms) => println!(
                "{preset:<10} {ours_ms:>12.2} {librosa_ms:>12.2} {:>7.1}x",
                librosa_ms / ours_ms
            ),
            None => println!("{preset:<10} {ours_ms:>12.2} {:>12} {:>8}", "-", "-"),
        }
    }
    match librosa {
        Ok(json) => println!("librosa {}", json["librosa"]),
        Err(err) => println!("librosa not timed: {err:#}"),
    }
    Ok(())
}

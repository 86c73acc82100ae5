//! `cargo xtask bench-features`: single-threaded log-mel and MFCC extraction of a 30-s 22.05-kHz
//! clip, timed in the same run against librosa on the same samples and against the FFT-only
//! bound (the clip's FFTs alone), with both ratios.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context};
use genrescope::decode::decode_mono_at;
use genrescope::features::stft::frame_count;
use genrescope::features::{FeatureConfig, FeatureExtractor, Preset};
use ndarray::Array1;
use realfft::RealFftPlanner;

const RATE: u32 = 22_050;
const SECONDS: usize = 30;
const PRESETS: [Preset; 2] = [Preset::LogMel128, Preset::Mfcc13];
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
    #[arg(long, default_value_t = 50)]
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

/// Median milliseconds of `a` and of `b` over `runs` runs each, the two alternating run by run
/// (after one warm-up each) so that load on a shared machine hits both alike.
fn paired_median_ms(runs: usize, mut a: impl FnMut(), mut b: impl FnMut()) -> (f64, f64) {
    let time = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        f();
        start.elapsed().as_secs_f64() * 1000.0
    };
    time(&mut a);
    time(&mut b);
    let (mut times_a, mut times_b): (Vec<f64>, Vec<f64>) = (0..runs.max(1))
        .map(|_| (time(&mut a), time(&mut b)))
        .unzip();
    let median = |times: &mut Vec<f64>| {
        times.sort_by(f64::total_cmp);
        times[times.len() / 2]
    };
    (median(&mut times_a), median(&mut times_b))
}

/// The bound of a preset's features: the clip's FFTs alone, as many `n_fft`-point real FFTs
/// (with reused buffers) as the clip has frames, each on `n_fft` of its samples; no framing,
/// window, power, mel or logarithm. Returns the closure that computes them once.
fn fft_only<'a>(config: &FeatureConfig, samples: &'a [f32]) -> impl FnMut() + 'a {
    let fft = RealFftPlanner::<f32>::new().plan_fft_forward(config.n_fft);
    let (mut input, mut output) = (fft.make_input_vec(), fft.make_output_vec());
    let mut scratch = fft.make_scratch_vec();
    let frames = frame_count(samples.len(), config.hop_length);
    let (n_fft, hop) = (config.n_fft, config.hop_length);
    let last = samples.len() - n_fft;
    move || {
        for t in 0..frames {
            let start = (t * hop).min(last);
            input.copy_from_slice(&samples[start..start + n_fft]);
            fft.process_with_scratch(&mut input, &mut output, &mut scratch)
                .expect("buffers come from the plan itself");
            std::hint::black_box(&output);
        }
    }
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
    // (ours, FFT-only bound) per preset, timed alternately.
    let ours: Vec<(f64, f64)> = PRESETS
        .iter()
        .map(|preset| {
            let config = FeatureConfig::preset(*preset);
            let extractor = FeatureExtractor::new(&config).unwrap();
            paired_median_ms(
                args.runs,
                || {
                    std::hint::black_box(extractor.extract(std::hint::black_box(&samples)));
                },
                fft_only(&config, &samples),
            )
        })
        .collect();
    let librosa = time_librosa(&args.python, &npy, args.runs);

    println!(
        "{:<10} {:>9} {:>12} {:>11} {:>12} {:>9}",
        "features", "ours ms", "librosa ms", "speed-up", "FFT-only ms", "vs FFTs"
    );
    for (preset, (ours_ms, fft_ms)) in PRESETS.iter().zip(&ours) {
        let (librosa_ms, speed_up) = match librosa
            .as_ref()
            .ok()
            .and_then(|json| json[preset.name()].as_f64())
        {
            Some(ms) => (format!("{ms:.2}"), format!("{:.1}x", ms / ours_ms)),
            None => ("-".into(), "-".into()),
        };
        println!(
            "{preset:<10} {ours_ms:>9.2} {librosa_ms:>12} {speed_up:>11} {fft_ms:>12.2} {:>8.2}x",
            ours_ms / fft_ms
        );
    }
    match librosa {
        Ok(json) => println!("librosa {}", json["librosa"]),
        Err(err) => println!("librosa not timed: {err:#}"),
    }
    Ok(())
}

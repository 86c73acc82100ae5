//! Analysis cost with the built-in models (the genre model, Accurate and Fast, the light genre
//! model and the musicnn tagger) and the mood model, each figure a ratio against real time
//! measured in this process:
//! - the plugin's worker pipeline (48 kHz → model rate resampling, streaming features, one
//!   inference per model hop), the genre model with the mood model beside it as the plugin runs
//!   them, as a share of one core;
//! - `analyze` throughput per core (decode, features, inference of whole files) as a multiple
//!   of real time, each model alone and, as `genrescope analyze` runs by default, the genre
//!   model and the mood model together on one decode;
//! - `analyze` on 1 and 2 threads, each file prepared on a helper thread while the model runs the
//!   previous one ([`analyze_files`]), against the same threads without the helper, as real-time
//!   factors per analysis thread and for the whole machine;
//! - time from the first audio block to the first published result, with a host feeding the
//!   built plugin in real time.
//!
//! Run: `cargo bench --features test-hooks --bench analysis` (needs `cargo xtask ort`).

#[path = "../tests/harness/mod.rs"]
mod harness;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use genrescope::analysis::genre::GenreAnalyzer;
use genrescope::analysis::AnalysisStep;
use genrescope::decode::decode_mono_at;
use genrescope::inference::{
    analyze_file, analyze_files, analyze_together, FileAnalyzer, GenreModel, ModelChoice, Provider,
    Runtime, WindowCutter,
};
use genrescope::params::GenrescopeParams;
use genrescope::resample::StreamResampler;
use genrescope::stats::Stats;
use harness::{BlockRunner, PluginUnderTest};

const CLIPS: &[&str] = &[
    "gtzan/blues/blues.00000.ogg",
    "gtzan/classical/classical.00000.ogg",
    "gtzan/hiphop/hiphop.00001.ogg",
    "gtzan/reggae/reggae.00002.ogg",
];

fn clip(path: &str) -> PathBuf {
    genrescope::research::music_dir().join(path)
}

fn runtime() -> Runtime {
    genrescope::inference::runtime::for_tests()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// CPU share of the worker pipeline: the clips upsampled to 48 kHz, fed in 4096-sample reads
/// like the worker's, through a fresh analyzer per run.
fn worker_share(choice: &ModelChoice, rounds: usize) {
    let host_rate = 48_000;
    let audio: Vec<f32> = CLIPS
        .iter()
        .flat_map(|c| decode_mono_at(&clip(c), host_rate).unwrap().samples)
        .collect();
    let seconds = audio.len() as f64 / f64::from(host_rate);
    let times: Vec<f64> = (0..rounds)
        .map(|_| {
            let params = Arc::new(GenrescopeParams::default());
            params.settings.write().unwrap().model = choice.clone();
            let mut analyzer = GenreAnalyzer::new(params, Arc::new(Stats::default()));
            analyzer.poll().expect("model loads");
            // One resampler per model rate, as the worker runs them (with a mood model beside
            // the genre model, both are measured together).
            let mut resamplers: Vec<StreamResampler> = (0..analyzer.inputs())
                .map(|input| StreamResampler::new(host_rate, analyzer.sample_rate(input)).unwrap())
                .collect();
            let mut windows = 0;
            let start = Instant::now();
            for chunk in audio.chunks(4096) {
                for (input, resampler) in resamplers.iter_mut().enumerate() {
                    resampler.process(chunk, |resampled| {
                        analyzer.process(input, resampled, &mut |_| windows += 1);
                    });
                }
            }
            let elapsed = start.elapsed().as_secs_f64();
            assert!(windows > 30, "{windows} windows");
            elapsed
        })
        .collect();
    let busy = median(times);
    println!(
        "{}: worker pipeline: {:.1} ms of CPU for {seconds:.0} s of 48 kHz audio = {:.3} % of one core (goal <= 2 %)",
        choice.name(),
        busy * 1e3,
        busy / seconds * 100.0
    );
}

/// `analyze` per core: whole files, one thread, one session per model, every model on every
/// file from one decode ([`analyze_together`], as `genrescope analyze` runs the genre and the
/// mood model); returns the multiple of real time.
fn analyze_speed(choices: &[&ModelChoice], rounds: usize) -> f64 {
    let runtime = runtime();
    let mut analyzers: Vec<FileAnalyzer> = choices
        .iter()
        .map(|choice| FileAnalyzer::new(choice.load(&runtime, Provider::Cpu).unwrap()).unwrap())
        .collect();
    let paths: Vec<PathBuf> = CLIPS.iter().map(|c| clip(c)).collect();
    let mut seconds = 0.0;
    let times: Vec<f64> = (0..rounds)
        .map(|_| {
            seconds = 0.0;
            let start = Instant::now();
            for path in &paths {
                let mut models: Vec<&mut FileAnalyzer> = analyzers.iter_mut().collect();
                let outcomes = analyze_together(&mut models, path).unwrap();
                seconds += outcomes[0].as_ref().unwrap().seconds;
            }
            start.elapsed().as_secs_f64()
        })
        .collect();
    let time = median(times);
    println!(
        "{}: analyze, one core: {:.1} ms for {seconds:.0} s of audio = {:.0}x real time",
        names(choices),
        time * 1e3,
        seconds / time
    );
    seconds / time
}

/// `Fast (genre-v2-fast) + mood (built-in)`.
fn names(choices: &[&ModelChoice]) -> String {
    let names: Vec<String> = choices.iter().map(|c| c.name()).collect();
    names.join(" + ")
}

/// `analyze` of [`CLIPS`] on `threads` threads (each with its own session, files dealt round
/// robin as `analyze` does), with or without the preparing helper threads; returns the median
/// wall time of `rounds` runs and the seconds of audio.
fn analyze_threads(
    models: &mut [(GenreModel, WindowCutter)],
    pipelined: bool,
    rounds: usize,
) -> (f64, f64) {
    let threads = models.len();
    let paths: Vec<PathBuf> = CLIPS.iter().map(|c| clip(c)).collect();
    let mut seconds = 0.0;
    let times: Vec<f64> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            seconds = std::thread::scope(|scope| {
                let handles: Vec<_> = models
                    .iter_mut()
                    .enumerate()
                    .map(|(worker, (model, cutter))| {
                        let paths = &paths;
                        scope.spawn(move || {
                            let mine = (worker..paths.len()).step_by(threads);
                            let mut seconds = 0.0;
                            if pipelined {
                                let files = mine.map(|i| (i, paths[i].as_path()));
                                analyze_files(model, cutter, files, |_, outcome| {
                                    seconds += outcome.unwrap().seconds;
                                });
                            } else {
                                for i in mine {
                                    seconds +=
                                        analyze_file(model, cutter, &paths[i]).unwrap().seconds;
                                }
                            }
                            seconds
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).sum()
            });
            start.elapsed().as_secs_f64()
        })
        .collect();
    (median(times), seconds)
}

/// Real-time factors of `analyze` on 1 and 2 threads, pipelined and not, in the same run.
fn thread_scaling(choice: &ModelChoice, rounds: usize) {
    let runtime = runtime();
    for threads in [1, 2] {
        let mut models: Vec<(GenreModel, WindowCutter)> = (0..threads)
            .map(|_| {
                let model = choice.load(&runtime, Provider::Cpu).unwrap();
                let cutter = WindowCutter::new(&model.metadata.input).unwrap();
                (model, cutter)
            })
            .collect();
        let (plain, seconds) = analyze_threads(&mut models, false, rounds);
        let (piped, _) = analyze_threads(&mut models, true, rounds);
        let machine = |time: f64| seconds / time;
        println!(
            "{}: analyze, {threads} thread(s): {:.0}x real time for the machine, {:.0}x per thread \
             pipelined; {:.0}x, {:.0}x without the helper; pipelined {:.2}x as fast (same run)",
            choice.name(),
            machine(piped),
            machine(piped) / threads as f64,
            machine(plain),
            machine(plain) / threads as f64,
            plain / piped
        );
    }
}

/// A host feeding the built plugin at real-time pace: time from the first block to the first
/// classified window.
fn first_result() {
    let rate = 48_000.0;
    let block = 512;
    let audio = decode_mono_at(&clip(CLIPS[0]), rate as u32)
        .unwrap()
        .samples;
    let mut plugin = PluginUnderTest::load();
    let processor = plugin.activate(rate, block as u32);
    // The model loads on activation; a user presses play after that.
    plugin.wait_for(Duration::from_secs(30), |r| r.model_state == 1);
    let mut runner = BlockRunner::start(processor, 2);
    let mut input = vec![vec![0.0f32; block]; 2];
    let mut output = vec![vec![0.0f32; block]; 2];
    let block_time = Duration::from_secs_f64(block as f64 / rate);
    let start = Instant::now();
    let mut first = None;
    for (i, chunk) in audio.chunks(block).enumerate() {
        // Real-time pacing: block i is due at i × block duration.
        let due = block_time * i as u32;
        if let Some(wait) = due.checked_sub(start.elapsed()) {
            std::thread::sleep(wait);
        }
        for channel in &mut input {
            channel[..chunk.len()].copy_from_slice(chunk);
        }
        runner.run(
            input.iter_mut().map(|b| &mut b[..chunk.len()]),
            output.iter_mut().map(|b| &mut b[..chunk.len()]),
        );
        if plugin.report().windows > 0 {
            first = Some(start.elapsed());
            break;
        }
    }
    let processor = runner.stop();
    plugin.deactivate(processor);
    let first = first.expect("a result within the clip");
    println!(
        "first result: {:.2} s after the first block (the built-in model's window: {:.2} s of audio)",
        first.as_secs_f64(),
        ModelChoice::Builtin.metadata().unwrap().input.window_seconds()
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing and stays quick.
    let full = std::env::args().any(|a| a == "--bench");
    let rounds = if full { 7 } else { 1 };
    runtime();
    // Today's default before the pooled genre model, the reference of the ratios below.
    let previous = ModelChoice::File(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("models/musicnn-transfer.onnx"),
    );
    // The mood model, which runs beside the genre model: live, the two shares add up;
    // `analyze` runs both on every file, and where both read the same network (Fast and the mood
    // model read mn04's) one run of it serves both.
    let mood = ModelChoice::Mood;
    let mut speeds = Vec::new();
    for choice in [
        &previous,
        &ModelChoice::Builtin,
        &ModelChoice::Fast,
        &ModelChoice::MfccCnn,
        &ModelChoice::MsdMusicnn,
        &mood,
    ] {
        worker_share(choice, rounds);
        speeds.push((choice.name(), analyze_speed(&[choice], rounds)));
    }
    // What `genrescope analyze` runs by default (Fast and the mood model), and with Accurate.
    for genre in [&ModelChoice::Fast, &ModelChoice::Builtin] {
        speeds.push((
            names(&[genre, &mood]),
            analyze_speed(&[genre, &mood], rounds),
        ));
    }
    // The helper thread prepares one window graph's windows: models that read one network.
    for choice in [ModelChoice::Fast, ModelChoice::MfccCnn] {
        thread_scaling(&choice, rounds);
    }
    let accurate = &speeds[1];
    for (name, speed) in &speeds[1..] {
        println!(
            "{name}: analyze speed {:.2}x that of {}, {:.2}x that of {} (same run)",
            speed / speeds[0].1,
            speeds[0].0,
            speed / accurate.1,
            accurate.0
        );
    }
    if full {
        first_result();
    }
}

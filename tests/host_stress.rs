//! 64 plugin instances in one process, each fed 10 simulated minutes of 48 kHz stereo audio in
//! random block sizes (1–16384 frames), through a real CLAP host: no sample lost while the host
//! stays within the documented ring capacity (10 s of audio, README "Architecture"), bounded
//! memory, and every worker thread joined at the end.
//!
//! The host is a DAW engine with [`HOST_THREADS`] audio threads sharing the instances. It runs
//! faster than real time, one [`SLICE_S`] slice of simulated time at a time, and before each
//! slice waits while any of its instances has more than [`MAX_BACKLOG_S`] of audio waiting in
//! its ring: a host that outruns real time, but never by more than the ring holds. Drops are
//! counted by the audio thread itself (`Stats::dropped`), so zero drops is a measurement.
//!
//! Cost: CI runs the test build (unoptimised) on 2 cores, and 64 × 10 minutes is 10.7 hours of
//! audio. Unoptimised, one worker needs ~5 % of a core for the light `mfcc-cnn` model (0.05 %
//! optimised), half of it in the resampler alone, so 64 analysing workers would need ~30 minutes
//! of CI time. Every instance therefore runs all 10 minutes through `process()` with its worker
//! started and its model loaded, but only one in [`ANALYSING_EVERY`] has *Analyze* on (chosen
//! through the plugin state, with `mfcc-cnn`: 3-s windows every 1.5 s) and fills and drains its
//! ring; the others pass audio through with the ring push switched off, as the parameter
//! promises. Its own test binary (its own process), so thread counts and memory are its alone.

mod harness;

use std::path::Path;
use std::time::{Duration, Instant};

use genrescope::inference::ModelMetadata;
use harness::{
    random_block_sizes, rss_bytes, thread_names, BlockRunner, PluginUnderTest, Processor, Reporter,
    MAX_BLOCK,
};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

const INSTANCES: usize = 64;
const RATE: f64 = 48_000.0;
const SIMULATED_S: f64 = 600.0;
const HOST_THREADS: usize = 2;
/// One instance in this many analyses its audio (see the module comment); the others pass it
/// through only.
const ANALYSING_EVERY: usize = 16;
/// Simulated seconds each host thread processes between two backlog checks.
const SLICE_S: f64 = 1.0;
/// The host waits while an instance's ring holds more than this many seconds of audio. With a
/// slice and a maximum-sized block on top it stays below the 10-s ring.
const MAX_BACKLOG_S: f64 = 5.0;
/// Length of the looped test signal, in frames (every block is a slice of it).
const SOURCE_FRAMES: usize = 48_000 * 3;
/// Simulated time after which memory is taken as warmed up: every model is loaded and the
/// analysing instances' rings have wrapped around (their pages are all touched).
const WARM_UP_S: f64 = 60.0;
/// Memory the 64 instances may add from [`WARM_UP_S`] to the end of the run: the histories and
/// summaries grow by a few hundred windows, everything else is preallocated or reused. (Measured:
/// about 1 MiB; a leak of one window's features per window would be tens of MiB.)
const MAX_GROWTH_BYTES: u64 = 16 << 20;
/// Memory the 64 running instances may use in all: rings (1.9 MB each at 48 kHz), the genre
/// and mood models (each instance holds its own sessions: the mood model's weights are 4.2 MB),
/// feature buffers, ONNX Runtime and the editor-less plugin state. 16 MiB an instance, half the
/// product's budget of 32 MB per further instance (measured: 12.4 MiB with both models).
const MAX_TOTAL_BYTES: u64 = 1 << 30;

/// One instance as a host thread drives it.
struct Track {
    runner: BlockRunner,
    reporter: Reporter,
    blocks: Vec<usize>,
    next_block: usize,
    /// Frames processed so far.
    position: usize,
}

/// A looped stereo signal: a 440 Hz tone and noise at -12 dBFS, left and right different.
fn source(rng: &mut SmallRng) -> Vec<Vec<f32>> {
    (0..2)
        .map(|channel| {
            (0..SOURCE_FRAMES + MAX_BLOCK)
                .map(|i| {
                    let t = (i % SOURCE_FRAMES) as f64 / RATE;
                    let tone = 0.2 * (std::f64::consts::TAU * (440.0 + channel as f64) * t).sin();
                    tone as f32 + rng.random_range(-0.05..0.05)
                })
                .collect()
        })
        .collect()
}

/// Host-side block buffers: the input copy the plugin sees, and its output.
struct Scratch {
    input: [Vec<f32>; 2],
    output: [Vec<f32>; 2],
}

/// Processes every track up to `end` frames, checking each block bit for bit.
fn process_slice(tracks: &mut [Track], source: &[Vec<f32>], end: usize, scratch: &mut Scratch) {
    for track in tracks {
        while track.position < end {
            let n = track.blocks[track.next_block % track.blocks.len()].min(end - track.position);
            track.next_block += 1;
            let offset = track.position % SOURCE_FRAMES;
            let frames = offset..offset + n;
            for (input, channel) in scratch.input.iter_mut().zip(source) {
                input[..n].copy_from_slice(&channel[frames.clone()]);
            }
            track.runner.run(
                scratch.input.iter_mut().map(|c| &mut c[..n]),
                scratch.output.iter_mut().map(|c| &mut c[..n]),
            );
            for (channel, (output, expected)) in scratch.output.iter().zip(source).enumerate() {
                assert!(
                    bits(&output[..n]) == bits(&expected[frames.clone()]),
                    "channel {channel} at frame {} is not bit-exact",
                    track.position
                );
            }
            track.position += n;
        }
    }
}

/// The bit patterns of `samples`, compared with `memcmp` even in unoptimised builds.
fn bits(samples: &[f32]) -> &[u32] {
    // SAFETY: f32 and u32 have the same size and alignment, and every bit pattern is a u32.
    let (head, bits, tail) = unsafe { samples.align_to::<u32>() };
    assert!(head.is_empty() && tail.is_empty());
    bits
}

/// Waits while any track's ring holds more than [`MAX_BACKLOG_S`].
fn wait_for_workers(tracks: &[Track]) {
    let max_backlog = (MAX_BACKLOG_S * RATE) as u64;
    for track in tracks {
        while {
            let stats = track.reporter.report().stats;
            stats.pushed - stats.received > max_backlog && !stats.worker_failed
        } {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

#[test]
fn sixty_four_instances_run_ten_minutes_without_loss_or_leak() {
    let started = Instant::now();
    let threads_before = thread_names();
    let rss_before = rss_bytes();
    let mut rng = SmallRng::seed_from_u64(64);
    let source = source(&mut rng);

    let analysing = |instance: usize| instance.is_multiple_of(ANALYSING_EVERY);
    let mut plugins: Vec<PluginUnderTest> = (0..INSTANCES)
        .map(|instance| {
            let mut plugin = PluginUnderTest::load();
            let settings = r#"{"model":{"kind":"mfcc_cnn"},"provider":"cpu"}"#;
            plugin
                .edit_state(|state| {
                    state["fields"]["analysis-settings"] = settings.into();
                    state["params"]["analyze"] = serde_json::json!({ "bool": analysing(instance) });
                })
                .unwrap();
            plugin
        })
        .collect();
    let processors: Vec<Processor> = plugins
        .iter_mut()
        .map(|plugin| plugin.activate(RATE, MAX_BLOCK as u32))
        .collect();
    let reporters: Vec<Reporter> = plugins.iter().map(PluginUnderTest::reporter).collect();
    harness::assert_worker_threads(INSTANCES, "all instances active");

    let total = (SIMULATED_S * RATE) as usize;
    let slice = (SLICE_S * RATE) as usize;
    let rss_warm = std::sync::Mutex::new(None);
    let mut processors = processors.into_iter();
    let processors: Vec<Processor> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..HOST_THREADS)
            .map(|host| {
                let mut tracks: Vec<Track> = processors
                    .by_ref()
                    .take(INSTANCES / HOST_THREADS)
                    .zip(reporters.iter().skip(host * INSTANCES / HOST_THREADS))
                    .map(|(processor, &reporter)| Track {
                        runner: BlockRunner::start(processor, 2),
                        reporter,
                        blocks: random_block_sizes(&mut rng, 1024, MAX_BLOCK),
                        next_block: 0,
                        position: 0,
                    })
                    .collect();
                let (source, rss_warm) = (&source, &rss_warm);
                scope.spawn(move || {
                    let mut scratch = Scratch {
                        input: [vec![0.0; MAX_BLOCK], vec![0.0; MAX_BLOCK]],
                        output: [vec![0.0; MAX_BLOCK], vec![0.0; MAX_BLOCK]],
                    };
                    let mut end = 0;
                    while end < total {
                        wait_for_workers(&tracks);
                        end = (end + slice).min(total);
                        process_slice(&mut tracks, source, end, &mut scratch);
                        if end == (WARM_UP_S * RATE) as usize {
                            rss_warm.lock().unwrap().get_or_insert_with(rss_bytes);
                        }
                    }
                    tracks
                        .into_iter()
                        .map(|t| t.runner.stop())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("host thread panicked"))
            .collect()
    });
    let processed_s = started.elapsed().as_secs_f64();

    // Every sample reached its worker or was counted; the workers analysed all of it.
    let frames = total as u64;
    let mut windows = Vec::new();
    for (instance, reporter) in reporters.iter().enumerate() {
        let deadline = Instant::now() + Duration::from_secs(120);
        let report = loop {
            let report = reporter.report();
            if report.stats.received == report.stats.pushed || Instant::now() > deadline {
                break report;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        assert!(
            !report.stats.worker_failed && report.model_state == 1,
            "{report:?}"
        );
        assert_eq!(report.stats.dropped, 0, "{report:?}");
        if analysing(instance) {
            assert_eq!(report.stats.pushed, frames, "{report:?}");
            assert_eq!(report.stats.received, frames, "{report:?}");
            windows.push(report.windows);
        } else {
            assert_eq!(report.stats.pushed, 0, "{report:?}");
        }
    }
    // The model's windows (3.02 s every 1.51 s), less the one the resampler may hold back.
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/mfcc-cnn.json");
    let input = ModelMetadata::load(&model).unwrap().input;
    let (window_s, hop_s) = (input.window_seconds(), input.hop_seconds());
    let expected = ((SIMULATED_S - f64::from(window_s)) / f64::from(hop_s)).floor() as u64 + 1;
    assert!(
        windows
            .iter()
            .all(|w| (expected - 1..=expected).contains(w)),
        "{windows:?}, expected {expected}"
    );
    let rss_end = rss_bytes();

    for (plugin, processor) in plugins.iter_mut().zip(processors) {
        plugin.deactivate(processor);
    }
    harness::assert_worker_threads(0, "all instances deactivated");
    drop(plugins);
    let rss_dropped = rss_bytes();
    let threads_after = thread_names();
    // ONNX Runtime's process-wide threads start with the first model and stay.
    let runtime_threads = threads_after
        .iter()
        .filter(|t| *t == "genrescope-ort")
        .count();

    let rss_warm = rss_warm
        .into_inner()
        .unwrap()
        .expect("measured after the warm-up");
    let mib = |bytes: u64| bytes as f64 / (1 << 20) as f64;
    println!(
        "{INSTANCES} instances × {SIMULATED_S} s at {RATE} Hz: processed in {processed_s:.1} s, \
         {:.1} s in all; RSS {:.1} MiB before, {:.1} MiB after {WARM_UP_S} s, {:.1} MiB at the \
         end, {:.1} MiB after dropping every instance; threads {} before, {} after ({} of them \
         ONNX Runtime's); drops 0; {} analysing instances, windows per instance {}..={}",
        started.elapsed().as_secs_f64(),
        mib(rss_before),
        mib(rss_warm),
        mib(rss_end),
        mib(rss_dropped),
        threads_before.len(),
        threads_after.len(),
        runtime_threads,
        windows.len(),
        windows.iter().min().unwrap(),
        windows.iter().max().unwrap(),
    );
    assert!(
        rss_end.saturating_sub(rss_warm) < MAX_GROWTH_BYTES,
        "memory grew by {:.1} MiB over the run",
        mib(rss_end - rss_warm)
    );
    assert!(
        rss_end.saturating_sub(rss_before) < MAX_TOTAL_BYTES,
        "{:.1} MiB for {INSTANCES} instances",
        mib(rss_end - rss_before)
    );
    assert_eq!(
        threads_after.len() - runtime_threads,
        threads_before.len(),
        "threads before: {threads_before:?}, after: {threads_after:?}"
    );
}

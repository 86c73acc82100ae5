//! The analysis worker thread: drains the audio ring, resamples, windows and runs the step.

use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::{AnalysisStep, Snapshot};
use crate::features::limit::clip;
use crate::resample::StreamResampler;
use crate::stats::Stats;

/// Name of every worker thread, as shown by debuggers and `/proc/<pid>/task/*/comm`.
pub const THREAD_NAME: &str = "genrescope-ana";

/// How long the worker sleeps when the ring is empty. The audio thread never wakes it (that
/// would be a syscall), so this bounds the extra latency between audio and analysis.
const IDLE_POLL: Duration = Duration::from_millis(5);

/// Samples taken out of the ring per iteration.
const READ_CHUNK: usize = 4096;

/// Write side of the published analysis results; moved into each worker and handed back when
/// it stops.
pub type Publisher<T> = triple_buffer::Input<Snapshot<T>>;
/// Read side of the published analysis results, shared by the editor and diagnostics. Only
/// readers take this lock: the worker writes through its lock-free [`Publisher`].
pub type Published<T> = Arc<Mutex<triple_buffer::Output<Snapshot<T>>>>;

/// Creates a connected publisher and reader, with a default snapshot (hop 0) visible.
pub fn published<T: Clone + Default + Send>() -> (Publisher<T>, Published<T>) {
    let (input, output) = triple_buffer::triple_buffer(&Snapshot::default());
    (input, Arc::new(Mutex::new(output)))
}

/// Replaces the reader's buffer with a fresh one and returns its new publisher; used when the
/// old publisher was lost with a panicked worker.
pub fn republish<T: Clone + Default + Send>(published: &Published<T>) -> Publisher<T> {
    let (input, output) = triple_buffer::triple_buffer(&Snapshot::default());
    match published.lock() {
        Ok(mut reader) => *reader = output,
        Err(poisoned) => *poisoned.into_inner() = output,
    }
    input
}

/// Everything one worker run needs.
pub struct WorkerInputs<S: AnalysisStep> {
    pub consumer: rtrb::Consumer<f32>,
    /// Host sample rate in Hz; must lie within the resampler's supported range.
    pub host_rate_hz: u32,
    pub step: S,
    pub publisher: Publisher<S::Output>,
    pub stats: Arc<Stats>,
    /// Called after every publication (e.g. to request an editor repaint). Must be cheap.
    pub notify: Box<dyn Fn() + Send>,
}

/// What a stopped worker hands back for the next run.
pub struct Stopped<S: AnalysisStep> {
    pub publisher: Publisher<S::Output>,
    /// The step, unless it panicked (then its state cannot be trusted).
    pub step: Option<S>,
}

/// A running analysis thread. Stopping (or dropping) it joins the thread.
pub struct Worker<S: AnalysisStep> {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Stopped<S>>>,
}

impl<S: AnalysisStep> Worker<S> {
    pub fn spawn(inputs: WorkerInputs<S>) -> io::Result<Self> {
        // Checked here so that an unsupported rate is an error for the caller, not the thread.
        for input in 0..inputs.step.inputs() {
            StreamResampler::new(inputs.host_rate_hz, inputs.step.sample_rate(input))
                .map_err(|err| io::Error::new(io::ErrorKind::InvalidInput, err))?;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let thread = thread::Builder::new().name(THREAD_NAME.into()).spawn({
            let stop = stop.clone();
            move || {
                let mut inputs = inputs;
                let mut published = 0;
                // A panicking step ends the analysis, never the host: the panic is logged by
                // the framework's hook, flagged and published for the editor, and the publisher
                // survives.
                let run =
                    catch_unwind(AssertUnwindSafe(|| run(&mut inputs, &stop, &mut published)));
                if let Err(panic) = &run {
                    inputs.stats.worker_failed.store(true, Ordering::Release);
                    let message = format!(
                        "the analysis stopped after an internal error ({}); audio is \
                         unaffected. Re-activate the plugin to restart it",
                        panic_message(panic.as_ref())
                    );
                    inputs.publisher.write(Snapshot {
                        number: published + 1,
                        output: S::failed(message),
                    });
                    (inputs.notify)();
                }
                Stopped {
                    publisher: inputs.publisher,
                    step: run.is_ok().then_some(inputs.step),
                }
            }
        })?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops and joins the thread. Returns the publisher and step for reuse, or `None` if the
    /// thread died outside the step's panic guard.
    pub fn stop(mut self) -> Option<Stopped<S>> {
        self.join()
    }

    fn join(&mut self) -> Option<Stopped<S>> {
        let thread = self.thread.take()?;
        self.stop.store(true, Ordering::Release);
        thread.thread().unpark();
        match thread.join() {
            Ok(stopped) => Some(stopped),
            Err(_) => {
                nice_plug::nice_error!("the analysis worker died; analysis stopped");
                None
            }
        }
    }
}

impl<S: AnalysisStep> Drop for Worker<S> {
    fn drop(&mut self) {
        self.join();
    }
}

/// Busy and total time of the worker over the current measuring period.
struct LoadMeter {
    period_start: Instant,
    busy: Duration,
}

impl LoadMeter {
    const PERIOD: Duration = Duration::from_secs(1);

    fn add(&mut self, busy: Duration, stats: &Stats) {
        self.busy += busy;
        let elapsed = self.period_start.elapsed();
        if elapsed >= Self::PERIOD {
            let ppm = self.busy.as_secs_f64() / elapsed.as_secs_f64() * 1e6;
            stats
                .worker_load_ppm
                .store(ppm.min(1e6) as u32, Ordering::Relaxed);
            self.period_start = Instant::now();
            self.busy = Duration::ZERO;
        }
    }
}

/// One streaming resampler per step input, from the host rate to the input's rate (`None`
/// where the resampler refuses the pair), with the rate it was made for.
#[derive(Default)]
struct Resamplers(Vec<(u32, Option<StreamResampler>)>);

impl Resamplers {
    /// Rebuilds the resamplers of inputs whose rate changed (a model loaded) and follows the
    /// number of inputs, leaving the others' streams as they are; returns whether anything
    /// changed. Allocates only then, on the worker.
    fn follow<S: AnalysisStep>(&mut self, step: &S, host_rate_hz: u32) -> bool {
        let inputs = step.inputs();
        let mut changed = self.0.len() != inputs;
        self.0.truncate(inputs);
        for input in 0..inputs {
            let rate = step.sample_rate(input);
            if self
                .0
                .get(input)
                .is_none_or(|(made_for, _)| *made_for != rate)
            {
                let resampler = (rate, StreamResampler::new(host_rate_hz, rate).ok());
                match self.0.get_mut(input) {
                    Some(slot) => *slot = resampler,
                    None => self.0.push(resampler),
                }
                changed = true;
            }
        }
        changed
    }
}

/// The text of a panic payload (`panic!` with a literal or a formatted message).
fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("unknown panic")
}

/// The worker loop; `published` counts the snapshots published so far.
fn run<S: AnalysisStep>(inputs: &mut WorkerInputs<S>, stop: &AtomicBool, published: &mut u64) {
    let WorkerInputs {
        consumer,
        host_rate_hz,
        step,
        publisher,
        stats,
        notify,
    } = inputs;

    let mut publish = |output: S::Output| {
        *published += 1;
        let number = *published;
        publisher.write(Snapshot { number, output });
        notify();
    };
    let mut resamplers = Resamplers::default();
    let mut scratch = vec![0.0f32; READ_CHUNK];
    let mut load = LoadMeter {
        period_start: Instant::now(),
        busy: Duration::ZERO,
    };

    while !stop.load(Ordering::Acquire) {
        let started = Instant::now();
        if let Some(output) = step.poll() {
            publish(output);
        }
        if resamplers.follow(step, *host_rate_hz) {
            stats
                .analysis_rate_hz
                .store(step.sample_rate(0), Ordering::Relaxed);
        }

        let available = consumer.slots().min(READ_CHUNK);
        if available == 0 {
            load.add(started.elapsed(), stats);
            thread::park_timeout(IDLE_POLL);
            continue;
        }
        let chunk = consumer
            .read_chunk(available)
            .expect("never more than slots()");
        let (head, tail) = chunk.as_slices();
        let mut nonfinite = 0u64;
        for (dst, &src) in scratch.iter_mut().zip(head.iter().chain(tail)) {
            *dst = sanitize(src);
            nonfinite += u64::from(!src.is_finite());
        }
        chunk.commit_all();

        #[cfg(feature = "test-hooks")]
        stats.panic_if_armed();
        // A rate the resampler refuses (a model at an odd rate) analyses nothing on that input
        // but still drains the ring.
        for (input, (_, resampler)) in resamplers.0.iter_mut().enumerate() {
            if let Some(resampler) = resampler {
                resampler.process(&scratch[..available], |resampled| {
                    step.process(input, resampled, &mut publish);
                });
            }
        }

        // Counted after the analysis so that `received` never runs ahead of what was analysed.
        stats.nonfinite.fetch_add(nonfinite, Ordering::Relaxed);
        stats
            .received
            .fetch_add(available as u64, Ordering::Release);
        load.add(started.elapsed(), stats);
    }
}

/// Makes one input sample safe for analysis: NaN and infinities become silence, subnormals
/// become zero (they carry nothing audible and are slow in arithmetic), and magnitudes are
/// clipped to [`SAMPLE_LIMIT`](crate::features::limit::SAMPLE_LIMIT).
fn sanitize(sample: f32) -> f32 {
    if !sample.is_finite() || sample.is_subnormal() {
        0.0
    } else {
        clip(sample)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::levels::{to_dbfs, Levels};
    use crate::analysis::window::RollingWindow;
    use crate::features::limit::SAMPLE_LIMIT;
    use crate::tap;
    use std::sync::atomic::AtomicU32;

    fn wait_until(mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !done() {
            assert!(Instant::now() < deadline, "timed out");
            thread::sleep(Duration::from_millis(2));
        }
    }

    /// RMS and peak of windows of `len` samples every `hop`, at a rate that tests can change
    /// while the worker runs.
    struct LevelStep {
        rate: Arc<AtomicU32>,
        window: RollingWindow,
    }

    impl AnalysisStep for LevelStep {
        type Output = Levels;

        fn sample_rate(&self, _input: usize) -> u32 {
            self.rate.load(Ordering::Relaxed)
        }

        fn poll(&mut self) -> Option<Levels> {
            None
        }

        fn failed(_message: String) -> Levels {
            Levels::default()
        }

        fn process(&mut self, _input: usize, samples: &[f32], publish: &mut dyn FnMut(Levels)) {
            self.window.push(samples, |_, window| {
                let sum_sq: f64 = window.iter().map(|&x| f64::from(x * x)).sum();
                let peak = window.iter().fold(0.0f32, |m, x| m.max(x.abs()));
                publish(Levels {
                    rms_dbfs: to_dbfs((sum_sq / window.len() as f64).sqrt() as f32),
                    peak_dbfs: to_dbfs(peak),
                });
            });
        }
    }

    fn start(
        host_rate_hz: u32,
        step_rate: Arc<AtomicU32>,
        len: usize,
        hop: usize,
    ) -> (
        Worker<LevelStep>,
        tap::AudioTap,
        Published<Levels>,
        Arc<Stats>,
    ) {
        let stats = Arc::new(Stats::default());
        let (audio_tap, consumer) = tap::ring(host_rate_hz as f32, 512, stats.clone());
        let (publisher, published) = published();
        let worker = Worker::spawn(WorkerInputs {
            consumer,
            host_rate_hz,
            step: LevelStep {
                rate: step_rate,
                window: RollingWindow::new(len, hop),
            },
            publisher,
            stats: stats.clone(),
            notify: Box::new(|| {}),
        })
        .unwrap();
        (worker, audio_tap, published, stats)
    }

    #[test]
    fn sanitize_keeps_audio_and_neutralises_garbage() {
        for x in [0.0, -0.0, 0.5, -1.0, f32::MIN_POSITIVE, 999.0] {
            assert_eq!(sanitize(x).to_bits(), x.to_bits());
        }
        assert_eq!(sanitize(f32::NAN), 0.0);
        assert_eq!(sanitize(f32::NEG_INFINITY), 0.0);
        assert_eq!(sanitize(1e-40), 0.0);
        assert_eq!(sanitize(f32::MAX), SAMPLE_LIMIT);
        assert_eq!(sanitize(-3e38), -SAMPLE_LIMIT);
    }

    #[test]
    fn resamples_a_half_scale_sine_from_48_khz() {
        let rate = Arc::new(AtomicU32::new(22_050));
        let (worker, mut audio_tap, published, stats) = start(48_000, rate, 11_025, 5_512);
        let sine: Vec<f32> = (0..48_000 * 2)
            .map(|i| 0.5 * (std::f32::consts::TAU * 1000.0 * i as f32 / 48_000.0).sin())
            .collect();
        for block in sine.chunks(480) {
            audio_tap.push(&[block, block]);
        }
        wait_until(|| stats.received.load(Ordering::Acquire) == sine.len() as u64);

        let snapshot = published.lock().unwrap().read().clone();
        // 2 s minus the resampler's in-flight samples: windows end at 0.5, 0.75, ... 1.75 s.
        assert!(snapshot.number >= 6, "{snapshot:?}");
        assert!(
            (snapshot.output.rms_dbfs - -9.031).abs() < 0.05,
            "{snapshot:?}"
        );
        assert!(
            (snapshot.output.peak_dbfs - -6.021).abs() < 0.05,
            "{snapshot:?}"
        );
        assert_eq!(stats.analysis_rate_hz.load(Ordering::Relaxed), 22_050);
        assert!(worker.stop().is_some());
    }

    #[test]
    fn non_finite_input_is_counted_and_never_analysed() {
        let rate = Arc::new(AtomicU32::new(22_050));
        let (worker, mut audio_tap, published, stats) = start(22_050, rate, 2_205, 1_102);
        let block = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 1e-40, 0.25];
        for _ in 0..2_000 {
            audio_tap.push(&[&block[..]]);
        }
        wait_until(|| stats.received.load(Ordering::Acquire) == 10_000);

        assert_eq!(stats.nonfinite.load(Ordering::Relaxed), 6_000);
        let snapshot = published.lock().unwrap().read().clone();
        assert!(snapshot.number > 0);
        // Only the 0.25 samples remain: one in five, so RMS = 0.25 / sqrt(5).
        let expected_rms = 20.0 * (0.25f32 / 5f32.sqrt()).log10();
        assert!(
            (snapshot.output.rms_dbfs - expected_rms).abs() < 1e-3,
            "{snapshot:?}"
        );
        drop(worker);
    }

    /// Counts the samples each of two inputs receives (at 16 and 32 kHz).
    #[derive(Default)]
    struct TwoRates {
        samples: [u64; 2],
    }

    impl AnalysisStep for TwoRates {
        type Output = [u64; 2];

        fn inputs(&self) -> usize {
            2
        }

        fn sample_rate(&self, input: usize) -> u32 {
            [16_000, 32_000][input]
        }

        fn poll(&mut self) -> Option<[u64; 2]> {
            None
        }

        fn failed(_message: String) -> [u64; 2] {
            [0; 2]
        }

        fn process(&mut self, input: usize, samples: &[f32], publish: &mut dyn FnMut([u64; 2])) {
            self.samples[input] += samples.len() as u64;
            publish(self.samples);
        }
    }

    #[test]
    fn every_input_gets_the_audio_at_its_own_rate() {
        let stats = Arc::new(Stats::default());
        let (mut audio_tap, consumer) = tap::ring(48_000.0, 512, stats.clone());
        let (publisher, published) = published();
        let worker = Worker::spawn(WorkerInputs {
            consumer,
            host_rate_hz: 48_000,
            step: TwoRates::default(),
            publisher,
            stats: stats.clone(),
            notify: Box::new(|| {}),
        })
        .unwrap();
        for block in vec![0.1f32; 48_000 * 2].chunks(480) {
            audio_tap.push(&[block]);
        }
        wait_until(|| stats.received.load(Ordering::Acquire) == 96_000);
        let [at_16, at_32] = published.lock().unwrap().read().output;
        // 2 s at each rate, less what each resampler still holds (well under 0.1 s).
        assert!((30_400..=32_000).contains(&at_16), "{at_16}");
        assert!((60_800..=64_000).contains(&at_32), "{at_32}");
        assert_eq!(stats.analysis_rate_hz.load(Ordering::Relaxed), 16_000);
        drop(worker);
    }

    #[test]
    fn follows_a_change_of_the_step_rate() {
        let rate = Arc::new(AtomicU32::new(22_050));
        let (worker, mut audio_tap, published, stats) = start(22_050, rate.clone(), 1_600, 1_600);
        rate.store(16_000, Ordering::Relaxed);
        wait_until(|| stats.analysis_rate_hz.load(Ordering::Relaxed) == 16_000);
        // 1 s at 22.05 kHz is 16 000 samples at 16 kHz: 10 windows of 1 600 (minus what the
        // resampler still holds).
        audio_tap.push(&[&vec![0.1f32; 22_050][..]]);
        wait_until(|| stats.received.load(Ordering::Acquire) == 22_050);
        let publications = published.lock().unwrap().read().number;
        assert!((8..=10).contains(&publications), "{publications}");
        drop(worker);
    }
}

//! The genre analysis step: loads the chosen model on the worker, streams the audio through
//! the model's feature extraction, classifies every model window and keeps the rolling view.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use ndarray::{Array2, Array3, Axis};

use super::levels::{LevelMeter, Levels};
use super::rolling::{Rolling, WindowAnswer};
use super::window::RollingWindow;
use super::{AnalysisSettings, AnalysisStep, SettingsSource};
use crate::features::{FeatureExtractor, FrameStream};
use crate::inference::decision::Decision;
use crate::inference::runtime::default_dirs;
use crate::inference::{GenreModel, ModelInput, OutputKind, Provider, Runtime, WindowCutter};
use crate::stats::Stats;

/// Windows whose peak stays below this amplitude (-60 dBFS) are silence: they are not
/// classified into the smoothed view or the summary.
pub const SILENCE_PEAK: f32 = 0.001;

/// Which model runs, or why none does.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum ModelStatus {
    #[default]
    Loading,
    Ready {
        name: String,
        /// The provider in use (CPU after a fallback).
        provider: Provider,
        /// Why the requested provider is not in use, if so.
        notice: Option<String>,
        /// A distribution over genres, or independent tag probabilities.
        output: OutputKind,
        window_s: f32,
        hop_s: f32,
    },
    Failed(String),
}

/// What the editor shows, published after every model window (and on model changes).
#[derive(Debug, Clone, Default)]
pub struct GenreView {
    pub status: ModelStatus,
    /// The model's labels, in output order.
    pub labels: Arc<[String]>,
    /// The model's style and mood tags (a pooled model's tags, e.g. musicnn's `dance`,
    /// `House`, `00s`; empty for others).
    pub style_labels: Arc<[String]>,
    /// Calibrated probabilities after the latest non-silent window (empty before the first): a
    /// pooled model's answer for the context ending with it.
    pub latest: Vec<f32>,
    /// Mean tag probabilities of the same context, in `style_labels` order.
    pub styles: Vec<f32>,
    /// Mean tag probabilities of the track summary's windows.
    pub summary_styles: Vec<f32>,
    /// Windows behind `latest` (a pooled model's context grows to its length).
    pub context_windows: usize,
    /// Whether the latest window was silence.
    pub silent: bool,
    pub rolling: Rolling,
    /// Input level since the previous window.
    pub level: Levels,
    /// Windows classified since the model was loaded.
    pub windows: u64,
    /// ONNX Runtime time of the latest window, in ms.
    pub inference_ms: f32,
    /// When this view was published.
    pub published_at: Option<Instant>,
    /// Audio waiting in the ring behind the latest window when it was published, in ms.
    pub backlog_ms: f32,
}

/// The [`AnalysisStep`] the plugin runs.
pub struct GenreAnalyzer {
    settings: Arc<dyn SettingsSource>,
    stats: Arc<Stats>,
    /// The settings the current model was loaded for.
    requested: Option<AnalysisSettings>,
    loaded: Option<Loaded>,
    view: GenreView,
    /// Summary resets plus transport starts already applied.
    resets_seen: u64,
    /// Samples fed since the model was loaded, and the position just past the last sample
    /// louder than [`SILENCE_PEAK`].
    position: u64,
    last_loud: Option<u64>,
    /// Input level since the previous window.
    level: LevelMeter,
}

struct Loaded {
    model: GenreModel,
    feeder: Feeder,
    /// The live context and the track since the last reset.
    decision: Decision,
    /// Model window and hop, in samples at the model rate.
    window_len: u64,
    hop_s: f32,
}

/// Turns the sample stream into model windows (`[1, frames, width]`).
enum Feeder {
    Frames(FrameFeeder),
    /// Descriptor and hybrid models cut each window from its own samples.
    Samples {
        window: RollingWindow,
        cutter: WindowCutter,
    },
}

impl GenreAnalyzer {
    pub fn new(settings: Arc<dyn SettingsSource>, stats: Arc<Stats>) -> Self {
        Self {
            settings,
            stats,
            requested: None,
            loaded: None,
            view: GenreView::default(),
            resets_seen: 0,
            position: 0,
            last_loud: None,
            level: LevelMeter::default(),
        }
    }

    /// The analyzer for the next activation: keeps the loaded model, the smoothed
    /// distribution, the history and the track summary, and restarts the audio stream (the
    /// ring and the resampler are new, so no frame may straddle the two runs).
    pub fn resume(mut self) -> Self {
        self.resets_seen = 0; // the activation reset the counters in `Stats`
        self.level = LevelMeter::default();
        if let Some(loaded) = &mut self.loaded {
            // The audio before the pause is not the context of the audio after it.
            loaded.decision.reset_context();
            match Feeder::new(&loaded.model.metadata.input) {
                Ok(feeder) => loaded.feeder = feeder,
                Err(message) => {
                    self.view.status = ModelStatus::Failed(message);
                    self.loaded = None;
                }
            }
        }
        self
    }

    fn load(&mut self, settings: &AnalysisSettings) {
        let loaded = Runtime::find(&default_dirs())
            .map_err(|e| {
                format!(
                    "{e}. Audio passes through unchanged; restart the host after installing it."
                )
            })
            .and_then(|runtime| {
                settings
                    .model
                    .load(&runtime, settings.provider)
                    .map_err(|e| format!("model {}: {e}", settings.model.name()))
            })
            .and_then(|model| Loaded::new(model, &settings.model.name()));
        self.view = GenreView::default();
        self.position = 0;
        self.last_loud = None;
        match loaded {
            Ok((loaded, status)) => {
                self.view.labels = loaded.model.metadata.labels.clone().into();
                self.view.style_labels = loaded
                    .model
                    .metadata
                    .context
                    .as_ref()
                    .map_or_else(Vec::new, |c| c.tags.clone())
                    .into();
                self.view.status = status;
                self.loaded = Some(loaded);
            }
            Err(message) => {
                nice_plug::nice_error!("genre analysis off: {message}");
                self.view.status = ModelStatus::Failed(message);
                self.loaded = None;
            }
        }
    }

    /// Classifies one window and updates the view. Silent windows are not classified: they
    /// leave the context, the answer and the summary as they were.
    fn classify(&mut self, window: Array3<f32>) -> Result<(), String> {
        let loaded = self.loaded.as_mut().expect("only called with a model");
        let start = Instant::now();
        let output = loaded
            .model
            .outputs(window.view())
            .map_err(|e| e.to_string())?;
        let silent = self
            .last_loud
            .is_none_or(|loud| self.position.saturating_sub(loud) >= loaded.window_len);
        let view = &mut self.view;
        if !silent {
            let row = output.row(0).to_vec();
            let answer = loaded
                .decision
                .push(&mut loaded.model, &row)
                .map_err(|e| e.to_string())?;
            let track = loaded
                .decision
                .track(&mut loaded.model)
                .map_err(|e| e.to_string())?
                .unwrap_or_default();
            view.latest = answer.probabilities;
            view.styles = answer.tags;
            view.context_windows = loaded.decision.context_windows();
            view.summary_styles = track.tags;
            view.rolling
                .set_summary(track.probabilities, loaded.decision.track_windows());
        }
        view.inference_ms = start.elapsed().as_secs_f32() * 1e3;
        view.silent = silent;
        view.level = self.level.take();
        view.windows += 1;
        let time_s = self.position as f64 / f64::from(loaded.model.metadata.input.sample_rate());
        let answer = WindowAnswer {
            time_s,
            hop_s: loaded.hop_s,
            probabilities: &view.latest,
            silent,
        };
        view.rolling.push(answer, self.settings.smoothing_s());
        Ok(())
    }

    fn publish(&mut self, publish: &mut dyn FnMut(GenreView)) {
        let stats = self.stats.snapshot();
        self.view.backlog_ms = stats.pushed.saturating_sub(stats.received) as f32 * 1e3
            / stats.host_rate_hz.max(1) as f32;
        self.view.published_at = Some(Instant::now());
        publish(self.view.clone());
    }

    /// Tracks level and silence of samples about to be fed.
    fn measure(&mut self, samples: &[f32]) {
        self.level.add(samples);
        if let Some(i) = samples.iter().rposition(|x| x.abs() > SILENCE_PEAK) {
            self.last_loud = Some(self.position + i as u64 + 1);
        }
        self.position += samples.len() as u64;
    }
}

impl AnalysisStep for GenreAnalyzer {
    type Output = GenreView;

    fn sample_rate(&self) -> u32 {
        self.loaded
            .as_ref()
            .map_or(22_050, |l| l.model.metadata.input.sample_rate())
    }

    fn poll(&mut self) -> Option<GenreView> {
        let mut changed = false;
        let resets = self.stats.summary_resets.load(Ordering::Acquire)
            + self.stats.transport_starts.load(Ordering::Acquire);
        if resets != self.resets_seen {
            self.resets_seen = resets;
            self.view.rolling.reset_summary();
            self.view.summary_styles.clear();
            if let Some(loaded) = &mut self.loaded {
                loaded.decision.reset();
            }
            changed = true;
        }
        let settings = self
            .settings
            .analysis_settings()
            .filter(|settings| self.requested.as_ref() != Some(settings));
        if let Some(settings) = settings {
            self.load(&settings);
            self.requested = Some(settings);
            changed = true;
        }
        changed.then(|| self.view.clone())
    }

    fn failed(message: String) -> GenreView {
        GenreView {
            status: ModelStatus::Failed(message),
            ..GenreView::default()
        }
    }

    fn process(&mut self, samples: &[f32], publish: &mut dyn FnMut(GenreView)) {
        let Some(loaded) = &mut self.loaded else {
            return;
        };
        let mut due = Vec::new();
        loaded.feeder.push(samples, &mut due);
        // Windows complete somewhere inside `samples`; attributing the level and silence of the
        // whole piece to them is exact at the worker's chunk size (a few ms).
        self.measure(samples);
        for window in due {
            if let Err(message) = self.classify(window) {
                nice_plug::nice_error!("genre analysis stopped: {message}");
                self.view.status = ModelStatus::Failed(message);
                self.loaded = None;
                self.publish(publish);
                return;
            }
            self.publish(publish);
        }
    }
}

impl Loaded {
    fn new(model: GenreModel, name: &str) -> Result<(Self, ModelStatus), String> {
        let input = model.metadata.input.clone();
        let rate = input.sample_rate() as f32;
        let window_len = (input.window_seconds() * rate).round() as u64;
        let feeder = Feeder::new(&input)?;
        let status = ModelStatus::Ready {
            name: name.to_owned(),
            provider: model.provider,
            notice: model.notice.clone(),
            output: model.metadata.output,
            window_s: input.window_seconds(),
            hop_s: input.hop_seconds(),
        };
        Ok((
            Self {
                model,
                feeder,
                decision: Decision::default(),
                window_len,
                hop_s: input.hop_seconds(),
            },
            status,
        ))
    }
}

impl Feeder {
    fn new(input: &ModelInput) -> Result<Self, String> {
        Ok(match input {
            ModelInput::Frames {
                features,
                hop_frames,
            } => Feeder::Frames(FrameFeeder::new(
                FrameStream::new(features).map_err(|e| e.to_string())?,
                FeatureExtractor::new(features).map_err(|e| e.to_string())?,
                *hop_frames,
            )),
            ModelInput::Descriptors { .. } | ModelInput::Hybrid { .. } => {
                let rate = input.sample_rate() as f32;
                let len = (input.window_seconds() * rate).round() as usize;
                let hop = (input.hop_seconds() * rate).round().max(1.0) as usize;
                Feeder::Samples {
                    window: RollingWindow::new(len, hop),
                    cutter: WindowCutter::new(input).map_err(|e| e.to_string())?,
                }
            }
        })
    }

    /// Feeds samples at the model rate and appends every window they complete to `due`.
    fn push(&mut self, samples: &[f32], due: &mut Vec<Array3<f32>>) {
        match self {
            Feeder::Frames(frames) => frames.push(samples, due),
            Feeder::Samples { window, cutter } => {
                window.push(samples, |_, samples| due.push(cutter.windows(samples)));
            }
        }
    }
}

/// Streams frame features and cuts a model window every `hop_frames` frames, exactly as
/// [`crate::inference::windows::frame_windows`] does on a whole clip.
struct FrameFeeder {
    stream: FrameStream,
    extractor: FeatureExtractor,
    /// The last `frames` frames (`frames × n_mels`, a ring starting at `write`).
    ring: Array2<f32>,
    write: usize,
    /// Frames seen so far, and the count at which the next window is due.
    seen: u64,
    next_due: u64,
    hop_frames: u64,
}

impl FrameFeeder {
    fn new(stream: FrameStream, extractor: FeatureExtractor, hop_frames: usize) -> Self {
        let frames = extractor.config().frames;
        Self {
            ring: Array2::zeros((frames, stream.frame_width())),
            stream,
            extractor,
            write: 0,
            seen: 0,
            next_due: frames as u64,
            hop_frames: hop_frames.max(1) as u64,
        }
    }

    fn push(&mut self, samples: &[f32], due: &mut Vec<Array3<f32>>) {
        let Self {
            stream,
            extractor,
            ring,
            write,
            seen,
            next_due,
            hop_frames,
        } = self;
        stream.push(samples, |frame| {
            ring.row_mut(*write)
                .iter_mut()
                .zip(frame)
                .for_each(|(dst, &src)| *dst = src);
            *write = (*write + 1) % ring.nrows();
            *seen += 1;
            if *seen == *next_due {
                *next_due += *hop_frames;
                let oldest_first = ndarray::concatenate(
                    Axis(0),
                    &[
                        ring.slice(ndarray::s![*write.., ..]),
                        ring.slice(ndarray::s![..*write, ..]),
                    ],
                )
                .expect("same width");
                due.push(
                    extractor
                        .finish_window(oldest_first.view())
                        .insert_axis(Axis(0)),
                );
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decode_mono_at;
    use crate::inference::decision::ranked;
    use crate::inference::{analyze_file, ModelChoice};
    use crate::params::GenrescopeParams;
    use std::path::{Path, PathBuf};

    /// ONNX Runtime from the repository's `.ort/` (`cargo xtask ort`); CI provisions it.
    pub fn test_runtime() -> Runtime {
        crate::inference::runtime::for_tests()
    }

    #[test]
    fn many_windows_run_in_bounded_batches_with_the_same_result() {
        let mut model = ModelChoice::MfccCnn
            .load(&test_runtime(), crate::inference::Provider::Cpu)
            .unwrap();
        let shape = model.metadata.input.shape();
        let (frames, width) = (shape[0], shape[1]);
        let run = model.run_windows();
        let n = 2 * run + 3;
        let windows = ndarray::Array3::from_shape_fn((n, frames, width), |(w, f, b)| {
            ((w * 7 + f * 3 + b) % 11) as f32 / 5.0 - 1.0
        });
        let all = model.probabilities(windows.view()).unwrap();
        assert_eq!(all.dim(), (n, model.metadata.labels.len()));
        for w in [0, run - 1, run, n - 1] {
            let one = model
                .probabilities(windows.slice(ndarray::s![w..w + 1, .., ..]))
                .unwrap();
            for (a, b) in all.row(w).iter().zip(one.row(0)) {
                assert!((a - b).abs() < 1e-6, "window {w}: {a} vs {b}");
            }
        }
        // Windows differ, so do their outputs: the rows are not one window repeated.
        assert!(all.row(0) != all.row(n - 1));
    }

    fn clip(path: &str) -> PathBuf {
        crate::research::music_dir().join(path)
    }

    fn analyzer() -> GenreAnalyzer {
        analyzer_with(ModelChoice::Builtin)
    }

    fn analyzer_with(choice: ModelChoice) -> GenreAnalyzer {
        test_runtime();
        let params = Arc::new(GenrescopeParams::default());
        params.settings.write().unwrap().model = choice;
        let stats = Arc::new(Stats::default());
        let mut analyzer = GenreAnalyzer::new(params, stats);
        let view = analyzer.poll().expect("the first poll loads the model");
        assert!(matches!(view.status, ModelStatus::Ready { .. }), "{view:?}");
        analyzer
    }

    /// Audio fed in odd pieces through the analyzer gives the windows and summary that
    /// `analyze_file` gives for the whole clip.
    fn assert_streaming_equals_offline(choice: ModelChoice, paths: &[&str]) {
        let runtime = test_runtime();
        let mut model = choice.load(&runtime, Provider::Cpu).unwrap();
        let cutter = WindowCutter::new(&model.metadata.input).unwrap();
        for &path in paths {
            let offline = analyze_file(&mut model, &cutter, &clip(path)).unwrap();
            let rate = model.metadata.input.sample_rate();
            let audio = decode_mono_at(&clip(path), rate).unwrap();
            let mut analyzer = analyzer_with(choice.clone());
            let mut published = Vec::new();
            // Odd piece sizes: windows must not depend on how the audio arrives.
            for piece in audio.samples.chunks(1_234) {
                analyzer.process(piece, &mut |view| published.push(view));
            }
            assert_eq!(published.len(), offline.answers.nrows(), "{path}");
            for (i, view) in published.iter().enumerate() {
                let max_diff = view
                    .latest
                    .iter()
                    .zip(offline.answers.row(i))
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0f32, f32::max);
                assert!(max_diff < 1e-4, "{path} window {i}: {max_diff}");
            }
            let last = published.last().unwrap();
            let summary = last.rolling.summary();
            let offline_mean = offline.summary.clone();
            assert_eq!(ranked(&summary)[0], ranked(&offline_mean)[0], "{path}");
            for (a, b) in summary.iter().zip(&offline_mean) {
                assert!(
                    (a - b).abs() < 1e-4,
                    "{path}: {summary:?} vs {offline_mean:?}"
                );
            }
        }
    }

    #[test]
    fn streaming_windows_equal_the_offline_analysis() {
        assert_streaming_equals_offline(
            ModelChoice::Builtin,
            &[
                "gtzan/blues/blues.00000.ogg",
                "gtzan/reggae/reggae.00002.ogg",
            ],
        );
    }

    /// The hybrid input (frames plus a descriptor row, cut from each window's own samples).
    #[test]
    fn hybrid_streaming_windows_equal_the_offline_analysis() {
        let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/hybrid.onnx");
        assert_streaming_equals_offline(ModelChoice::File(model), &["gtzan/blues/blues.00000.ogg"]);
    }

    #[test]
    fn a_gpu_provider_missing_from_the_runtime_falls_back_to_the_cpu_with_a_notice() {
        test_runtime();
        let params = Arc::new(GenrescopeParams::default());
        params.settings.write().unwrap().provider = Provider::Cuda;
        let mut analyzer = GenreAnalyzer::new(params, Arc::new(Stats::default()));
        let view = analyzer.poll().unwrap();
        let ModelStatus::Ready {
            provider, notice, ..
        } = &view.status
        else {
            panic!("{view:?}");
        };
        // The PyPI wheel the tests use is CPU-only.
        assert_eq!(*provider, Provider::Cpu);
        let notice = notice.as_deref().unwrap_or_default();
        assert!(
            notice.contains("CUDA") && notice.ends_with("using CPU"),
            "{notice}"
        );
        let mut published = 0;
        analyzer.process(&[0.3; 22_050 * 4], &mut |_| published += 1);
        assert!(published > 0, "the CPU session analyses");
    }

    #[test]
    fn silence_is_not_classified_into_the_summary() {
        let mut analyzer = analyzer();
        let mut published = Vec::new();
        analyzer.process(&vec![0.0; 22_050 * 6], &mut |view| published.push(view));
        assert!(!published.is_empty());
        let last = published.last().unwrap();
        assert!(last.silent);
        assert_eq!(last.rolling.summary_windows, 0);
        assert!(last.rolling.smoothed.is_empty());
        assert!(last
            .rolling
            .history
            .iter()
            .all(|e| e.probabilities.is_none()));
    }

    #[test]
    fn a_missing_model_file_is_reported_and_nothing_is_published() {
        test_runtime();
        let params = Arc::new(GenrescopeParams::default());
        params.settings.write().unwrap().model = ModelChoice::File("/nonexistent/m.onnx".into());
        let mut analyzer = GenreAnalyzer::new(params.clone(), Arc::new(Stats::default()));
        let view = analyzer.poll().unwrap();
        let ModelStatus::Failed(message) = &view.status else {
            panic!("{view:?}");
        };
        assert!(message.contains("/nonexistent/m.onnx"), "{message}");
        let mut published = 0;
        analyzer.process(&[0.5; 100_000], &mut |_| published += 1);
        assert_eq!(published, 0);
        // Switching back to the built-in model recovers without a restart.
        params.settings.write().unwrap().model = ModelChoice::Builtin;
        let view = analyzer.poll().unwrap();
        assert!(matches!(view.status, ModelStatus::Ready { .. }), "{view:?}");
    }

    #[test]
    fn summary_resets_on_request_and_on_transport_start() {
        let mut analyzer = analyzer();
        let noise: Vec<f32> = (0..22_050 * 4)
            .map(|i| ((i * 7919 % 1000) as f32 / 1000.0 - 0.5) * 0.5)
            .collect();
        analyzer.process(&noise, &mut |_| {});
        assert!(analyzer.view.rolling.summary_windows > 0);
        analyzer
            .stats
            .transport_starts
            .fetch_add(1, Ordering::Relaxed);
        let view = analyzer.poll().unwrap();
        assert_eq!(view.rolling.summary_windows, 0);
        assert!(!view.rolling.history.is_empty(), "history survives a reset");
        analyzer.process(&noise, &mut |_| {});
        analyzer
            .stats
            .summary_resets
            .fetch_add(1, Ordering::Relaxed);
        assert_eq!(analyzer.poll().unwrap().rolling.summary_windows, 0);
        assert!(analyzer.poll().is_none(), "nothing changed since");
    }
}

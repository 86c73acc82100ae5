//! The genre analysis step: loads the chosen genre model and, beside it, the mood model on the
//! worker, streams the audio through each model's features at its own rate (a
//! [`ModelStep`] each), classifies every model window and keeps the rolling view.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use super::levels::{LevelMeter, Levels};
use super::model_step::{Classified, ModelStep};
use super::rolling::{Rolling, WindowAnswer};
use super::{AnalysisSettings, AnalysisStep, SettingsSource};
use crate::audioset::{shown_as_tags, Heard, Sounds};
use crate::inference::catalog::{load_pooled, mood_dirs, mood_model, user_models_dir};
use crate::inference::runtime::default_dirs;
use crate::inference::{ModelChoice, Runtime};
use crate::stats::Stats;

pub use super::model_step::{ModelStatus, SILENCE_PEAK};

/// Input of the genre model's own window graph (see [`AnalysisStep::inputs`]); the inputs of its
/// window head's companions follow, then the mood model's, when it reads its own windows.
const GENRE_INPUT: usize = 0;

/// Rate reported before a genre model is loaded, in Hz.
const IDLE_RATE_HZ: u32 = 22_050;

/// What the editor shows, published after every model window (and on model changes).
#[derive(Debug, Clone, Default)]
pub struct GenreView {
    pub status: ModelStatus,
    /// The model's labels, in output order.
    pub labels: Arc<[String]>,
    /// The model's style and mood tags (a pooled model's tags, e.g. musicnn's `dance`,
    /// `House`, `00s`; empty for others, and for AudioSet's classes, which the mood line shows:
    /// see [`shown_as_tags`]).
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
    /// The mood model's answer beside the genre.
    pub mood: MoodView,
}

/// What the mood model (a second pooled model, beside the genre model) shows.
#[derive(Debug, Clone, Default)]
pub struct MoodView {
    /// `Failed`, with the reason, when there is no mood model: the genre runs without it.
    pub status: ModelStatus,
    /// The model's labels (`q1`…`q4`, see [`crate::moods`]), in output order.
    pub labels: Arc<[String]>,
    /// The model's tags: AudioSet's class names, in `sounds` order.
    pub tags: Arc<[String]>,
    /// The mood distribution for the context ending with the latest non-silent mood window
    /// (empty before the first), in `labels` order.
    pub latest: Vec<f32>,
    /// Mean AudioSet class probabilities (0–1) of the same context, in `tags` order.
    pub sounds: Vec<f32>,
    /// The styles, instruments and voices `sounds` holds (`models/audioset.toml`).
    pub heard: Heard,
    /// As the genre's [`GenreView::rolling`]: the smoothed mood distribution, its history (one
    /// entry per mood window, silent ones as gaps) and the track's mood since the last reset,
    /// in `labels` order.
    pub rolling: Rolling,
    /// Mean AudioSet probabilities of the track since the last reset (empty before its first
    /// window).
    pub summary_sounds: Vec<f32>,
    /// Windows the mood model classified since it was loaded.
    pub windows: u64,
    /// ONNX Runtime time of its latest window, in ms.
    pub inference_ms: f32,
}

/// The [`AnalysisStep`] the plugin runs.
pub struct GenreAnalyzer {
    settings: Arc<dyn SettingsSource>,
    stats: Arc<Stats>,
    /// The settings the current models were loaded for.
    requested: Option<AnalysisSettings>,
    genre: Option<ModelStep>,
    mood: Option<Mood>,
    /// The mood model to load; `None`: the one [`mood_model`] finds.
    mood_choice: Option<ModelChoice>,
    view: GenreView,
    /// Summary resets plus transport starts already applied.
    resets_seen: u64,
    /// Input level since the previous genre window.
    level: LevelMeter,
}

/// The mood model and what of its AudioSet classes is shown.
struct Mood {
    step: ModelStep,
    sounds: Sounds,
}

impl GenreAnalyzer {
    pub fn new(settings: Arc<dyn SettingsSource>, stats: Arc<Stats>) -> Self {
        Self {
            settings,
            stats,
            requested: None,
            genre: None,
            mood: None,
            mood_choice: None,
            view: GenreView::default(),
            resets_seen: 0,
            level: LevelMeter::default(),
        }
    }

    /// Runs `choice` as the mood model instead of the one [`mood_model`] finds (from the next
    /// model load on).
    pub fn with_mood_model(mut self, choice: ModelChoice) -> Self {
        self.mood_choice = Some(choice);
        self
    }

    /// The analyzer for the next activation: keeps the loaded models, the smoothed
    /// distribution, the history and the track summary, and restarts the audio streams (the
    /// ring and the resamplers are new, so no frame may straddle the two runs).
    pub fn resume(mut self) -> Self {
        self.resets_seen = 0; // the activation reset the counters in `Stats`
        self.level = LevelMeter::default();
        if let Some(Err(message)) = self.genre.as_mut().map(ModelStep::restart_stream) {
            self.stop_genre(message);
        }
        if let Some(Err(message)) = self.mood.as_mut().map(|m| m.step.restart_stream()) {
            self.view.mood.status = ModelStatus::Failed(message);
            self.mood = None;
        }
        self
    }

    fn load(&mut self, settings: &AnalysisSettings) {
        let runtime = Runtime::find(&default_dirs()).map_err(|e| {
            format!("{e}. Audio passes through unchanged; restart the host after installing it.")
        });
        let loaded = runtime.as_ref().map_err(Clone::clone).and_then(|runtime| {
            let model = settings.model.load(runtime, settings.provider);
            let model = model.map_err(|e| format!("model {}: {e}", settings.model.name()))?;
            ModelStep::new(model, &settings.model.name())
        });
        self.view = GenreView::default();
        match loaded {
            Ok((step, status)) => {
                self.view.labels = step.model.metadata.labels.clone().into();
                self.view.style_labels = step
                    .model
                    .metadata
                    .context
                    .as_ref()
                    .map_or_else(Vec::new, |c| shown_as_tags(&c.tags))
                    .into();
                self.view.status = status;
                self.genre = Some(step);
            }
            Err(message) => {
                nice_plug::nice_error!("genre analysis off: {message}");
                self.view.status = ModelStatus::Failed(message);
                self.genre = None;
            }
        }
        self.load_mood(runtime.ok().as_ref(), settings);
    }

    /// Loads the mood model beside the genre model; without one (or with a bad one) the view
    /// says why and the genre runs alone.
    fn load_mood(&mut self, runtime: Option<&Runtime>, settings: &AnalysisSettings) {
        let loaded = runtime
            .ok_or_else(|| "no ONNX Runtime".to_owned())
            .and_then(|runtime| {
                let choice = match &self.mood_choice {
                    Some(choice) => choice.clone(),
                    None => mood_model(&mood_dirs())?,
                };
                // A mood model on a network the genre model runs reads those runs: no session
                // of its own for it.
                let genre = self.genre.as_ref().map(|genre| &genre.model);
                let model = load_pooled(&choice, runtime, settings.provider, genre)?;
                let sounds = Sounds::current(user_models_dir().as_deref());
                let shared =
                    (self.genre.as_ref()).and_then(|genre| model.follows_graph_of(&genre.model));
                let (step, status) = match shared {
                    Some(graph) => ModelStep::follower(model, &choice.name(), graph),
                    None => ModelStep::new(model, &choice.name())?,
                };
                Ok((step, status, sounds.map_err(|e| e.to_string())?))
            });
        let view = &mut self.view.mood;
        *view = MoodView::default();
        match loaded {
            Ok((step, status, sounds)) => {
                let metadata = &step.model.metadata;
                view.labels = metadata.labels.clone().into();
                view.tags = metadata
                    .context
                    .as_ref()
                    .map_or_else(Vec::new, |c| c.tags.clone())
                    .into();
                view.status = status;
                self.mood = Some(Mood { step, sounds });
            }
            Err(message) => {
                nice_plug::nice_log!("no mood, styles or instruments: {message}");
                view.status = ModelStatus::Failed(message);
                self.mood = None;
            }
        }
    }

    /// Updates the view with one genre window. Silent windows leave the context, the answer
    /// and the summary as they were.
    fn show_genre(&mut self, classified: Classified, hop_s: f32) {
        let view = &mut self.view;
        let silent = classified.silent();
        if let Some((answer, track)) = classified.answers {
            view.latest = answer.probabilities;
            view.styles = answer.tags;
            view.context_windows = classified.context_windows;
            view.summary_styles = track.tags;
            view.rolling
                .set_summary(track.probabilities, classified.track_windows);
        }
        view.inference_ms = classified.inference_ms;
        view.silent = silent;
        view.level = self.level.take();
        view.windows += 1;
        let answer = WindowAnswer {
            time_s: classified.time_s,
            hop_s,
            probabilities: &view.latest,
            silent,
        };
        view.rolling.push(answer, self.settings.smoothing_s());
    }

    /// Updates the mood view with one mood window. Silent windows leave the answer and the
    /// summary as they were, and are gaps in the history.
    fn show_mood(&mut self, classified: Classified) {
        let (Some(mood), view) = (&self.mood, &mut self.view.mood) else {
            return;
        };
        let silent = classified.silent();
        if let Some((answer, track)) = classified.answers {
            view.heard = mood.sounds.pick(&view.tags, &answer.tags);
            view.latest = answer.probabilities;
            view.sounds = answer.tags;
            view.rolling
                .set_summary(track.probabilities, classified.track_windows);
            view.summary_sounds = track.tags;
        }
        view.inference_ms = classified.inference_ms;
        view.windows += 1;
        let answer = WindowAnswer {
            time_s: classified.time_s,
            hop_s: mood.step.hop_s(),
            probabilities: &view.latest,
            silent,
        };
        view.rolling.push(answer, self.settings.smoothing_s());
    }

    /// Feeds the genre model's input `input`; a model that fails stops the genre analysis with
    /// the reason.
    fn process_genre(&mut self, input: usize, samples: &[f32], publish: &mut dyn FnMut(GenreView)) {
        let Some(step) = &mut self.genre else {
            return;
        };
        if input == GENRE_INPUT {
            self.level.add(samples);
        }
        match step.push(input, samples) {
            Ok(windows) => {
                let hop_s = step.hop_s();
                let moods = self.follow_genre(&windows);
                for (classified, mood) in windows.into_iter().zip(moods) {
                    self.show_genre(classified, hop_s);
                    if let Some(mood) = mood {
                        self.show_mood(mood);
                    }
                    self.publish(publish);
                }
            }
            Err(message) => {
                nice_plug::nice_error!("genre analysis stopped: {message}");
                self.stop_genre(message);
                self.publish(publish);
            }
        }
    }

    /// The mood model's windows when it reads one of the genre model's window graphs
    /// ([`ModelStep::follow`]): one per genre window; `None`s when it reads its own (or failed
    /// now).
    fn follow_genre(&mut self, windows: &[Classified]) -> Vec<Option<Classified>> {
        let Some(mood) = self
            .mood
            .as_mut()
            .filter(|mood| mood.step.follows().is_some())
        else {
            return vec![None; windows.len()];
        };
        match mood.step.follow(windows) {
            Ok(moods) => moods.into_iter().map(Some).collect(),
            Err(message) => {
                self.stop_mood(message);
                vec![None; windows.len()]
            }
        }
    }

    /// Stops the genre analysis with `message`, and a mood model that reads its windows.
    fn stop_genre(&mut self, message: String) {
        if self
            .mood
            .as_ref()
            .is_some_and(|mood| mood.step.follows().is_some())
        {
            self.stop_mood(format!("stopped with the genre model: {message}"));
        }
        self.view.status = ModelStatus::Failed(message);
        self.genre = None;
    }

    /// Stops the mood analysis with `message`; the genre's goes on.
    fn stop_mood(&mut self, message: String) {
        nice_plug::nice_error!("mood analysis stopped: {message}");
        self.view.mood.status = ModelStatus::Failed(message);
        self.mood = None;
    }

    /// Feeds the mood model's input `input`; a model that fails stops the mood analysis, not
    /// the genre's.
    fn process_mood(&mut self, input: usize, samples: &[f32], publish: &mut dyn FnMut(GenreView)) {
        let Some(mood) = &mut self.mood else {
            return;
        };
        match mood.step.push(input, samples) {
            Ok(windows) => {
                for classified in windows {
                    self.show_mood(classified);
                    self.publish(publish);
                }
            }
            Err(message) => {
                self.stop_mood(message);
                self.publish(publish);
            }
        }
    }

    /// The genre model's inputs, first among the analysis's: one per window graph (one, idle,
    /// without a model).
    fn genre_inputs(&self) -> usize {
        self.genre.as_ref().map_or(1, ModelStep::inputs)
    }

    fn publish(&mut self, publish: &mut dyn FnMut(GenreView)) {
        let stats = self.stats.snapshot();
        self.view.backlog_ms = stats.pushed.saturating_sub(stats.received) as f32 * 1e3
            / stats.host_rate_hz.max(1) as f32;
        self.view.published_at = Some(Instant::now());
        publish(self.view.clone());
    }
}

impl AnalysisStep for GenreAnalyzer {
    type Output = GenreView;

    fn inputs(&self) -> usize {
        // A mood model that reads the genre model's windows needs no input of its own.
        self.genre_inputs() + self.mood.as_ref().map_or(0, |mood| mood.step.inputs())
    }

    fn sample_rate(&self, input: usize) -> u32 {
        let genre_inputs = self.genre_inputs();
        match (&self.genre, &self.mood) {
            (Some(genre), _) if input < genre_inputs => genre.sample_rate(input),
            (_, Some(mood)) if input >= genre_inputs => mood.step.sample_rate(input - genre_inputs),
            _ => IDLE_RATE_HZ,
        }
    }

    fn poll(&mut self) -> Option<GenreView> {
        let mut changed = false;
        let resets = self.stats.summary_resets.load(Ordering::Acquire)
            + self.stats.transport_starts.load(Ordering::Acquire);
        if resets != self.resets_seen {
            self.resets_seen = resets;
            self.view.rolling.reset_summary();
            self.view.summary_styles.clear();
            self.view.mood.rolling.reset_summary();
            self.view.mood.summary_sounds.clear();
            let mood = self.mood.as_mut().map(|m| &mut m.step);
            for step in self.genre.iter_mut().chain(mood) {
                step.decision.reset();
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

    fn process(&mut self, input: usize, samples: &[f32], publish: &mut dyn FnMut(GenreView)) {
        let genre_inputs = self.genre_inputs();
        match input.checked_sub(genre_inputs) {
            None => self.process_genre(input, samples, publish),
            Some(mood_input) => self.process_mood(mood_input, samples, publish),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decode_mono_at;
    use crate::inference::decision::ranked;
    use crate::inference::{FileAnalyzer, Provider, Runtime};
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

    /// Feeds `path` to every input of `analyzer` at its rate, in pieces of `piece` samples, one
    /// input after the other; returns every published view.
    fn feed_clip(analyzer: &mut GenreAnalyzer, path: &Path, piece: usize) -> Vec<GenreView> {
        let mut published = Vec::new();
        for input in 0..analyzer.inputs() {
            let audio = decode_mono_at(path, analyzer.sample_rate(input)).unwrap();
            for piece in audio.samples.chunks(piece) {
                analyzer.process(input, piece, &mut |view| published.push(view));
            }
        }
        published
    }

    /// Audio fed in odd pieces through the analyzer gives the windows and summary that
    /// the offline analysis gives for the whole clip.
    fn assert_streaming_equals_offline(choice: ModelChoice, paths: &[&str]) {
        let runtime = test_runtime();
        let mut offline = FileAnalyzer::new(choice.load(&runtime, Provider::Cpu).unwrap()).unwrap();
        for &path in paths {
            let offline = offline.analyze(&clip(path)).unwrap();
            let mut analyzer = analyzer_with(choice.clone());
            // Odd piece sizes: windows must not depend on how the audio arrives.
            let mut published = feed_clip(&mut analyzer, &clip(path), 1_234);
            // The genre's windows (the mood model's publish too).
            published.retain(|v| v.windows > 0);
            published.dedup_by_key(|v| v.windows);
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

    /// The mood model the repository ships (`models/mood.onnx`: EfficientAT mn04 at 32 kHz).
    fn shipped_mood_model() -> ModelChoice {
        ModelChoice::File(Path::new(env!("CARGO_MANIFEST_DIR")).join("models/mood.onnx"))
    }

    /// Feeds a clip to every input as the worker does: each chunk (1/16 s) on every input in
    /// turn, each at its rate; returns every published view.
    fn feed_interleaved(analyzer: &mut GenreAnalyzer, path: &Path) -> Vec<GenreView> {
        let inputs: Vec<(Vec<f32>, usize)> = (0..analyzer.inputs())
            .map(|input| {
                let rate = analyzer.sample_rate(input);
                (
                    decode_mono_at(path, rate).unwrap().samples,
                    rate as usize / 16,
                )
            })
            .collect();
        let chunks = inputs
            .iter()
            .map(|(a, n)| a.len().div_ceil(*n))
            .max()
            .unwrap();
        let mut published = Vec::new();
        for i in 0..chunks {
            for (input, (audio, n)) in inputs.iter().enumerate() {
                if let Some(chunk) = audio.chunks(*n).nth(i) {
                    analyzer.process(input, chunk, &mut |view| published.push(view));
                }
            }
        }
        published
    }

    /// The shipped mood model beside a genre model, fed as the worker feeds them (each chunk on
    /// every input), gives the mood windows, the track's mood and its mean tags that the offline
    /// analysis gives, and the genre is the genre model's alone: beside Accurate, whose second
    /// network is the mood model's (the mood model reads its runs: no input of its own), and
    /// beside the MFCC CNN at 22.05 kHz (the mood model reads its own 32-kHz input).
    #[test]
    fn a_mood_model_streams_as_it_analyses_offline_beside_any_genre_model() {
        let mood = shipped_mood_model();
        let path = clip("gtzan/blues/blues.00000.ogg");
        let runtime = test_runtime();
        let model = mood.load(&runtime, Provider::Cpu).unwrap();
        let offline = FileAnalyzer::new(model).unwrap().analyze(&path).unwrap();
        for (genre, rates, follows) in [
            (ModelChoice::Builtin, vec![16_000, 32_000], Some(1)),
            (ModelChoice::MfccCnn, vec![22_050, 32_000], None),
        ] {
            let params = Arc::new(GenrescopeParams::default());
            params.settings.write().unwrap().model = genre.clone();
            let mut analyzer = GenreAnalyzer::new(params, Arc::new(Stats::default()))
                .with_mood_model(mood.clone());
            let view = analyzer.poll().unwrap();
            assert!(
                matches!(view.mood.status, ModelStatus::Ready { .. }),
                "{view:?}"
            );
            let live_rates: Vec<u32> = (0..analyzer.inputs())
                .map(|i| analyzer.sample_rate(i))
                .collect();
            assert_eq!(live_rates, rates, "{genre:?}");
            assert_eq!(analyzer.mood.as_ref().unwrap().step.follows(), follows);
            let published = feed_interleaved(&mut analyzer, &path);
            let mut mood_windows = published
                .iter()
                .filter(|v| v.mood.windows > 0)
                .collect::<Vec<_>>();
            mood_windows.dedup_by_key(|v| v.mood.windows);
            assert_eq!(mood_windows.len(), offline.answers.nrows());
            for (view, row) in mood_windows.iter().zip(offline.answers.rows()) {
                let diff = view
                    .mood
                    .latest
                    .iter()
                    .zip(row)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0, f32::max);
                assert!(diff < 1e-4, "window {}: {diff}", view.mood.windows);
            }
            let last = published.last().unwrap();
            for (live, offline) in [
                (&last.mood.rolling.summary(), &offline.summary),
                (&last.mood.summary_sounds, &offline.tags),
            ] {
                assert_eq!(live.len(), offline.len());
                assert!(live.iter().zip(offline).all(|(a, b)| (a - b).abs() < 1e-4));
            }
            assert_eq!(last.mood.tags.len(), last.mood.sounds.len());
            assert!(last.mood.inference_ms > 0.0);
            // The genre model's windows are its own.
            let genre_model = genre.load(&runtime, Provider::Cpu).unwrap();
            let genre_offline = FileAnalyzer::new(genre_model)
                .unwrap()
                .analyze(&path)
                .unwrap();
            assert_eq!(last.windows, genre_offline.answers.nrows() as u64);
            assert_eq!(last.mood.labels.len(), 4);
            assert_eq!(last.mood.tags.len(), 527, "AudioSet's classes");
        }
    }

    /// Fast and the mood model read the same mn04 windows: the mood model follows the genre
    /// model's stream (one input, one run of mn04 per window), and each answers every window as
    /// its offline analysis does, which in turn equals each model's analysis alone.
    #[test]
    fn fast_and_the_mood_model_share_one_stream_and_answer_as_offline() {
        let path = clip("gtzan/reggae/reggae.00002.ogg");
        let runtime = test_runtime();
        let analyzer_of = |choice: ModelChoice| {
            crate::inference::FileAnalyzer::new(choice.load(&runtime, Provider::Cpu).unwrap())
                .unwrap()
        };
        let (mut fast, mut mood) = (
            analyzer_of(ModelChoice::Fast),
            analyzer_of(shipped_mood_model()),
        );
        let together =
            crate::inference::analyze_together(&mut [&mut fast, &mut mood], &path).unwrap();
        let offline: Vec<_> = together.into_iter().map(Result::unwrap).collect();
        for (both, analyzer) in offline.iter().zip([&mut fast, &mut mood]) {
            let alone = analyzer.analyze(&path).unwrap();
            assert_eq!(both.answers, alone.answers);
            assert_eq!((&both.summary, &both.tags), (&alone.summary, &alone.tags));
        }
        let params = Arc::new(GenrescopeParams::default());
        params.settings.write().unwrap().model = ModelChoice::Fast;
        let mut analyzer = GenreAnalyzer::new(params, Arc::new(Stats::default()))
            .with_mood_model(shipped_mood_model());
        let view = analyzer.poll().unwrap();
        assert!(
            matches!(view.mood.status, ModelStatus::Ready { .. }),
            "{view:?}"
        );
        assert_eq!((analyzer.inputs(), analyzer.sample_rate(0)), (1, 32_000));
        // The follower holds no window graph of its own.
        let follower = &mut analyzer.mood.as_mut().unwrap().step;
        assert_eq!(follower.follows(), Some(0));
        let window = ndarray::Array3::zeros((1, 300, 128));
        assert!(follower.model.graph_outputs(0, window.view()).is_err());
        assert!(
            view.style_labels.is_empty(),
            "AudioSet classes are not bare style tags"
        );
        let audio = decode_mono_at(&path, 32_000).unwrap().samples;
        let mut published = Vec::new();
        for chunk in audio.chunks(2_000) {
            analyzer.process(GENRE_INPUT, chunk, &mut |view| published.push(view));
        }
        assert_eq!(published.len(), offline[0].answers.nrows());
        let max_diff = |live: &[f32], offline: ndarray::ArrayView1<f32>| {
            live.iter()
                .zip(offline)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max)
        };
        for (i, view) in published.iter().enumerate() {
            assert_eq!(
                (view.windows, view.mood.windows),
                (i as u64 + 1, i as u64 + 1)
            );
            assert!(
                max_diff(&view.latest, offline[0].answers.row(i)) < 1e-4,
                "window {i}"
            );
            assert!(
                max_diff(&view.mood.latest, offline[1].answers.row(i)) < 1e-4,
                "window {i}"
            );
        }
        let last = published.last().unwrap();
        let summary = last.mood.rolling.summary();
        assert!(max_diff(&summary, ndarray::ArrayView1::from(&offline[1].summary)) < 1e-4);
    }

    #[test]
    fn without_a_mood_model_the_genre_runs_alone_and_the_view_says_why() {
        test_runtime();
        let params = Arc::new(GenrescopeParams::default());
        let mut analyzer = GenreAnalyzer::new(params, Arc::new(Stats::default()))
            .with_mood_model(ModelChoice::File("/nonexistent/mood.onnx".into()));
        let view = analyzer.poll().unwrap();
        assert!(matches!(view.status, ModelStatus::Ready { .. }), "{view:?}");
        let ModelStatus::Failed(message) = &view.mood.status else {
            panic!("{view:?}");
        };
        assert!(message.contains("/nonexistent/mood.onnx"), "{message}");
        assert_eq!(
            analyzer.inputs(),
            2,
            "the genre model's two networks, no resampled stream for a missing model"
        );
        let published = feed_silence_then_noise(&mut analyzer, 0, 4);
        assert!(!published.is_empty());
        assert!(published
            .iter()
            .all(|v| v.mood.windows == 0 && !v.latest.is_empty()));
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
        let published = feed_silence_then_noise(&mut analyzer, 0, 4);
        assert!(!published.is_empty(), "the CPU session analyses");
    }

    #[test]
    fn silence_is_not_classified_into_the_summary() {
        let mut analyzer = analyzer();
        let published = feed_silence_then_noise(&mut analyzer, 6, 0);
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
        analyzer.process(GENRE_INPUT, &[0.5; 100_000], &mut |_| published += 1);
        assert_eq!(published, 0);
        // Switching back to the built-in model recovers without a restart.
        params.settings.write().unwrap().model = ModelChoice::Builtin;
        let view = analyzer.poll().unwrap();
        assert!(matches!(view.status, ModelStatus::Ready { .. }), "{view:?}");
    }

    #[test]
    fn summary_resets_on_request_and_on_transport_start() {
        let mut analyzer = analyzer();
        feed_silence_then_noise(&mut analyzer, 0, 4);
        assert!(analyzer.view.rolling.summary_windows > 0);
        analyzer
            .stats
            .transport_starts
            .fetch_add(1, Ordering::Relaxed);
        let view = analyzer.poll().unwrap();
        assert_eq!(view.rolling.summary_windows, 0);
        assert!(!view.rolling.history.is_empty(), "history survives a reset");
        feed_silence_then_noise(&mut analyzer, 0, 4);
        analyzer
            .stats
            .summary_resets
            .fetch_add(1, Ordering::Relaxed);
        assert_eq!(analyzer.poll().unwrap().rolling.summary_windows, 0);
        assert!(analyzer.poll().is_none(), "nothing changed since");
    }

    /// Feeds every input `silent_s` seconds of silence then `loud_s` seconds of noise, in
    /// chunks of 1/16 s as the worker does; returns every published view.
    fn feed_silence_then_noise(
        analyzer: &mut GenreAnalyzer,
        silent_s: u32,
        loud_s: u32,
    ) -> Vec<GenreView> {
        let mut published = Vec::new();
        for input in 0..analyzer.inputs() {
            let rate = analyzer.sample_rate(input) as usize;
            let audio: Vec<f32> = (0..rate * (silent_s + loud_s) as usize)
                .map(|i| match i < rate * silent_s as usize {
                    true => 0.0,
                    false => ((i * 7919 % 1000) as f32 / 1000.0 - 0.5) * 0.5,
                })
                .collect();
            for chunk in audio.chunks(rate / 16) {
                analyzer.process(input, chunk, &mut |view| published.push(view));
            }
        }
        published
    }

    /// Every mood window enters the mood's history as the genre's windows enter the genre's
    /// (silent ones as gaps, one hop apart); a summary reset clears the mood summary with the
    /// genre's and keeps both histories.
    #[test]
    fn the_mood_history_holds_every_mood_window_and_outlives_a_summary_reset() {
        let mut analyzer = analyzer();
        let mood = &analyzer.view.mood;
        assert!(matches!(mood.status, ModelStatus::Ready { .. }), "{mood:?}");
        let published = feed_silence_then_noise(&mut analyzer, 4, 12);
        let mood = &published.last().unwrap().mood;
        let history = &mood.rolling.history;
        assert!(mood.windows >= 4, "{} mood windows", mood.windows);
        assert_eq!(history.len() as u64, mood.windows, "one entry per window");
        let silent = history
            .iter()
            .take_while(|e| e.probabilities.is_none())
            .count();
        assert!(silent >= 1, "the silence is a gap");
        assert!(history.iter().skip(silent).all(|e| e
            .probabilities
            .as_ref()
            .is_some_and(|p| p.len() == mood.labels.len())));
        let loud = (history.len() - silent) as u64;
        assert_eq!(mood.rolling.summary_windows, loud);
        let last = history.back().unwrap().probabilities.as_ref();
        assert_eq!(last, Some(&mood.rolling.smoothed));
        let ModelStatus::Ready { hop_s, .. } = mood.status else {
            panic!("{mood:?}");
        };
        for pair in history.iter().collect::<Vec<_>>().windows(2) {
            let step = pair[1].time_s - pair[0].time_s;
            assert!(
                (step - f64::from(hop_s)).abs() <= 1.0 / 16.0,
                "{step} s apart"
            );
        }

        analyzer
            .stats
            .summary_resets
            .fetch_add(1, Ordering::Relaxed);
        let view = analyzer.poll().unwrap();
        assert_eq!(view.mood.rolling.summary_windows, 0);
        assert!(view.mood.rolling.summary().is_empty());
        assert!(view.mood.summary_sounds.is_empty());
        assert_eq!(
            view.mood.rolling.history, *history,
            "history survives a reset"
        );
        assert_eq!(view.mood.rolling.smoothed, mood.rolling.smoothed);
        assert_eq!(view.rolling.summary_windows, 0, "with the genre's");
    }
}

//! One model on the worker: streams its features at the model's rate, cuts its windows exactly
//! as the offline analysis does, and runs them through its [`Decision`]. The genre analysis
//! runs the genre model and the mood model beside it each through one of these.

use std::time::Instant;

use ndarray::{Array2, Array3, Axis};

use super::window::RollingWindow;
use crate::features::{FeatureExtractor, FrameStream};
use crate::inference::decision::{Answer, Decision};
use crate::inference::{GenreModel, ModelInput, OutputKind, Provider, WindowCutter};

/// Windows whose peak stays below this amplitude (-60 dBFS) are silence: they are not
/// classified into the context, the answer or the track.
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

/// What one model window gave.
#[derive(Debug, Clone)]
pub struct Classified {
    /// The answer for the context ending with the window, and for the track since the last
    /// reset; `None` for a silent window (left out of both).
    pub answers: Option<(Answer, Answer)>,
    /// Seconds of audio fed to the model when the window was classified (at the model rate).
    pub time_s: f64,
    /// ONNX Runtime time of the window, in ms.
    pub inference_ms: f32,
    /// Windows behind the context's answer and in the track, after this window.
    pub context_windows: usize,
    pub track_windows: u64,
    /// The window graph's output for the window: what a step that follows this one reads
    /// ([`ModelStep::follow`]).
    pub graph: Array2<f32>,
}

impl Classified {
    pub fn silent(&self) -> bool {
        self.answers.is_none()
    }
}

/// A loaded model with its streaming window cutter, decision and silence tracking. A step whose
/// model [shares its windows](GenreModel::shares_windows_with) with another step's model can
/// follow that step instead: it cuts no windows and runs no window graph, it reads the other
/// step's ([`Self::follow`]).
pub struct ModelStep {
    pub model: GenreModel,
    /// `None` for a step that follows another.
    feeder: Option<Feeder>,
    /// The live context and the track since the last reset.
    pub decision: Decision,
    /// Model window in samples at the model rate.
    window_len: u64,
    /// Samples fed since the model was loaded, and the position just past the last sample
    /// louder than [`SILENCE_PEAK`].
    position: u64,
    last_loud: Option<u64>,
}

impl ModelStep {
    /// The step for `model`, and its status as `name`.
    pub fn new(model: GenreModel, name: &str) -> Result<(Self, ModelStatus), String> {
        let feeder = Feeder::new(&model.metadata.input)?;
        Ok(Self::with_feeder(model, name, Some(feeder)))
    }

    /// The step for `model` reading the windows of a step whose model it
    /// [shares them with](GenreModel::shares_windows_with) ([`Self::follow`]), and its status as
    /// `name`. It never runs its own window graph, so the graph's session is freed.
    pub fn follower(mut model: GenreModel, name: &str) -> (Self, ModelStatus) {
        model.release_window_graph();
        Self::with_feeder(model, name, None)
    }

    /// Whether this step reads another step's windows.
    pub fn follows(&self) -> bool {
        self.feeder.is_none()
    }

    fn with_feeder(model: GenreModel, name: &str, feeder: Option<Feeder>) -> (Self, ModelStatus) {
        let input = model.metadata.input.clone();
        let rate = input.sample_rate() as f32;
        let status = ModelStatus::Ready {
            name: name.to_owned(),
            provider: model.provider,
            notice: model.notice.clone(),
            output: model.metadata.output,
            window_s: input.window_seconds(),
            hop_s: input.hop_seconds(),
        };
        let step = Self {
            feeder,
            model,
            decision: Decision::default(),
            window_len: (input.window_seconds() * rate).round() as u64,
            position: 0,
            last_loud: None,
        };
        (step, status)
    }

    /// The model's rate in Hz.
    pub fn sample_rate(&self) -> u32 {
        self.model.metadata.input.sample_rate()
    }

    /// Seconds between window starts.
    pub fn hop_s(&self) -> f32 {
        self.model.metadata.input.hop_seconds()
    }

    /// Starts the audio stream again (a new activation: no frame may straddle the two runs,
    /// and the audio before is not the context of what follows), keeping the track.
    pub fn restart_stream(&mut self) -> Result<(), String> {
        self.decision.reset_context();
        if self.feeder.is_some() {
            self.feeder = Some(Feeder::new(&self.model.metadata.input)?);
        }
        Ok(())
    }

    /// Feeds samples at the model rate and classifies every window they complete, in order.
    /// Silent windows still run the model (the cost stays even) but leave the decision as it
    /// was.
    pub fn push(&mut self, samples: &[f32]) -> Result<Vec<Classified>, String> {
        let mut due = Vec::new();
        self.feeder
            .as_mut()
            .ok_or("this model reads another model's windows")?
            .push(samples, &mut due);
        self.track_silence(samples);
        due.into_iter()
            .map(|window| {
                let start = Instant::now();
                let graph = self.model.graph_outputs(window.view());
                self.classify(graph.map_err(|e| e.to_string())?, start)
            })
            .collect()
    }

    /// Feeds the same samples as the step this one follows was just fed, with the window graph
    /// outputs of the windows they completed there ([`Classified::graph`], in order), and
    /// classifies those windows.
    pub fn follow<'a>(
        &mut self,
        samples: &[f32],
        graphs: impl IntoIterator<Item = &'a Array2<f32>>,
    ) -> Result<Vec<Classified>, String> {
        self.track_silence(samples);
        graphs
            .into_iter()
            .map(|graph| self.classify(graph.clone(), Instant::now()))
            .collect()
    }

    /// Moves the stream position past `samples`, noting where the last loud one was.
    fn track_silence(&mut self, samples: &[f32]) {
        // Windows complete somewhere inside `samples`; attributing the silence of the whole
        // piece to them is exact at the worker's chunk size (a few ms).
        if let Some(i) = samples.iter().rposition(|x| x.abs() > SILENCE_PEAK) {
            self.last_loud = Some(self.position + i as u64 + 1);
        }
        self.position += samples.len() as u64;
    }

    /// Classifies one window from its window graph output; `start` is when its inference began.
    fn classify(&mut self, graph: Array2<f32>, start: Instant) -> Result<Classified, String> {
        let output = self.model.follow(graph.view()).map_err(|e| e.to_string())?;
        let silent = self
            .last_loud
            .is_none_or(|loud| self.position.saturating_sub(loud) >= self.window_len);
        let answers = if silent {
            None
        } else {
            let row = output.row(0).to_vec();
            let answer = self.decision.push(&mut self.model, &row);
            let track = self.decision.track(&mut self.model);
            let error = |e: crate::Error| e.to_string();
            Some((
                answer.map_err(error)?,
                track.map_err(error)?.unwrap_or_default(),
            ))
        };
        Ok(Classified {
            answers,
            time_s: self.position as f64 / f64::from(self.sample_rate()),
            inference_ms: start.elapsed().as_secs_f32() * 1e3,
            context_windows: self.decision.context_windows(),
            track_windows: self.decision.track_windows(),
            graph,
        })
    }
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

//! One model on the worker: streams its features at the model's rate, cuts its windows exactly
//! as the offline analysis does, and runs them through its [`Decision`]. The genre analysis
//! runs the genre model and the mood model beside it each through one of these.

use std::collections::VecDeque;
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
        /// The rate of each window graph's input, in Hz (Accurate: musicnn's 16 kHz, then
        /// mn04's 32 kHz).
        rates_hz: Vec<u32>,
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
    /// ONNX Runtime time of the window (every window graph and the heads), in ms.
    pub inference_ms: f32,
    /// Windows behind the context's answer and in the track, after this window.
    pub context_windows: usize,
    pub track_windows: u64,
    /// What each window graph gave for the window, in [`GenreModel::window_graphs`] order: what
    /// a step that follows this one reads ([`ModelStep::follow`]).
    pub graphs: Vec<GraphWindow>,
}

impl Classified {
    pub fn silent(&self) -> bool {
        self.answers.is_none()
    }
}

/// One window graph's output for one window, and what its stream knew when the window was cut.
#[derive(Debug, Clone)]
pub struct GraphWindow {
    /// The graph's output row (`[1, values]`).
    pub output: Array2<f32>,
    /// Whether the window's audio stayed below [`SILENCE_PEAK`].
    pub silent: bool,
    /// Seconds of audio fed to the graph's stream when the window was cut (at its rate).
    pub time_s: f64,
    /// ONNX Runtime time of the graph's run, in ms.
    pub inference_ms: f32,
}

/// A loaded model with a streaming window cutter for each of its window graphs, its decision and
/// silence tracking. A step whose model reads only a window graph another step's model also
/// reads ([`GenreModel::follows_graph_of`]) can follow that step instead: it cuts no windows and
/// runs no window graph, it reads the other step's ([`Self::follow`]).
pub struct ModelStep {
    pub model: GenreModel,
    /// One per window graph of the model; none for a step that follows another.
    streams: Vec<Stream>,
    /// The leader's window graph a following step reads.
    follows: Option<usize>,
    /// The live context and the track since the last reset.
    pub decision: Decision,
}

impl ModelStep {
    /// The step for `model`, and its status as `name`.
    pub fn new(model: GenreModel, name: &str) -> Result<(Self, ModelStatus), String> {
        let streams = (0..model.window_graphs())
            .map(|k| Stream::new(model.graph_input(k)))
            .collect::<Result<_, _>>()?;
        Ok(Self::with_streams(model, name, streams, None))
    }

    /// The step for `model` reading window graph `graph` of a step whose model has it
    /// ([`GenreModel::follows_graph_of`], [`Self::follow`]), and its status as `name`. It never
    /// runs its own window graph, so the graph's session is freed.
    pub fn follower(mut model: GenreModel, name: &str, graph: usize) -> (Self, ModelStatus) {
        model.release_window_graph();
        Self::with_streams(model, name, Vec::new(), Some(graph))
    }

    /// Which of the leader's window graphs this step reads, if it follows another step.
    pub fn follows(&self) -> Option<usize> {
        self.follows
    }

    /// The audio inputs the step reads: one per window graph, none when it follows.
    pub fn inputs(&self) -> usize {
        self.streams.len()
    }

    fn with_streams(
        model: GenreModel,
        name: &str,
        streams: Vec<Stream>,
        follows: Option<usize>,
    ) -> (Self, ModelStatus) {
        let input = &model.metadata.input;
        let rates_hz = (0..model.window_graphs())
            .map(|k| model.graph_input(k).sample_rate())
            .collect();
        let status = ModelStatus::Ready {
            name: name.to_owned(),
            rates_hz,
            provider: model.provider,
            notice: model.notice.clone(),
            output: model.metadata.output,
            window_s: input.window_seconds(),
            hop_s: input.hop_seconds(),
        };
        let step = Self {
            model,
            streams,
            follows,
            decision: Decision::default(),
        };
        (step, status)
    }

    /// The rate in Hz of input `input` (of window graph `input`).
    pub fn sample_rate(&self, input: usize) -> u32 {
        self.model.graph_input(input).sample_rate()
    }

    /// Seconds between window starts.
    pub fn hop_s(&self) -> f32 {
        self.model.metadata.input.hop_seconds()
    }

    /// Starts the audio streams again (a new activation: no frame may straddle the two runs,
    /// and the audio before is not the context of what follows), keeping the track.
    pub fn restart_stream(&mut self) -> Result<(), String> {
        self.decision.reset_context();
        for (k, stream) in self.streams.iter_mut().enumerate() {
            stream.restart(self.model.graph_input(k))?;
        }
        Ok(())
    }

    /// Feeds samples to input `input` (at its rate, [`Self::sample_rate`]), runs its window graph
    /// on every window they complete, and classifies every window for which each graph has given
    /// its output, in order. Silent windows still run the model (the cost stays even) but leave
    /// the decision as it was.
    pub fn push(&mut self, input: usize, samples: &[f32]) -> Result<Vec<Classified>, String> {
        let stream = self
            .streams
            .get_mut(input)
            .ok_or("this model reads another model's windows")?;
        for window in stream.push(samples) {
            let start = Instant::now();
            let output = self.model.graph_outputs(input, window.view());
            stream.waiting.push_back(GraphWindow {
                output: output.map_err(|e| e.to_string())?,
                silent: stream.silent(),
                time_s: stream.time_s(),
                inference_ms: start.elapsed().as_secs_f32() * 1e3,
            });
        }
        let mut classified = Vec::new();
        while self.streams.iter().all(|s| !s.waiting.is_empty()) {
            let graphs = self
                .streams
                .iter_mut()
                .map(|s| s.waiting.pop_front().expect("checked"))
                .collect();
            classified.push(self.classify(graphs)?);
        }
        Ok(classified)
    }

    /// Classifies the windows the step this one follows just classified, from what the window
    /// graph it reads gave for them ([`Classified::graphs`]), in order.
    pub fn follow<'a>(
        &mut self,
        windows: impl IntoIterator<Item = &'a Classified>,
    ) -> Result<Vec<Classified>, String> {
        let graph = self.follows.ok_or("this model reads its own windows")?;
        windows
            .into_iter()
            .map(|window| {
                let read = window
                    .graphs
                    .get(graph)
                    .ok_or("the leader has no such graph")?;
                let own = GraphWindow {
                    inference_ms: 0.0,
                    ..read.clone()
                };
                self.classify(vec![own])
            })
            .collect()
    }

    /// Classifies one window from its window graphs' outputs (silence and time: the first
    /// graph's).
    fn classify(&mut self, graphs: Vec<GraphWindow>) -> Result<Classified, String> {
        let start = Instant::now();
        let views: Vec<_> = graphs.iter().map(|g| g.output.view()).collect();
        let output = self.model.follow(&views).map_err(|e| e.to_string())?;
        let answers = if graphs[0].silent {
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
        let graph_ms: f32 = graphs.iter().map(|g| g.inference_ms).sum();
        Ok(Classified {
            answers,
            time_s: graphs[0].time_s,
            inference_ms: graph_ms + start.elapsed().as_secs_f32() * 1e3,
            context_windows: self.decision.context_windows(),
            track_windows: self.decision.track_windows(),
            graphs,
        })
    }
}

/// One window graph's audio input: its window cutting, where its last loud sample was, and the
/// graph outputs of windows that wait for the other graphs' windows of the same index.
struct Stream {
    feeder: Feeder,
    /// Window in samples at the stream's rate, and the rate in Hz.
    window_len: u64,
    rate: u32,
    /// Samples fed since the model was loaded, and the position just past the last sample
    /// louder than [`SILENCE_PEAK`].
    position: u64,
    last_loud: Option<u64>,
    waiting: VecDeque<GraphWindow>,
}

impl Stream {
    fn new(input: &ModelInput) -> Result<Self, String> {
        let rate = input.sample_rate();
        Ok(Self {
            feeder: Feeder::new(input)?,
            window_len: (input.window_seconds() * rate as f32).round() as u64,
            rate,
            position: 0,
            last_loud: None,
            waiting: VecDeque::new(),
        })
    }

    /// A new feeder, and no window waiting: the windows cut before are not paired with any cut
    /// after.
    fn restart(&mut self, input: &ModelInput) -> Result<(), String> {
        self.feeder = Feeder::new(input)?;
        self.waiting.clear();
        Ok(())
    }

    /// Feeds samples and returns every window they complete, in order.
    fn push(&mut self, samples: &[f32]) -> Vec<Array3<f32>> {
        let mut due = Vec::new();
        self.feeder.push(samples, &mut due);
        // Windows complete somewhere inside `samples`; attributing the silence of the whole
        // piece to them is exact at the worker's chunk size (a few ms).
        if let Some(i) = samples.iter().rposition(|x| x.abs() > SILENCE_PEAK) {
            self.last_loud = Some(self.position + i as u64 + 1);
        }
        self.position += samples.len() as u64;
        due
    }

    /// Whether the last window's worth of samples stayed below [`SILENCE_PEAK`].
    fn silent(&self) -> bool {
        self.last_loud
            .is_none_or(|loud| self.position.saturating_sub(loud) >= self.window_len)
    }

    fn time_s(&self) -> f64 {
        self.position as f64 / f64::from(self.rate)
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

//! A genre model: an ONNX Runtime session plus its [`ModelMetadata`], checked against each
//! other when loaded.

use std::path::Path;

use ndarray::{Array2, ArrayView2, ArrayView3, Axis};
use ort::session::builder::SessionBuilder;
use ort::session::{Session, SessionOutputs};
use ort::value::TensorRef;

use super::metadata::{ModelInput, ModelMetadata, OutputKind};
use super::provider::Provider;
use super::runtime::Runtime;
use crate::Error;

fn err(context: &str) -> impl Fn(ort::Error) -> Error + '_ {
    move |e| Error::Model(format!("{context}: {e}"))
}

/// A model's graphs as bytes: the window graph, a pooled model's head, and its window head
/// and the window graphs of the window head's companions where it has them (see
/// [`super::context::WindowHead`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct ModelParts<'a> {
    pub graph: &'a [u8],
    pub head: Option<&'a [u8]>,
    pub window_head: Option<&'a [u8]>,
    /// The companions' window graphs, in `window_head.with` order.
    pub with: &'a [&'a [u8]],
}

pub struct GenreModel {
    /// The window graphs: the model's own first (reading `metadata.input`), then those of its
    /// window head's companions, in order.
    graphs: Vec<WindowGraph>,
    /// A pooled model's head (`metadata.context`): pooled statistics → probabilities. Tiny, so
    /// it always runs on the CPU.
    head: Option<Session>,
    /// A pooled model's window head (`context.window_head`): the window graphs' network values
    /// → the window's embedding. Tiny, so it always runs on the CPU.
    window_head: Option<Session>,
    pub metadata: ModelMetadata,
    /// The execution provider the session runs on (CPU after a fallback).
    pub provider: Provider,
    /// Why the requested provider is not the one in use, for the user.
    pub notice: Option<String>,
}

/// One window graph of a model: `[windows, frames, width]` → one row per window.
struct WindowGraph {
    /// `None` once released by a model that reads another model's windows
    /// ([`GenreModel::release_window_graph`]).
    session: Option<Session>,
    /// Which graph this is: models with the same one (the same bytes, reading the same windows)
    /// can share its outputs ([`GenreModel::same_graph`]).
    id: u64,
    input: ModelInput,
    /// The output's shape (`[batch, values]` for every usable graph).
    output: Vec<i64>,
}

impl WindowGraph {
    /// `onnx` in `session`, reading `input`'s windows: it must have one float input shaped like
    /// them and one output. `name` names it in errors.
    fn new(session: Session, onnx: &[u8], input: &ModelInput, name: &str) -> Result<Self, Error> {
        let (inputs, outputs) = (session.inputs(), session.outputs());
        if inputs.len() != 1 || outputs.len() != 1 {
            return Err(Error::Model(format!(
                "{name}: expected 1 input and 1 output, the graph has {} and {}",
                inputs.len(),
                outputs.len()
            )));
        }
        let expected: Vec<i64> = input.shape().iter().map(|&d| d as i64).collect();
        let found = dims(&inputs[0]);
        if found.len() != expected.len() + 1 || found[1..] != expected[..] {
            return Err(Error::Model(format!(
                "{name} input is {found:?}, the metadata describes [batch, {expected:?}]"
            )));
        }
        let output = dims(&outputs[0]);
        Ok(Self {
            session: Some(session),
            id: graph_id(onnx),
            input: input.clone(),
            output,
        })
    }

    /// The same graph, reading the same windows, without a session: for a model that reads
    /// another's runs of it.
    fn without_session(&self) -> Self {
        Self {
            session: None,
            id: self.id,
            input: self.input.clone(),
            output: self.output.clone(),
        }
    }

    /// Values per output row (0 when the output is not `[batch, values]`).
    fn width(&self) -> usize {
        match self.output[..] {
            [_, width] => width.max(0) as usize,
            _ => 0,
        }
    }
}

impl GenreModel {
    /// Loads `model.onnx` and the `model.json` beside it (and a pooled model's head, also
    /// beside it).
    pub fn load(runtime: &Runtime, path: &Path, provider: Provider) -> Result<Self, Error> {
        Self::load_beside(runtime, path, provider, None)
    }

    /// [`Self::load`] for a model that runs beside `beside` (see [`Self::from_parts_beside`]).
    pub fn load_beside(
        runtime: &Runtime,
        path: &Path,
        provider: Provider,
        beside: Option<&GenreModel>,
    ) -> Result<Self, Error> {
        if !path.is_file() {
            return Err(Error::Model(format!(
                "model file {} not found",
                path.display()
            )));
        }
        let metadata = ModelMetadata::load(&ModelMetadata::path_for(path))
            .map_err(|e| Error::Model(e.to_string()))?;
        let read = |path: &Path| {
            std::fs::read(path)
                .map_err(|e| Error::Model(format!("cannot read {}: {e}", path.display())))
        };
        let bytes = read(path)?;
        let next_to = |file: &str| read(&path.with_file_name(file));
        let context = metadata.context.as_ref();
        let head = context.map(|c| next_to(&c.head)).transpose()?;
        let described = context.and_then(|c| c.window_head.as_ref());
        let window_head = described.map(|w| next_to(&w.file)).transpose()?;
        let with = (metadata.companions().iter())
            .map(|c| next_to(&c.graph))
            .collect::<Result<Vec<_>, _>>()?;
        let with: Vec<&[u8]> = with.iter().map(Vec::as_slice).collect();
        let parts = ModelParts {
            graph: &bytes,
            head: head.as_deref(),
            window_head: window_head.as_deref(),
            with: &with,
        };
        Self::from_parts_beside(runtime, parts, metadata, provider, beside)
            .map_err(|e| Error::Model(format!("{}: {e}", path.display())))
    }

    /// [`Self::from_parts`] for a model that classifies each window itself.
    pub fn from_memory(
        runtime: &Runtime,
        onnx: &[u8],
        metadata: ModelMetadata,
        provider: Provider,
    ) -> Result<Self, Error> {
        let parts = ModelParts {
            graph: onnx,
            ..ModelParts::default()
        };
        Self::from_parts(runtime, parts, metadata, provider)
    }

    /// A model from ONNX bytes (the window graph, and the heads of a pooled model) and its
    /// metadata, on `provider` or else the CPU, warmed up by one inference so that the first
    /// real window is not slowed by lazy initialisation.
    ///
    /// Sessions run single-threaded (the analysis worker and `analyze` parallelise over files
    /// themselves, and one intra-op thread keeps a plugin from competing with the host's audio
    /// threads). ONNX Runtime's CPU memory arena stays on (its default): after the warm-up,
    /// inference reuses the arena's blocks instead of calling the system allocator (without it,
    /// `analyze` with musicnn took ~1.6x as long and, at one window per run, peaked higher: 131
    /// against 108 MB); memory patterns are on because a model's input shape never changes
    /// within a session. What the arena holds is bounded by [`Self::run_windows`].
    pub fn from_parts(
        runtime: &Runtime,
        parts: ModelParts,
        metadata: ModelMetadata,
        provider: Provider,
    ) -> Result<Self, Error> {
        Self::from_parts_beside(runtime, parts, metadata, provider, None)
    }

    /// [`Self::from_parts`] for a model that runs beside `beside`: when this model reads one
    /// window graph and it is one of `beside`'s ([`Self::follows_graph_of`]), it gets no session
    /// of its own (no weights, no arena: ~10 MB per plugin instance for mn04), so this model can
    /// only [follow](Self::follow) `beside`'s runs of it. The mood model beside a genre model on
    /// the same network loads so.
    pub fn from_parts_beside(
        runtime: &Runtime,
        parts: ModelParts,
        metadata: ModelMetadata,
        provider: Provider,
        beside: Option<&GenreModel>,
    ) -> Result<Self, Error> {
        metadata
            .validate()
            .map_err(|e| Error::Model(e.to_string()))?;
        let context = metadata.context.as_ref();
        let head = cpu_session(
            runtime,
            "head",
            context.map(|c| c.head.as_str()),
            parts.head,
        )?;
        let window_head = cpu_session(
            runtime,
            "window head",
            context
                .and_then(|c| c.window_head.as_ref())
                .map(|w| w.file.as_str()),
            parts.window_head,
        )?;
        // Only a model that reads one window graph can follow another's runs of it.
        let shared = beside.filter(|_| parts.with.is_empty()).and_then(|b| {
            let id = graph_id(parts.graph);
            let graph = b
                .graphs
                .iter()
                .find(|g| g.id == id && g.input == metadata.input);
            graph.map(|g| (g, b))
        });
        let (first, provider, failures) = match shared {
            Some((graph, beside)) => (graph.without_session(), beside.provider, Vec::new()),
            _ => {
                let (own, provider, failures) = provider_session(runtime, parts.graph, provider)?;
                let graph = WindowGraph::new(own, parts.graph, &metadata.input, "model")?;
                (graph, provider, failures)
            }
        };
        let mut graphs = vec![first];
        let companions = metadata.companions();
        if parts.with.len() != companions.len() {
            return Err(Error::Model(format!(
                "the window head reads {} companion graphs, {} were given",
                companions.len(),
                parts.with.len()
            )));
        }
        for (companion, &onnx) in companions.iter().zip(parts.with) {
            // The provider the model's own graph runs on, or the CPU.
            let companion_session = session(runtime, onnx, provider)
                .or_else(|_| session(runtime, onnx, Provider::Cpu))
                .map_err(|e| {
                    Error::Model(format!("{}: not a usable ONNX model: {e}", companion.graph))
                })?;
            let graph =
                WindowGraph::new(companion_session, onnx, &companion.input, &companion.graph);
            graphs.push(graph?);
        }
        let notice = (!failures.is_empty()).then(|| format!("{}; using CPU", failures.join("; ")));
        let mut model = Self {
            graphs,
            head,
            window_head,
            metadata,
            provider,
            notice,
        };
        model.check_signature()?;
        model.warm_up()?;
        Ok(model)
    }

    /// One inference of zeros through every graph, so that lazy initialisation does not slow
    /// the first real window.
    fn warm_up(&mut self) -> Result<(), Error> {
        let mut outputs = Vec::new();
        for k in 0..self.graphs.len() {
            // A graph without a session, which another model runs, stands in with zeros.
            let output = match &self.graphs[k].session {
                Some(_) => {
                    let shape = self.graphs[k].input.shape();
                    let zeros = ndarray::Array3::zeros((1, shape[0], shape[1]));
                    self.graph_outputs(k, zeros.view())?
                }
                None => Array2::zeros((1, self.graphs[k].width())),
            };
            outputs.push(output);
        }
        let views: Vec<_> = outputs.iter().map(|o| o.view()).collect();
        self.follow(&views)?;
        if let Some(context) = &self.metadata.context {
            self.head(&vec![0.0; context.head_width()])?;
        }
        Ok(())
    }

    /// Every graph must have one float input shaped like its windows and one output: one value
    /// per label, or a pooled model's window values and tags (at least the values its window head
    /// reads, for a companion); the heads must read and answer what the context describes.
    fn check_signature(&self) -> Result<(), Error> {
        let labels = self.metadata.labels.len() as i64;
        let context = self.metadata.context.as_ref();
        let companions = self.metadata.companions();
        for (k, graph) in self.graphs.iter().enumerate() {
            let width = graph.width() as i64;
            let (name, misfit) = match (k.checked_sub(1), context) {
                (None, None) => (
                    "model",
                    (width != labels).then(|| format!("the metadata has {labels} labels")),
                ),
                (None, Some(context)) => (
                    "model",
                    (width != context.graph_width() as i64).then(|| {
                        format!(
                            "the context describes {} values and {} tags",
                            context.graph_width() - context.tags.len(),
                            context.tags.len()
                        )
                    }),
                ),
                (Some(c), _) => (
                    companions[c].graph.as_str(),
                    (width < companions[c].inputs as i64)
                        .then(|| format!("the window head reads {} values", companions[c].inputs)),
                ),
            };
            if let Some(misfit) = misfit {
                let output = &graph.output;
                return Err(Error::Model(format!(
                    "{name} output is {output:?}, {misfit}"
                )));
            }
        }
        let Some(context) = context else {
            return Ok(());
        };
        let head = self.head.as_ref().expect("checked when loaded");
        check_head("head", head, [context.head_width() as i64, labels])?;
        match (&self.window_head, &context.window_head) {
            (Some(graph), Some(described)) => check_head(
                "window head",
                graph,
                [described.width() as i64, context.embedding as i64],
            ),
            _ => Ok(()),
        }
    }

    /// Calibrated probabilities `[windows, labels]` of a batch of windows
    /// (`[windows, frames, width]`, see [`super::WindowCutter`]) of a model that classifies
    /// each window; a pooled model classifies contexts ([`super::decision::Decision`]).
    pub fn probabilities(&mut self, windows: ArrayView3<f32>) -> Result<Array2<f32>, Error> {
        if self.metadata.context.is_some() {
            return Err(Error::Model(
                "a pooled model classifies contexts of windows, not single windows".into(),
            ));
        }
        let outputs = self.outputs(windows)?;
        Ok(match self.metadata.output {
            OutputKind::Softmax => calibrate(outputs, self.metadata.calibration.temperature),
            OutputKind::Sigmoid => outputs,
        })
    }

    /// The windows' raw outputs, one row per window: probabilities before calibration, or a
    /// pooled model's embedding and tags, for a model that reads one window graph (a model with
    /// companions reads windows of several inputs: [`Self::graph_outputs`] of each, then
    /// [`Self::follow`]). The window graph runs on at most [`Self::run_windows`] windows at a
    /// time, so memory does not grow with the batch.
    pub fn outputs(&mut self, windows: ArrayView3<f32>) -> Result<Array2<f32>, Error> {
        let graph = self.graph_outputs(0, windows)?;
        self.follow(&[graph.view()])
    }

    /// Window graphs the model reads: its own, then its window head's companions.
    pub fn window_graphs(&self) -> usize {
        self.graphs.len()
    }

    /// The windows window graph `k` reads (`metadata.input` for the model's own, `0`).
    pub fn graph_input(&self, k: usize) -> &ModelInput {
        &self.graphs[k].input
    }

    /// Whether this model's window graph `k` is `other`'s graph `j` reading the same windows:
    /// its [`Self::graph_outputs`] are the other's, so one run serves both ([`Self::follow`]).
    pub fn same_graph(&self, k: usize, other: &GenreModel, j: usize) -> bool {
        let (a, b) = (&self.graphs[k], &other.graphs[j]);
        a.id == b.id && a.input == b.input
    }

    /// Which of `other`'s window graphs this model reads, when it reads one only and `other`
    /// has it too ([`Self::same_graph`]): it can then [follow](Self::follow) `other`'s runs.
    pub fn follows_graph_of(&self, other: &GenreModel) -> Option<usize> {
        (self.graphs.len() == 1)
            .then(|| (0..other.graphs.len()).find(|&j| self.same_graph(0, other, j)))
            .flatten()
    }

    /// Frees the window graphs' sessions (their weights and ONNX Runtime's arena), for a model
    /// that from now on only [follows](Self::follow) the outputs of another model that has its
    /// graph ([`Self::follows_graph_of`]); [`Self::graph_outputs`] is then an error.
    pub fn release_window_graph(&mut self) {
        for graph in &mut self.graphs {
            graph.session = None;
        }
    }

    /// A pooled model's window rows from the outputs of its window graphs (its own, or those of
    /// a model that has the same graphs), one view per graph in [`Self::window_graphs`] order:
    /// the window head's answer in place of the network values, then the tags of the model's
    /// own graph. Window `i` of every graph makes row `i`; there are as many rows as the fewest
    /// graph outputs. Without a window head the rows are the graph outputs as they are.
    pub fn follow(&mut self, graphs: &[ArrayView2<f32>]) -> Result<Array2<f32>, Error> {
        if graphs.len() != self.graphs.len() {
            return Err(Error::Model(format!(
                "the model reads {} window graphs, {} were given",
                self.graphs.len(),
                graphs.len()
            )));
        }
        let (Some(window_head), Some(context)) = (&mut self.window_head, &self.metadata.context)
        else {
            return Ok(graphs[0].to_owned());
        };
        let described = context.window_head.as_ref().expect("checked when loaded");
        let rows = graphs.iter().map(ArrayView2::nrows).min().unwrap_or(0);
        let reads =
            std::iter::once(described.inputs).chain(described.with.iter().map(|c| c.inputs));
        let parts: Vec<_> = graphs
            .iter()
            .zip(reads)
            .map(|(graph, values)| graph.slice(ndarray::s![..rows, ..values]))
            .collect();
        let values = ndarray::concatenate(Axis(1), &parts)
            .map_err(|e| Error::Model(format!("window head input: {e}")))?;
        let values = values.as_standard_layout();
        let input = TensorRef::from_array_view(values.view()).map_err(err("window head input"))?;
        let outputs = window_head
            .run(ort::inputs![input])
            .map_err(err("window head failed"))?;
        let answers = first_rows(&outputs, "window head output")?;
        let tags = graphs[0].slice(ndarray::s![..rows, described.inputs..]);
        ndarray::concatenate(Axis(1), &[answers.view(), tags])
            .map_err(|e| Error::Model(format!("window head output: {e}")))
    }

    /// Window graph `k`'s outputs, one row per window of its input ([`Self::graph_input`]).
    pub fn graph_outputs(
        &mut self,
        k: usize,
        windows: ArrayView3<f32>,
    ) -> Result<Array2<f32>, Error> {
        let run_windows = self.run_windows();
        let width = self.graphs[k].width();
        let session = self.graphs[k].session.as_mut().ok_or_else(|| {
            Error::Model("this model reads another model's windows: it has no window graph".into())
        })?;
        let mut parts = Vec::new();
        for chunk in windows.axis_chunks_iter(Axis(0), run_windows) {
            let input = TensorRef::from_array_view(chunk).map_err(err("input"))?;
            let outputs = session
                .run(ort::inputs![input])
                .map_err(err("inference failed"))?;
            parts.push(first_rows(&outputs, "output")?.to_owned());
        }
        let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
        match views.len() {
            0 => Ok(Array2::zeros((0, width))),
            _ => ndarray::concatenate(Axis(0), &views)
                .map_err(|e| Error::Model(format!("output: {e}"))),
        }
    }

    /// Windows per run of the window graph on this model's provider. On the CPU, one: with one
    /// intra-op thread a batch buys no speed (`analyze` of 12 files on one thread with 1, 2, 4
    /// and 16 windows per run took the same time within the noise; the small `mfcc-cnn` took
    /// 0.38 ms per window at 1 to 32 windows per run), while every window of a run adds its
    /// activations to ONNX Runtime's arena, which keeps them: one `analyze` of a 30-s file
    /// peaked at 328 MB RSS with 16 windows per run, 108 MB with 1. GPU providers run a
    /// batch's windows in parallel.
    pub fn run_windows(&self) -> usize {
        match self.provider {
            Provider::Auto | Provider::Cpu => 1,
            _ => GPU_RUN_WINDOWS,
        }
    }

    /// A pooled model's calibrated probabilities for pooled statistics (`[head_width]`, see
    /// [`super::context::Accumulator::pooled`]).
    pub fn head(&mut self, pooled: &[f32]) -> Result<Vec<f32>, Error> {
        let head = self
            .head
            .as_mut()
            .ok_or_else(|| Error::Model("not a pooled model".into()))?;
        let input =
            TensorRef::from_array_view(([1, pooled.len()], pooled)).map_err(err("head input"))?;
        let outputs = head.run(ort::inputs![input]).map_err(err("head failed"))?;
        let probabilities = first_rows(&outputs, "head output")?.to_owned();
        Ok(
            calibrate(probabilities, self.metadata.calibration.temperature)
                .row(0)
                .to_vec(),
        )
    }
}

/// A session for `onnx` on the first of `provider`'s candidates that is compiled in and takes
/// it, else on the CPU; with the provider in use and why each candidate before it was not.
fn provider_session(
    runtime: &Runtime,
    onnx: &[u8],
    provider: Provider,
) -> Result<(Session, Provider, Vec<String>), Error> {
    let mut failures = Vec::new();
    for candidate in provider.candidates(onnx.len()) {
        if !candidate.is_compiled_in() {
            failures.push(format!("this ONNX Runtime has no {candidate} provider"));
            continue;
        }
        match session(runtime, onnx, candidate) {
            Ok(session) => return Ok((session, candidate, failures)),
            Err(e) => failures.push(format!("{candidate} failed: {e}")),
        }
    }
    let session = session(runtime, onnx, Provider::Cpu)
        .map_err(|e| Error::Model(format!("not a usable ONNX model: {e}")))?;
    Ok((session, Provider::Cpu, failures))
}

/// A session for a pooled model's small graph `file` (its head or window head), on the CPU;
/// `None` where the metadata names none. `what` names it in errors.
fn cpu_session(
    runtime: &Runtime,
    what: &str,
    file: Option<&str>,
    bytes: Option<&[u8]>,
) -> Result<Option<Session>, Error> {
    match (file, bytes) {
        (Some(_), Some(bytes)) => session(runtime, bytes, Provider::Cpu)
            .map(Some)
            .map_err(|e| Error::Model(format!("{what}: not a usable ONNX model: {e}"))),
        (None, None) => Ok(None),
        (Some(file), None) => Err(Error::Model(format!("the {what} {file} is missing"))),
        (None, Some(_)) => Err(Error::Model(format!(
            "a {what} the metadata does not describe"
        ))),
    }
}

/// A head graph must read `[batch, expected[0]]` and answer `[batch, expected[1]]`.
fn check_head(what: &str, head: &Session, expected: [i64; 2]) -> Result<(), Error> {
    let found = match (head.inputs(), head.outputs()) {
        ([input], [output]) => [dims(input), dims(output)],
        _ => [vec![], vec![]],
    };
    if found
        .iter()
        .zip(expected)
        .any(|(d, want)| d.len() != 2 || d[1] != want)
    {
        return Err(Error::Model(format!(
            "{what} is {:?} → {:?}, the metadata describes [1, {}] → [1, {}]",
            found[0], found[1], expected[0], expected[1]
        )));
    }
    Ok(())
}

/// A run's first output as rows (`[rows, values]`); `what` names it in errors.
fn first_rows<'a>(outputs: &'a SessionOutputs, what: &str) -> Result<ArrayView2<'a, f32>, Error> {
    outputs[0]
        .try_extract_array::<f32>()
        .map_err(err(what))?
        .into_dimensionality::<ndarray::Ix2>()
        .map_err(|e| Error::Model(format!("{what}: {e}")))
}

/// An outlet's tensor shape (empty when it is not a tensor).
fn dims(outlet: &ort::value::Outlet) -> Vec<i64> {
    outlet
        .dtype()
        .tensor_shape()
        .map(|s| s.iter().copied().collect())
        .unwrap_or_default()
}

/// Identifies a window graph by its bytes, for [`GenreModel::same_graph`].
fn graph_id(onnx: &[u8]) -> u64 {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut hasher = DefaultHasher::new();
    onnx.hash(&mut hasher);
    hasher.finish()
}

/// Windows per model run on a GPU provider: musicnn needs ~30 MB of activations per window, so
/// a 10-minute file in one run took 6.8 GB.
pub const GPU_RUN_WINDOWS: usize = 16;

/// A single-threaded session on `provider` (CPU when it is [`Provider::Cpu`]), configured like
/// every [`GenreModel`]'s; for graphs that are not genre models (`cargo xtask embed` runs a
/// model with an extra output).
pub fn session(runtime: &Runtime, onnx: &[u8], provider: Provider) -> Result<Session, String> {
    provider
        .register(session_builder(runtime)?)?
        .commit_from_memory(onnx)
        .map_err(|e| e.to_string())
}

/// The options every genrescope session starts from (one intra-op thread, memory patterns),
/// for tools that add their own (profiling, optimisation level) before committing a model.
pub fn session_builder(runtime: &Runtime) -> Result<SessionBuilder, String> {
    Session::builder(&runtime.environment)
        .map_err(|e| e.to_string())?
        .with_intra_threads(1)
        .map_err(|e| e.to_string())?
        .with_memory_pattern(true)
        .map_err(|e| e.to_string())
}

/// Temperature scaling of softmax outputs: `softmax(log(p) / T)` equals `softmax(z / T)` for
/// the logits `z` behind `p`.
pub fn calibrate(mut probabilities: Array2<f32>, temperature: f32) -> Array2<f32> {
    for mut row in probabilities.axis_iter_mut(Axis(0)) {
        row.as_slice_mut()
            .map(|row| calibrate_row(row, temperature))
            .expect("rows of an owned array are contiguous");
    }
    probabilities
}

/// [`calibrate`] of one distribution, in place.
pub fn calibrate_row(row: &mut [f32], temperature: f32) {
    if temperature == 1.0 {
        return;
    }
    row.iter_mut()
        .for_each(|p| *p = p.max(f32::MIN_POSITIVE).ln() / temperature);
    let max = row.iter().fold(f32::NEG_INFINITY, |m, &x| m.max(x));
    row.iter_mut().for_each(|x| *x = (*x - max).exp());
    let sum: f32 = row.iter().sum();
    row.iter_mut().for_each(|x| *x /= sum);
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn temperature_one_is_the_identity_and_higher_flattens() {
        let p = array![[0.7f32, 0.2, 0.1]];
        assert_eq!(calibrate(p.clone(), 1.0), p);
        let flat = calibrate(p.clone(), 2.0);
        assert!((flat.sum() - 1.0).abs() < 1e-6);
        assert!(flat[[0, 0]] < 0.7 && flat[[0, 2]] > 0.1);
        // softmax(log p / 2) ∝ sqrt(p)
        let expected = 0.7f32.sqrt() / (0.7f32.sqrt() + 0.2f32.sqrt() + 0.1f32.sqrt());
        assert!((flat[[0, 0]] - expected).abs() < 1e-6);
    }
    /// The repository's `models/` folder, and a temporary folder holding copies of `files` from
    /// it (the tests change the copies, never the originals).
    fn copies(files: &[&str]) -> (std::path::PathBuf, tempfile::TempDir) {
        let models = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
        let dir = tempfile::tempdir().unwrap();
        for file in files {
            std::fs::copy(models.join(file), dir.path().join(file)).unwrap();
        }
        (models, dir)
    }

    /// A model whose window head is missing, or answers another width than its metadata says,
    /// is a clear error naming it; the files beside it are only read.
    #[test]
    fn a_missing_or_mismatched_window_head_is_a_clear_error() {
        let (models, dir) = copies(&[
            "genre-v2-fast.onnx",
            "genre-v2-fast.json",
            "genre-v2-fast.head.onnx",
        ]);
        let runtime = super::super::runtime::for_tests();
        let path = dir.path().join("genre-v2-fast.onnx");
        let load = || {
            GenreModel::load(&runtime, &path, Provider::Cpu)
                .err()
                .unwrap()
        };
        let missing = load().to_string();
        assert!(missing.contains("genre-v2-fast.window.onnx"), "{missing}");
        // The mood model's window head reads the same 384 values but answers 4 moods, not 13
        // genres.
        let window = dir.path().join("genre-v2-fast.window.onnx");
        std::fs::copy(models.join("mood.window.onnx"), &window).unwrap();
        let mismatched = load().to_string();
        assert!(
            mismatched.contains("window head is") && mismatched.contains("[1, 384] → [1, 13]"),
            "{mismatched}"
        );
        std::fs::copy(models.join("genre-v2-fast.window.onnx"), &window).unwrap();
        let model = GenreModel::load(&runtime, &path, Provider::Cpu).unwrap();
        assert_eq!(model.metadata.name, "genre-v2-fast");
    }

    /// Accurate reads a companion network (`genre-v2.mn04.onnx`): a missing one, or a graph that
    /// reads other windows than the metadata says, is a clear error naming it.
    #[test]
    fn a_missing_or_mismatched_companion_is_a_clear_error() {
        let (models, dir) = copies(&[
            "genre-v2.onnx",
            "genre-v2.json",
            "genre-v2.head.onnx",
            "genre-v2.window.onnx",
        ]);
        let runtime = super::super::runtime::for_tests();
        let path = dir.path().join("genre-v2.onnx");
        let load = || GenreModel::load(&runtime, &path, Provider::Cpu);
        let missing = load().err().unwrap().to_string();
        assert!(missing.contains("genre-v2.mn04.onnx"), "{missing}");
        // musicnn's graph where mn04's belongs: it reads 16-kHz patches, not mn04's windows.
        let companion = dir.path().join("genre-v2.mn04.onnx");
        std::fs::copy(models.join("genre-v2.onnx"), &companion).unwrap();
        let mismatched = load().err().unwrap().to_string();
        assert!(
            mismatched.contains("genre-v2.mn04.onnx input is") && mismatched.contains("[300, 128]"),
            "{mismatched}"
        );
        std::fs::copy(models.join("genre-v2.mn04.onnx"), &companion).unwrap();
        let mut model = load().unwrap();
        assert_eq!(model.window_graphs(), 2);
        assert_eq!(model.graph_input(1).sample_rate(), 32_000);
        // One network's rows where the model reads two is an error, not a shorter answer.
        let rows = Array2::zeros((1, 250));
        let error = model.follow(&[rows.view()]).unwrap_err().to_string();
        assert!(
            error.contains("reads 2 window graphs, 1 were given"),
            "{error}"
        );
    }
}

//! Offline analysis of a whole file: decode, cut every model window, run the model. `analyze`
//! and `cargo xtask eval` both classify files here; `cargo xtask embed` cuts its windows here.

use std::path::Path;

use ndarray::{Array2, Array3};

use super::decision::Decision;

use super::model::GenreModel;
use super::windows::WindowCutter;
use crate::decode::{decode_mono_at, decode_mono_at_rates, MonoAudio};
use crate::Error;

/// What a model says about one file, window by window and as a whole.
#[derive(Debug, Clone)]
pub struct ClipAnalysis {
    /// `[windows, labels]`: the answer after each window, as the plugin shows it live (a
    /// pooled model's answer reads the context ending with the window); window `i` starts at
    /// `i × hop_seconds`.
    pub answers: Array2<f32>,
    /// The file's distribution, what the plugin's track summary shows: the mean window answer,
    /// or a pooled model's head over every window.
    pub summary: Vec<f32>,
    /// Mean tag probabilities over the file, in the order of the model's
    /// [`super::context::PooledContext::tags`] (empty without tags).
    pub tags: Vec<f32>,
    /// Seconds between window starts.
    pub hop_seconds: f32,
    /// Length of one window in seconds.
    pub window_seconds: f32,
    /// Length of the decoded audio in seconds.
    pub seconds: f64,
    /// Packets the decoder could not read and skipped (their audio is missing).
    pub skipped_packets: usize,
    /// Seconds of audio a truncated file's header promises and the file does not hold.
    pub missing_seconds: f64,
}

/// Every model window of one file.
pub struct FileWindows {
    /// `[windows, frames, width]`, at least one.
    pub windows: Array3<f32>,
    /// Length of the decoded audio in seconds.
    pub seconds: f64,
    /// Packets the decoder could not read and skipped.
    pub skipped_packets: usize,
    /// Seconds of audio a truncated file's header promises and the file does not hold.
    pub missing_seconds: f64,
}

/// Decodes `path`, resamples it to the model's rate and cuts every window. Silent files are an
/// error.
pub fn file_windows(cutter: &WindowCutter, path: &Path) -> Result<FileWindows, Error> {
    windows_of(
        cutter,
        decode_mono_at(path, cutter.input().sample_rate())?,
        path,
    )
}

/// Cuts every window of `audio`, decoded from `path` at the cutter's rate. Silent audio, or
/// audio too short for one window, is an error naming `path`.
fn windows_of(cutter: &WindowCutter, audio: MonoAudio, path: &Path) -> Result<FileWindows, Error> {
    let unusable = |reason| Error::Decode {
        path: path.to_owned(),
        reason,
    };
    audio.audible().map_err(unusable)?;
    let windows = cutter.windows(&audio.samples);
    if windows.dim().0 == 0 {
        return Err(unusable(format!(
            "too short for one {:.1}-s window ({:.1} s)",
            cutter.input().window_seconds(),
            audio.seconds()
        )));
    }
    Ok(FileWindows {
        windows,
        seconds: audio.seconds(),
        skipped_packets: audio.skipped_packets,
        missing_seconds: audio.missing_seconds,
    })
}

/// A model and the window cutters for its inputs (one per window graph it reads, see
/// [`GenreModel::window_graphs`]): what analyses files with one model. The commands hold one per
/// model (genre, mood) per thread and analyse each file with all of them at once
/// ([`analyze_together`]); each window graph's windows are cut at its own rate, as live.
pub struct FileAnalyzer {
    pub model: GenreModel,
    cutters: Vec<WindowCutter>,
}

impl FileAnalyzer {
    pub fn new(model: GenreModel) -> Result<Self, Error> {
        let cutters = (0..model.window_graphs())
            .map(|k| WindowCutter::new(model.graph_input(k)))
            .collect::<Result<_, _>>()?;
        Ok(Self { model, cutters })
    }

    /// The model's analysis of `path`, as [`analyze_together`] gives it.
    pub fn analyze(&mut self, path: &Path) -> Result<ClipAnalysis, Error> {
        analyze_together(&mut [self], path)?
            .pop()
            .expect("one outcome per analyzer")
    }
}

/// Decodes `path` once, at every analyzer's rates, and analyses it with each (the genre model
/// and the mood model beside it): each outcome equals [`FileAnalyzer::analyze`]'s. Window graphs
/// that several analyzers read ([`GenreModel::same_graph`]) cut their windows and run once for
/// all. A file that cannot be decoded is the error of all; one silent or too short for a
/// window graph's window is the error of the models that read it.
pub fn analyze_together(
    analyzers: &mut [&mut FileAnalyzer],
    path: &Path,
) -> Result<Vec<Result<ClipAnalysis, Error>>, Error> {
    // The distinct window graphs, each as the first (analyzer, graph) that reads it, and which
    // of them each analyzer reads.
    let mut distinct: Vec<(usize, usize)> = Vec::new();
    let mut reads: Vec<Vec<usize>> = Vec::with_capacity(analyzers.len());
    for i in 0..analyzers.len() {
        let model = &analyzers[i].model;
        let own = (0..model.window_graphs()).map(|k| {
            let found = distinct
                .iter()
                .position(|&(j, g)| analyzers[j].model.same_graph(g, model, k));
            found.unwrap_or_else(|| {
                distinct.push((i, k));
                distinct.len() - 1
            })
        });
        reads.push(own.collect());
    }
    let rates: Vec<u32> = distinct
        .iter()
        .map(|&(i, k)| analyzers[i].cutters[k].input().sample_rate())
        .collect();
    let decoded = decode_mono_at_rates(path, &rates)?;
    let graphs: Vec<Result<GraphWindows, Error>> = distinct
        .iter()
        .zip(decoded)
        .map(|(&(i, k), audio)| {
            let analyzer = &mut analyzers[i];
            windows_of(&analyzer.cutters[k], audio, path)
                .and_then(|cut| graph_windows(&mut analyzer.model, k, cut))
        })
        .collect();
    let outcomes = analyzers
        .iter_mut()
        .zip(reads)
        .map(|(analyzer, reads)| {
            let graphs: Vec<&GraphWindows> = reads
                .iter()
                .map(|&g| graphs[g].as_ref().map_err(Clone::clone))
                .collect::<Result<_, _>>()?;
            decide(&mut analyzer.model, &graphs)
        })
        .collect();
    Ok(outcomes)
}

/// A file's window graph outputs, one row per window, and what the decoder said of the file.
#[derive(Debug, Clone)]
struct GraphWindows {
    outputs: Array2<f32>,
    seconds: f64,
    skipped_packets: usize,
    missing_seconds: f64,
}

/// Runs `model`'s window graph `k` on every window of `cut`.
fn graph_windows(
    model: &mut GenreModel,
    k: usize,
    cut: FileWindows,
) -> Result<GraphWindows, Error> {
    Ok(GraphWindows {
        outputs: model.graph_outputs(k, cut.windows.view())?,
        seconds: cut.seconds,
        skipped_packets: cut.skipped_packets,
        missing_seconds: cut.missing_seconds,
    })
}

/// Decodes `path`, resamples it to the model's rate and classifies every window through a
/// [`Decision`], as the plugin does live: for a model that reads one window graph (one with
/// companions is analysed by a [`FileAnalyzer`]).
pub fn analyze_file(
    model: &mut GenreModel,
    cutter: &WindowCutter,
    path: &Path,
) -> Result<ClipAnalysis, Error> {
    classify(model, file_windows(cutter, path)?)
}

/// Classifies every window of a file cut for `model`'s own window graph ([`file_windows`])
/// through a [`Decision`], as the plugin does live (a model that reads one window graph).
pub fn classify(model: &mut GenreModel, cut: FileWindows) -> Result<ClipAnalysis, Error> {
    let graph = graph_windows(model, 0, cut)?;
    decide(model, &[&graph])
}

/// The answers of `model` from the outputs of its window graphs on a file's windows (its own, or
/// those of models with the same graphs), one per graph in [`GenreModel::window_graphs`] order.
fn decide(model: &mut GenreModel, graphs: &[&GraphWindows]) -> Result<ClipAnalysis, Error> {
    let views: Vec<_> = graphs.iter().map(|g| g.outputs.view()).collect();
    let outputs = model.follow(&views)?;
    let mut decision = Decision::default();
    let mut answers = Vec::with_capacity(outputs.nrows() * model.metadata.labels.len());
    for row in outputs.rows() {
        let row = row.to_vec();
        let answer = decision.push(model, &row)?;
        answers.extend(answer.probabilities);
    }
    let track = decision.track(model)?.expect("at least one window");
    let answers = Array2::from_shape_vec((outputs.nrows(), model.metadata.labels.len()), answers)
        .expect("one answer of every label per window");
    let (input, file) = (&model.metadata.input, graphs[0]);
    Ok(ClipAnalysis {
        answers,
        summary: track.probabilities,
        tags: track.tags,
        hop_seconds: input.hop_seconds(),
        window_seconds: input.window_seconds(),
        seconds: file.seconds,
        skipped_packets: file.skipped_packets,
        missing_seconds: file.missing_seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inference::{ModelChoice, Provider};

    /// Two models at two rates (16 and 22.05 kHz) from one decode give what each gives alone.
    #[test]
    fn one_decode_serves_models_at_different_rates() {
        let runtime = crate::inference::runtime::for_tests();
        let load = |choice: ModelChoice| {
            FileAnalyzer::new(choice.load(&runtime, Provider::Cpu).unwrap()).unwrap()
        };
        let (mut genre, mut light) = (load(ModelChoice::Fast), load(ModelChoice::MfccCnn));
        let path = crate::research::music_dir().join("gtzan/reggae/reggae.00002.ogg");
        let together = analyze_together(&mut [&mut genre, &mut light], &path).unwrap();
        assert_eq!(together.len(), 2);
        for (outcome, analyzer) in together.into_iter().zip([&mut genre, &mut light]) {
            let (both, alone) = (outcome.unwrap(), analyzer.analyze(&path).unwrap());
            assert_eq!(both.answers, alone.answers);
            assert_eq!(both.summary, alone.summary);
            assert_eq!(both.seconds, alone.seconds);
        }
        let missing = crate::research::music_dir().join("no/such/file.ogg");
        let error = analyze_together(&mut [&mut genre, &mut light], &missing).unwrap_err();
        assert!(matches!(error, Error::Decode { .. }), "{error}");
    }
}

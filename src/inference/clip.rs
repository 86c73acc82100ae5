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

/// A model and the window cutter for its input: what analyses files with one model. The
/// commands hold one per model (genre, mood) per thread and analyse each file with all of them
/// at once ([`analyze_together`]); each model's windows are cut at its own rate, as live.
pub struct FileAnalyzer {
    pub model: GenreModel,
    pub cutter: WindowCutter,
}

impl FileAnalyzer {
    pub fn new(model: GenreModel) -> Result<Self, Error> {
        let cutter = WindowCutter::new(&model.metadata.input)?;
        Ok(Self { model, cutter })
    }

    /// [`analyze_file`] with this model.
    pub fn analyze(&mut self, path: &Path) -> Result<ClipAnalysis, Error> {
        analyze_file(&mut self.model, &self.cutter, path)
    }
}

/// Decodes `path` once, at every analyzer's rate, and analyses it with each (the genre model
/// and the mood model beside it): each outcome equals [`FileAnalyzer::analyze`]'s. Analyzers
/// whose models [share their windows](GenreModel::shares_windows_with) cut them and run the
/// window graph once for all. A file that cannot be decoded is the error of all; one silent or
/// too short for a model's window is that model's error.
pub fn analyze_together(
    analyzers: &mut [&mut FileAnalyzer],
    path: &Path,
) -> Result<Vec<Result<ClipAnalysis, Error>>, Error> {
    // Every analyzer reads the window graph of the first one sharing its windows (itself at
    // least); only those first ones decode and run.
    let leaders: Vec<usize> = (0..analyzers.len())
        .map(|i| {
            (0..i)
                .find(|&j| analyzers[j].model.shares_windows_with(&analyzers[i].model))
                .unwrap_or(i)
        })
        .collect();
    let rates: Vec<u32> = leaders
        .iter()
        .enumerate()
        .filter(|&(i, &leader)| i == leader)
        .map(|(i, _)| analyzers[i].cutter.input().sample_rate())
        .collect();
    let mut decoded = decode_mono_at_rates(path, &rates)?.into_iter();
    let mut graphs: Vec<Option<Result<GraphWindows, Error>>> = Vec::new();
    let mut outcomes = Vec::with_capacity(analyzers.len());
    for (i, analyzer) in analyzers.iter_mut().enumerate() {
        let graph = if leaders[i] == i {
            let audio = decoded.next().expect("one decode per leader");
            let graph = windows_of(&analyzer.cutter, audio, path)
                .and_then(|cut| graph_windows(&mut analyzer.model, cut));
            let followed = leaders[i + 1..].contains(&i);
            graphs.push(followed.then(|| graph.clone()));
            graph
        } else {
            graphs.push(None);
            graphs[leaders[i]]
                .clone()
                .expect("a followed leader comes first")
        };
        outcomes.push(graph.and_then(|graph| decide(&mut analyzer.model, &analyzer.cutter, graph)));
    }
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

/// Runs `model`'s window graph on every window of `cut`.
fn graph_windows(model: &mut GenreModel, cut: FileWindows) -> Result<GraphWindows, Error> {
    Ok(GraphWindows {
        outputs: model.graph_outputs(cut.windows.view())?,
        seconds: cut.seconds,
        skipped_packets: cut.skipped_packets,
        missing_seconds: cut.missing_seconds,
    })
}

/// Decodes `path`, resamples it to the model's rate and classifies every window through a
/// [`Decision`], as the plugin does live.
pub fn analyze_file(
    model: &mut GenreModel,
    cutter: &WindowCutter,
    path: &Path,
) -> Result<ClipAnalysis, Error> {
    classify(model, cutter, file_windows(cutter, path)?)
}

/// Classifies every window of a file cut by `cutter` ([`file_windows`]) through a
/// [`Decision`], as the plugin does live.
pub fn classify(
    model: &mut GenreModel,
    cutter: &WindowCutter,
    cut: FileWindows,
) -> Result<ClipAnalysis, Error> {
    let graph = graph_windows(model, cut)?;
    decide(model, cutter, graph)
}

/// The answers of `model` from the window graph outputs of a file's windows (its own, or those
/// of a model it shares windows with).
fn decide(
    model: &mut GenreModel,
    cutter: &WindowCutter,
    graph: GraphWindows,
) -> Result<ClipAnalysis, Error> {
    let outputs = model.follow(graph.outputs.view())?;
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
    Ok(ClipAnalysis {
        answers,
        summary: track.probabilities,
        tags: track.tags,
        hop_seconds: cutter.input().hop_seconds(),
        window_seconds: cutter.input().window_seconds(),
        seconds: graph.seconds,
        skipped_packets: graph.skipped_packets,
        missing_seconds: graph.missing_seconds,
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

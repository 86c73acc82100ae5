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
/// and the mood model beside it): each outcome equals [`FileAnalyzer::analyze`]'s. A file that
/// cannot be decoded is the error of all; one silent or too short for a model's window is that
/// model's error.
pub fn analyze_together(
    analyzers: &mut [&mut FileAnalyzer],
    path: &Path,
) -> Result<Vec<Result<ClipAnalysis, Error>>, Error> {
    let rates: Vec<u32> = analyzers
        .iter()
        .map(|a| a.cutter.input().sample_rate())
        .collect();
    let decoded = decode_mono_at_rates(path, &rates)?;
    Ok(analyzers
        .iter_mut()
        .zip(decoded)
        .map(|(analyzer, audio)| {
            let cut = windows_of(&analyzer.cutter, audio, path)?;
            classify(&mut analyzer.model, &analyzer.cutter, cut)
        })
        .collect())
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
    let outputs = model.outputs(cut.windows.view())?;
    drop(cut.windows);
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
        seconds: cut.seconds,
        skipped_packets: cut.skipped_packets,
        missing_seconds: cut.missing_seconds,
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

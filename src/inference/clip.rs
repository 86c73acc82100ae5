//! Offline analysis of a whole file: decode, cut every model window, run the model. `analyze`
//! and `cargo xtask eval` both classify files here; `cargo xtask embed` cuts its windows here.

use std::path::Path;

use ndarray::{Array2, Array3, Axis};

use super::model::GenreModel;
use super::windows::WindowCutter;
use crate::decode::decode_mono_at;

/// Window probabilities of one file.
#[derive(Debug, Clone)]
pub struct ClipAnalysis {
    /// `[windows, labels]`; window `i` starts at `i × hop_seconds`.
    pub windows: Array2<f32>,
    /// Seconds between window starts.
    pub hop_seconds: f32,
    /// Length of one window in seconds.
    pub window_seconds: f32,
    /// Length of the decoded audio in seconds.
    pub seconds: f64,
}

impl ClipAnalysis {
    /// The clip's distribution: the mean of its window probabilities (the same aggregate the
    /// plugin's track summary keeps).
    pub fn mean(&self) -> Vec<f32> {
        self.windows
            .mean_axis(Axis(0))
            .expect("at least one window")
            .to_vec()
    }
}

/// Decodes `path`, resamples it to the model's rate and cuts every window
/// (`[windows, frames, width]`, at least one); also returns the audio's length in seconds.
/// Silent files are an error.
pub fn file_windows(cutter: &WindowCutter, path: &Path) -> Result<(Array3<f32>, f64), String> {
    let audio = decode_mono_at(path, cutter.input().sample_rate()).map_err(|e| e.reason)?;
    audio.audible()?;
    let windows = cutter.windows(&audio.samples);
    if windows.dim().0 == 0 {
        return Err(format!(
            "too short for one {:.1}-s window ({:.1} s)",
            cutter.input().window_seconds(),
            audio.seconds()
        ));
    }
    Ok((windows, audio.seconds()))
}

/// Decodes `path`, resamples it to the model's rate and classifies every window.
pub fn analyze_file(
    model: &mut GenreModel,
    cutter: &WindowCutter,
    path: &Path,
) -> Result<ClipAnalysis, String> {
    let (windows, seconds) = file_windows(cutter, path)?;
    let windows = model
        .probabilities(windows.view())
        .map_err(|e| e.to_string())?;
    Ok(ClipAnalysis {
        windows,
        hop_seconds: cutter.input().hop_seconds(),
        window_seconds: cutter.input().window_seconds(),
        seconds,
    })
}

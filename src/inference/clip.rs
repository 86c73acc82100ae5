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
    /// Packets the decoder could not read and skipped (their audio is missing).
    pub skipped_packets: usize,
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

/// Every model window of one file.
pub struct FileWindows {
    /// `[windows, frames, width]`, at least one.
    pub windows: Array3<f32>,
    /// Length of the decoded audio in seconds.
    pub seconds: f64,
    /// Packets the decoder could not read and skipped.
    pub skipped_packets: usize,
}

/// Decodes `path`, resamples it to the model's rate and cuts every window. Silent files are an
/// error.
pub fn file_windows(cutter: &WindowCutter, path: &Path) -> Result<FileWindows, String> {
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
    Ok(FileWindows {
        windows,
        seconds: audio.seconds(),
        skipped_packets: audio.skipped_packets,
    })
}

/// Decodes `path`, resamples it to the model's rate and classifies every window.
pub fn analyze_file(
    model: &mut GenreModel,
    cutter: &WindowCutter,
    path: &Path,
) -> Result<ClipAnalysis, String> {
    let cut = file_windows(cutter, path)?;
    let windows = model
        .probabilities(cut.windows.view())
        .map_err(|e| e.to_string())?;
    Ok(ClipAnalysis {
        windows,
        hop_seconds: cutter.input().hop_seconds(),
        window_seconds: cutter.input().window_seconds(),
        seconds: cut.seconds,
        skipped_packets: cut.skipped_packets,
    })
}

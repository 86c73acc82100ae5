//! Audio → model windows, for every [`ModelInput`]. Training, `eval`, `analyze` and the plugin
//! all cut windows here.

use ndarray::{s, Array2, Array3, ArrayView2};

use super::metadata::ModelInput;
use crate::features::config::standardise;
use crate::features::descriptors::{clip_summary, SUMMARY_LEN};
use crate::features::FeatureExtractor;
use crate::Error;

/// Cuts the windows a model sees out of mono audio at [`ModelInput::sample_rate`].
pub struct WindowCutter {
    input: ModelInput,
    extractor: Option<FeatureExtractor>,
}

impl WindowCutter {
    pub fn new(input: &ModelInput) -> Result<Self, Error> {
        Ok(Self {
            input: input.clone(),
            extractor: input.frame_extractor()?,
        })
    }

    pub fn input(&self) -> &ModelInput {
        &self.input
    }

    /// All windows of a clip, `[windows, frames, width]`; none when the clip is shorter than
    /// one window.
    pub fn windows(&self, samples: &[f32]) -> Array3<f32> {
        match (&self.input, &self.extractor) {
            (ModelInput::Frames { hop_frames, .. }, Some(extractor)) => {
                frame_windows(extractor, extractor.frames(samples).view(), *hop_frames)
            }
            (
                ModelInput::Descriptors {
                    sample_rate,
                    window_seconds,
                    hop_seconds,
                    mean,
                    std,
                },
                _,
            ) => {
                let raw = descriptor_windows(samples, *sample_rate, *window_seconds, *hop_seconds);
                let mut windows = raw.insert_axis(ndarray::Axis(1));
                standardise(
                    windows.as_slice_mut().expect("owned arrays are contiguous"),
                    mean,
                    std,
                );
                windows
            }
            (
                ModelInput::Hybrid {
                    hop_seconds,
                    mean,
                    std,
                    ..
                },
                Some(extractor),
            ) => hybrid_windows(extractor, samples, *hop_seconds, (mean, std)),
            _ => unreachable!("frame and hybrid inputs always have an extractor"),
        }
    }
}

/// Every `hop` frames a window of `extractor.config().frames` frames through the window step
/// (`top_db`, DCT, normalisation). Windows never cross clips, so a clip-level split is also a
/// window-level one.
pub fn frame_windows(
    extractor: &FeatureExtractor,
    frames: ArrayView2<f32>,
    hop: usize,
) -> Array3<f32> {
    let len = extractor.config().frames;
    let width = extractor.config().feature_width();
    let starts = window_starts(frames.nrows(), len, hop);
    let mut out = Array3::zeros((starts.len(), len, width));
    for (i, start) in starts.into_iter().enumerate() {
        out.slice_mut(s![i, .., ..])
            .assign(&extractor.finish_window(frames.slice(s![start..start + len, ..])));
    }
    out
}

/// [`ModelInput::Hybrid`] windows: every `hop_seconds`, the frame features of a window's own
/// samples (its first `frames` frames, through the window step) and a last row with the
/// window's descriptor vector standardised by `mean`/`std`, zero-padded to the row width.
pub fn hybrid_windows(
    extractor: &FeatureExtractor,
    samples: &[f32],
    hop_seconds: f32,
    (mean, std): (&[f32], &[f32]),
) -> Array3<f32> {
    let config = extractor.config();
    let (frames, width) = (config.frames, config.feature_width());
    let len = frames * config.hop_length;
    let hop = (hop_seconds * config.sample_rate as f32).round() as usize;
    let starts = window_starts(samples.len(), len, hop);
    let mut out = Array3::zeros((starts.len(), frames + 1, width));
    for (i, start) in starts.into_iter().enumerate() {
        let window = &samples[start..start + len];
        let features = extractor.frames(window);
        out.slice_mut(s![i, ..frames, ..])
            .assign(&extractor.finish_window(features.slice(s![..frames, ..])));
        let mut descriptors = descriptor_vector(window, config.sample_rate);
        standardise(&mut descriptors, mean, std);
        for (cell, value) in out.slice_mut(s![i, frames, ..]).iter_mut().zip(descriptors) {
            *cell = value;
        }
    }
    out
}

/// Raw (unstandardised) descriptor vectors `[windows, 57]` of `window_seconds`-long windows
/// every `hop_seconds`.
pub fn descriptor_windows(
    samples: &[f32],
    sample_rate: u32,
    window_seconds: f32,
    hop_seconds: f32,
) -> Array2<f32> {
    let len = (window_seconds * sample_rate as f32).round() as usize;
    let hop = (hop_seconds * sample_rate as f32).round() as usize;
    let rows: Vec<Vec<f32>> = window_starts(samples.len(), len, hop)
        .into_iter()
        .map(|start| descriptor_vector(&samples[start..start + len], sample_rate))
        .collect();
    Array2::from_shape_vec((rows.len(), SUMMARY_LEN), rows.concat()).expect("equal rows")
}

/// Starts of every whole window of `len` items, `hop` (at least 1) apart, in `total` items.
fn window_starts(total: usize, len: usize, hop: usize) -> Vec<usize> {
    (0..=total.saturating_sub(len))
        .step_by(hop.max(1))
        .filter(|start| start + len <= total)
        .collect()
}

/// The raw descriptor vector ([`SUMMARY_LEN`] values) of `samples` at `sample_rate` Hz.
fn descriptor_vector(samples: &[f32], sample_rate: u32) -> Vec<f32> {
    clip_summary(samples, sample_rate)
        .into_iter()
        .map(|(_, v)| v)
        .collect()
}

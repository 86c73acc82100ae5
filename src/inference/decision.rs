//! From window outputs to what is shown, the same way live and offline: the plugin's worker,
//! `analyze` and `cargo xtask eval` all push window outputs through a [`Decision`].
//!
//! - A per-window model: each window's calibrated probabilities are its answer; the track is
//!   their mean.
//! - A pooled model ([`PooledContext`]): each window's answer is the head over the pooled
//!   embeddings of the last `windows` windows (the context grows from one window at the
//!   start); the track's answer is the head over every window since the last reset. Tags are
//!   the mean tag probabilities of the same windows.

use std::collections::VecDeque;

use super::context::{Accumulator, PooledContext};
use super::metadata::OutputKind;
use super::model::{calibrate_row, GenreModel, ModelError};

/// One answer: probabilities per label, and the mean tag probabilities behind it (empty for
/// models without tags).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Answer {
    pub probabilities: Vec<f32>,
    pub tags: Vec<f32>,
}

/// The state between windows: the live context and the track since the last reset.
#[derive(Debug, Clone, Default)]
pub struct Decision {
    /// Last window outputs, oldest first; at most the context length (pooled models only).
    context: VecDeque<Vec<f32>>,
    /// Pooled models: every window output since the reset; per-window models: every answer.
    track: Accumulator,
}

impl Decision {
    /// Adds one window's raw output (a row of [`GenreModel::outputs`]) and returns the answer
    /// for the context ending with it.
    pub fn push(&mut self, model: &mut GenreModel, output: &[f32]) -> Result<Answer, ModelError> {
        let Some(context) = model.metadata.context.clone() else {
            let mut probabilities = output.to_vec();
            if model.metadata.output == OutputKind::Softmax {
                calibrate_row(&mut probabilities, model.metadata.calibration.temperature);
            }
            self.track.push(&probabilities);
            return Ok(Answer {
                probabilities,
                tags: Vec::new(),
            });
        };
        if self.context.len() == context.windows {
            self.context.pop_front();
        }
        self.context.push_back(output.to_vec());
        self.track.push(output);
        let live = Accumulator::of(self.context.iter().map(Vec::as_slice));
        answer(model, &context, &live)
    }

    /// The answer for every window since the last reset (`None` before the first).
    pub fn track(&self, model: &mut GenreModel) -> Result<Option<Answer>, ModelError> {
        if self.track.windows() == 0 {
            return Ok(None);
        }
        match model.metadata.context.clone() {
            Some(context) => answer(model, &context, &self.track).map(Some),
            None => Ok(Some(Answer {
                probabilities: self.track.mean(0..model.metadata.labels.len()),
                tags: Vec::new(),
            })),
        }
    }

    /// Windows in the track.
    pub fn track_windows(&self) -> u64 {
        self.track.windows()
    }

    /// Starts the live context again (the audio before is not the context of what follows),
    /// keeping the track.
    pub fn reset_context(&mut self) {
        self.context.clear();
    }

    /// Starts a new track: the live context starts again too (a new piece of music).
    pub fn reset(&mut self) {
        self.context.clear();
        self.track.clear();
    }
}

fn answer(
    model: &mut GenreModel,
    context: &PooledContext,
    windows: &Accumulator,
) -> Result<Answer, ModelError> {
    Ok(Answer {
        probabilities: model.head(&windows.pooled(context.embedding, &context.pools))?,
        tags: windows.mean(context.embedding..context.window_width()),
    })
}

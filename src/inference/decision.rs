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
use super::model::{calibrate_row, GenreModel};
use crate::Error;

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
    pub fn push(&mut self, model: &mut GenreModel, output: &[f32]) -> Result<Answer, Error> {
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
    pub fn track(&self, model: &mut GenreModel) -> Result<Option<Answer>, Error> {
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

    /// Windows behind the latest answer: the live context's length (1 for a per-window model).
    pub fn context_windows(&self) -> usize {
        self.context
            .len()
            .max(usize::from(self.track.windows() > 0))
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

/// Indices of `probabilities` (or any scores) from most to least likely; NaN ranks by
/// `f32::total_cmp`.
pub fn ranked(probabilities: &[f32]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..probabilities.len()).collect();
    order.sort_by(|&a, &b| probabilities[b].total_cmp(&probabilities[a]));
    order
}

/// The `n` most likely tags, most likely first: names from `labels`, probabilities from
/// `values` (an [`Answer::tags`]); empty when the model has no tags.
pub fn top_tags<'a>(labels: &'a [String], values: &[f32], n: usize) -> Vec<(&'a str, f32)> {
    ranked(values)
        .into_iter()
        .filter(|&i| i < labels.len())
        .take(n)
        .map(|i| (labels[i].as_str(), values[i]))
        .collect()
}

fn answer(
    model: &mut GenreModel,
    context: &PooledContext,
    windows: &Accumulator,
) -> Result<Answer, Error> {
    Ok(Answer {
        probabilities: model.head(&windows.pooled(context.embedding, &context.pools))?,
        tags: windows.mean(context.embedding..context.window_width()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inference::{ModelChoice, Provider};

    #[test]
    fn ranked_orders_most_likely_first() {
        assert_eq!(ranked(&[0.3, 0.7]), vec![1, 0]);
        assert_eq!(ranked(&[0.2, 0.5, 0.3]), vec![1, 2, 0]);
        assert!(ranked(&[]).is_empty());
    }

    /// Window outputs shaped like the built-in model's, distinct per window.
    fn rows(n: usize, width: usize) -> Vec<Vec<f32>> {
        (0..n)
            .map(|i| {
                (0..width)
                    .map(|j| ((i * 31 + j * 7) % 17) as f32 / 17.0)
                    .collect()
            })
            .collect()
    }

    #[test]
    fn the_live_context_grows_to_its_length_then_slides_and_the_track_pools_everything() {
        let runtime = crate::inference::runtime::for_tests();
        let mut model = ModelChoice::Builtin.load(&runtime, Provider::Cpu).unwrap();
        let context = model
            .metadata
            .context
            .clone()
            .expect("the built-in model is pooled");
        let rows = rows(context.windows + 3, context.window_width());
        let pooled = |rows: &[Vec<f32>]| {
            Accumulator::of(rows.iter().map(Vec::as_slice))
                .pooled(context.embedding, &context.pools)
        };
        let mut decision = Decision::default();
        for (i, row) in rows.iter().enumerate() {
            let answer = decision.push(&mut model, row).unwrap();
            let window = &rows[(i + 1).saturating_sub(context.windows)..=i];
            assert_eq!(
                answer.probabilities,
                model.head(&pooled(window)).unwrap(),
                "window {i}"
            );
            let tags = Accumulator::of(window.iter().map(Vec::as_slice))
                .mean(context.embedding..context.window_width());
            assert_eq!(answer.tags, tags);
            assert!((answer.probabilities.iter().sum::<f32>() - 1.0).abs() < 1e-4);
        }
        let track = decision.track(&mut model).unwrap().unwrap();
        assert_eq!(track.probabilities, model.head(&pooled(&rows)).unwrap());
        assert_eq!(decision.track_windows(), rows.len() as u64);
        decision.reset();
        assert!(decision.track(&mut model).unwrap().is_none());
    }

    #[test]
    fn a_per_window_model_answers_each_window_and_averages_the_track() {
        let runtime = crate::inference::runtime::for_tests();
        let mut model = ModelChoice::MfccCnn.load(&runtime, Provider::Cpu).unwrap();
        let labels = model.metadata.labels.len();
        let mut decision = Decision::default();
        let softmax = |i: usize| -> Vec<f32> {
            let raw: Vec<f32> = (0..labels).map(|j| ((i + j) % 3 + 1) as f32).collect();
            let sum: f32 = raw.iter().sum();
            raw.iter().map(|x| x / sum).collect()
        };
        let mut answers = Vec::new();
        for i in 0..4 {
            let answer = decision.push(&mut model, &softmax(i)).unwrap();
            let mut expected = softmax(i);
            calibrate_row(&mut expected, model.metadata.calibration.temperature);
            assert_eq!(answer.probabilities, expected);
            assert!(answer.tags.is_empty());
            answers.push(expected);
        }
        let track = decision.track(&mut model).unwrap().unwrap();
        for (j, p) in track.probabilities.iter().enumerate() {
            let mean = answers.iter().map(|a| a[j]).sum::<f32>() / 4.0;
            assert!((p - mean).abs() < 1e-6);
        }
    }
}

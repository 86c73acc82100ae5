//! Classification metrics shared by training (validation) and `eval`: clip-level aggregation of
//! window probabilities, the confusion matrix, accuracy, per-class precision/recall/F1 and
//! macro-F1.

use serde::Serialize;

/// Mean of the window probabilities of each clip. `clip_of[w]` is the clip of window `w`
/// (`0..clips`); returns `clips × classes`.
pub fn clip_probabilities(
    window_probabilities: &[Vec<f32>],
    clip_of: &[usize],
    clips: usize,
) -> Vec<Vec<f32>> {
    let classes = window_probabilities.first().map_or(0, Vec::len);
    let mut sums = vec![vec![0.0f32; classes]; clips];
    let mut counts = vec![0usize; clips];
    for (p, &clip) in window_probabilities.iter().zip(clip_of) {
        for (s, v) in sums[clip].iter_mut().zip(p) {
            *s += v;
        }
        counts[clip] += 1;
    }
    for (row, &n) in sums.iter_mut().zip(&counts) {
        row.iter_mut().for_each(|v| *v /= n.max(1) as f32);
    }
    sums
}

/// Mean and sample standard deviation (n − 1 in the denominator; 0 for fewer than two values)
/// of fold scores, draws and other repeated measurements.
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, var.sqrt())
}

pub fn argmax(values: &[f32]) -> usize {
    values
        .iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, &v)| {
            if v > best.1 {
                (i, v)
            } else {
                best
            }
        })
        .0
}

/// Per-class figures.
#[derive(Debug, Clone, Serialize)]
pub struct ClassScores {
    pub label: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: usize,
}

/// `matrix[truth][predicted]` counts.
#[derive(Debug, Clone, Serialize)]
pub struct Confusion {
    pub labels: Vec<String>,
    pub matrix: Vec<Vec<usize>>,
}

impl Confusion {
    pub fn new(labels: &[String], truth: &[usize], predicted: &[usize]) -> Self {
        let n = labels.len();
        let mut matrix = vec![vec![0; n]; n];
        for (&t, &p) in truth.iter().zip(predicted) {
            matrix[t][p] += 1;
        }
        Self {
            labels: labels.to_vec(),
            matrix,
        }
    }

    pub fn total(&self) -> usize {
        self.matrix.iter().flatten().sum()
    }

    pub fn accuracy(&self) -> f64 {
        let correct: usize = (0..self.labels.len()).map(|i| self.matrix[i][i]).sum();
        correct as f64 / self.total().max(1) as f64
    }

    /// Precision, recall and F1 of every class (0 where undefined).
    pub fn per_class(&self) -> Vec<ClassScores> {
        let n = self.labels.len();
        (0..n)
            .map(|c| {
                let tp = self.matrix[c][c] as f64;
                let support: usize = self.matrix[c].iter().sum();
                let predicted: usize = (0..n).map(|t| self.matrix[t][c]).sum();
                let precision = if predicted > 0 {
                    tp / predicted as f64
                } else {
                    0.0
                };
                let recall = if support > 0 {
                    tp / support as f64
                } else {
                    0.0
                };
                let f1 = if precision + recall > 0.0 {
                    2.0 * precision * recall / (precision + recall)
                } else {
                    0.0
                };
                ClassScores {
                    label: self.labels[c].clone(),
                    precision,
                    recall,
                    f1,
                    support,
                }
            })
            .collect()
    }

    /// Mean F1 over the classes that occur in the truth.
    pub fn macro_f1(&self) -> f64 {
        let scores: Vec<f64> = self
            .per_class()
            .iter()
            .filter(|s| s.support > 0)
            .map(|s| s.f1)
            .collect();
        scores.iter().sum::<f64>() / scores.len().max(1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_a_known_confusion() {
        let labels: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        // truth a a a b b c ; predicted a a b b c c
        let c = Confusion::new(&labels, &[0, 0, 0, 1, 1, 2], &[0, 0, 1, 1, 2, 2]);
        assert_eq!(c.matrix, vec![vec![2, 1, 0], vec![0, 1, 1], vec![0, 0, 1]]);
        assert!((c.accuracy() - 4.0 / 6.0).abs() < 1e-12);
        let s = c.per_class();
        assert!((s[0].precision - 1.0).abs() < 1e-12 && (s[0].recall - 2.0 / 3.0).abs() < 1e-12);
        assert!((s[0].f1 - 0.8).abs() < 1e-12);
        assert!((s[1].f1 - 0.5).abs() < 1e-12);
        assert!((s[2].f1 - 2.0 / 3.0).abs() < 1e-12);
        assert!((c.macro_f1() - (0.8 + 0.5 + 2.0 / 3.0) / 3.0).abs() < 1e-12);
    }

    #[test]
    fn clip_probabilities_average_windows() {
        let p = clip_probabilities(
            &[vec![1.0, 0.0], vec![0.0, 1.0], vec![0.2, 0.8]],
            &[0, 0, 1],
            2,
        );
        assert_eq!(p, vec![vec![0.5, 0.5], vec![0.2, 0.8]]);
        assert_eq!(argmax(&p[1]), 1);
    }
}

//! Temperature scaling (Guo et al. 2017): one scalar `T` fitted on the validation windows so
//! that `softmax(log p / T)` minimises their negative log-likelihood. The plugin shows
//! probabilities, so they should mean what they say; expected calibration error (ECE) is
//! reported before and after.

use genrescope::inference::model::calibrate;

use crate::metrics::{argmax, mean_std};
use ndarray::{ArrayView2, Axis};
use rand::distr::weighted::WeightedIndex;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// Confidence bins of the expected calibration error.
pub const ECE_BINS: usize = 15;

/// Search range of the temperature.
const T_RANGE: (f32, f32) = (0.05, 20.0);

/// The fitted temperature and what it did on the data it was fitted on.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Fitted {
    pub temperature: f32,
    pub windows: usize,
    pub nll_before: f64,
    pub nll_after: f64,
    pub ece_before: f64,
    pub ece_after: f64,
}

/// Fits the temperature on window probabilities `[windows, classes]` (softmax outputs) and
/// their true classes.
pub fn fit(probabilities: ArrayView2<f32>, labels: &[usize]) -> Fitted {
    let nll_at = |t: f32| nll(calibrate(probabilities.to_owned(), t).view(), labels);
    // Golden-section search on log T: the NLL is unimodal in T for temperature scaling.
    let (mut lo, mut hi) = (T_RANGE.0.ln(), T_RANGE.1.ln());
    let ratio = (5f32.sqrt() - 1.0) / 2.0;
    let (mut a, mut b) = (hi - ratio * (hi - lo), lo + ratio * (hi - lo));
    let (mut fa, mut fb) = (nll_at(a.exp()), nll_at(b.exp()));
    for _ in 0..40 {
        if fa < fb {
            hi = b;
            (b, fb) = (a, fa);
            a = hi - ratio * (hi - lo);
            fa = nll_at(a.exp());
        } else {
            lo = a;
            (a, fa) = (b, fb);
            b = lo + ratio * (hi - lo);
            fb = nll_at(b.exp());
        }
    }
    let temperature = ((lo + hi) / 2.0).exp();
    let after = calibrate(probabilities.to_owned(), temperature);
    Fitted {
        temperature,
        windows: labels.len(),
        nll_before: nll(probabilities, labels),
        nll_after: nll(after.view(), labels),
        ece_before: ece(probabilities, labels),
        ece_after: ece(after.view(), labels),
    }
}

impl Fitted {
    /// How the fit is recorded in a model's `metrics.calibration`.
    pub fn to_metrics(self) -> serde_json::Value {
        serde_json::json!({
            "method": "temperature scaling fitted on the validation windows (NLL); ECE over 15 bins",
            "fitted": self,
        })
    }
}

/// Mean negative log-likelihood of the true classes.
pub fn nll(probabilities: ArrayView2<f32>, labels: &[usize]) -> f64 {
    let total: f64 = probabilities
        .axis_iter(Axis(0))
        .zip(labels)
        .map(|(row, &y)| -f64::from(row[y].max(1e-12)).ln())
        .sum();
    total / labels.len().max(1) as f64
}

/// Expected calibration error of the top-class confidence over [`ECE_BINS`] equal-width bins:
/// the sample-weighted mean |accuracy − confidence| per bin.
pub fn ece(probabilities: ArrayView2<f32>, labels: &[usize]) -> f64 {
    let mut bins = [(0usize, 0f64, 0f64); ECE_BINS];
    for (row, &y) in probabilities.axis_iter(Axis(0)).zip(labels) {
        let row = row.as_slice().expect("probability rows are contiguous");
        let top = argmax(row);
        let confidence = row[top];
        let bin = ((confidence * ECE_BINS as f32) as usize).min(ECE_BINS - 1);
        bins[bin].0 += 1;
        bins[bin].1 += f64::from(confidence);
        bins[bin].2 += f64::from(u8::from(top == y));
    }
    let n = labels.len().max(1) as f64;
    bins.iter()
        .filter(|(count, ..)| *count > 0)
        .map(|&(_, conf, hits)| (hits - conf).abs() / n)
        .sum()
}

/// The ECE a perfectly calibrated model with these probabilities would still show on this many
/// clips: each draw replaces the labels by labels drawn from the rows themselves, so every
/// confidence is exactly right in expectation and what remains is the sampling noise of
/// [`ECE_BINS`] bins. Mean and standard deviation over `draws` draws (seeded, reproducible).
pub fn ece_floor(probabilities: ArrayView2<f32>, draws: usize, seed: u64) -> (f64, f64) {
    let rows: Vec<WeightedIndex<f32>> = probabilities
        .axis_iter(Axis(0))
        .map(|row| WeightedIndex::new(row).expect("probability rows: non-negative, not all zero"))
        .collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let values: Vec<f64> = (0..draws)
        .map(|_| {
            let labels: Vec<usize> = rows.iter().map(|row| rng.sample(row)).collect();
            ece(probabilities, &labels)
        })
        .collect();
    mean_std(&values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array2};

    #[test]
    fn ece_of_perfectly_calibrated_and_overconfident_predictions() {
        // Confidence 0.75 and right 3 times out of 4: calibrated.
        let p = array![[0.75f32, 0.25], [0.75, 0.25], [0.75, 0.25], [0.75, 0.25]];
        assert!(ece(p.view(), &[0, 0, 0, 1]) < 1e-6);
        // Confidence 0.99 and right half the time: ECE 0.49.
        let p = array![[0.99f32, 0.01], [0.99, 0.01]];
        assert!((ece(p.view(), &[0, 1]) - 0.49).abs() < 1e-6);
    }

    #[test]
    fn an_overconfident_model_gets_a_temperature_above_one() {
        // Softmax of logits ×3 of a model whose true confidence is the unscaled softmax.
        let mut rows = Vec::new();
        let mut labels = Vec::new();
        for i in 0..400 {
            let hit = i % 10 < 7; // right 70 % of the time
            rows.extend([0.97f32, 0.015, 0.015]);
            labels.push(if hit { 0 } else { 1 + i % 2 });
        }
        let p = Array2::from_shape_vec((400, 3), rows).unwrap();
        let fitted = fit(p.view(), &labels);
        assert!(fitted.temperature > 1.5, "{fitted:?}");
        assert!(fitted.nll_after < fitted.nll_before, "{fitted:?}");
        assert!(fitted.ece_after < fitted.ece_before / 5.0, "{fitted:?}");
    }

    #[test]
    fn the_ece_floor_is_the_sampling_noise_of_a_calibrated_model() {
        // Two classes at 0.5: the one bin's accuracy is Binomial(n, 0.5) / n, so the floor is
        // E|B/n − 0.5| = √(1 / (2πn)) to first order: 0.040 for 100 clips, 0.004 for 10 000.
        let floor = |n: usize| {
            let p = Array2::from_elem((n, 2), 0.5f32);
            ece_floor(p.view(), 400, 7)
        };
        let (small, small_std) = floor(100);
        let (large, _) = floor(10_000);
        assert!((small - 0.040).abs() < 0.006, "{small} ± {small_std}");
        assert!(
            small_std > 0.01,
            "the floor of 100 clips varies: {small_std}"
        );
        assert!((large - 0.004).abs() < 0.001, "{large}");
        // Certain and right: no noise at all.
        let sure = Array2::from_shape_fn((50, 3), |(_, k)| if k == 1 { 1.0f32 } else { 0.0 });
        assert!(ece_floor(sure.view(), 50, 7).0 < 1e-6);
        // The same seed gives the same floor.
        assert_eq!(floor(100), (small, small_std));
    }
}

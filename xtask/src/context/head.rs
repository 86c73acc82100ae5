//! The genre head of a pooled model: standardisation, then a regularised logistic regression
//! or a small MLP over pooled window statistics, trained full-batch with Adam on the
//! partial-label loss: `−log Σ_{k ∈ S} p_k` for a clip that may be any genre of `S` (the usual
//! cross-entropy when `S` has one genre), each clip weighted so that every genre weighs the
//! same in total.

use burn::module::Module;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor, TensorData};
use ndarray::{Array2, ArrayView2, Axis};
use serde::Serialize;

use crate::onnx::{layers, Graph};
use crate::train::models::blocks::DenseHead;

/// The classifier on standardised pooled features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Classifier {
    /// Multinomial logistic regression.
    Logistic,
    /// One hidden ReLU layer of this width, with dropout before the output layer.
    Mlp(usize),
}

impl Classifier {
    pub fn name(self) -> String {
        match self {
            Classifier::Logistic => "logistic".into(),
            Classifier::Mlp(width) => format!("mlp-{width}"),
        }
    }
}

/// How a head is trained.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct HeadConfig {
    pub classifier: Classifier,
    /// L2 penalty (Adam's coupled weight decay).
    pub weight_decay: f64,
    pub steps: usize,
    pub learning_rate: f64,
    /// MLP only.
    pub dropout: f64,
    pub seed: u64,
}

/// A trained head: `softmax(net((x − mean) / std))`.
pub struct Head {
    mean: Vec<f32>,
    std: Vec<f32>,
    net: DenseHead,
}

/// Per-feature mean and standard deviation of `x`'s rows; a constant feature gets 1.
fn standardisation(x: ArrayView2<f32>) -> (Vec<f32>, Vec<f32>) {
    let mean = x.mean_axis(Axis(0)).expect("rows").to_vec();
    let std = x
        .std_axis(Axis(0), 0.0)
        .iter()
        .map(|&s| if s > 1e-6 { s } else { 1.0 })
        .collect();
    (mean, std)
}

fn standardised(x: ArrayView2<f32>, mean: &[f32], std: &[f32]) -> Array2<f32> {
    let mut x = x.to_owned();
    for mut row in x.rows_mut() {
        for ((v, m), s) in row.iter_mut().zip(mean).zip(std) {
            *v = (*v - m) / s;
        }
    }
    x
}

fn tensor(x: &Array2<f32>, device: &Device) -> Tensor<2> {
    let (n, d) = x.dim();
    Tensor::from_data(
        TensorData::new(x.iter().copied().collect::<Vec<f32>>(), [n, d]),
        device,
    )
}

/// Genre weights `n / (classes · n_k)` with `n_k` counting each clip as `1 / |S|` of every
/// candidate, and each clip's weight: the mean weight of its candidates.
fn clip_weights(candidates: &[Vec<usize>], classes: usize) -> Vec<f32> {
    let mut counts = vec![0.0f32; classes];
    for set in candidates {
        for &k in set {
            counts[k] += 1.0 / set.len() as f32;
        }
    }
    let n = candidates.len() as f32;
    let genre: Vec<f32> = counts
        .iter()
        .map(|&c| n / (classes as f32 * c.max(1e-3)))
        .collect();
    candidates
        .iter()
        .map(|set| set.iter().map(|&k| genre[k]).sum::<f32>() / set.len() as f32)
        .collect()
}

/// Trains a head on rows `x` whose clips may be any genre of `candidates[i]`.
pub fn train(
    x: ArrayView2<f32>,
    candidates: &[Vec<usize>],
    classes: usize,
    config: &HeadConfig,
) -> Head {
    let (mean, std) = standardisation(x);
    let device = Device::flex().autodiff();
    device.seed(config.seed);
    let (hidden, dropout) = match config.classifier {
        Classifier::Logistic => (vec![], 0.0),
        Classifier::Mlp(width) => (vec![width], config.dropout),
    };
    let mut net = DenseHead::new(x.ncols(), &hidden, dropout, classes, &device);
    let inputs = tensor(&standardised(x, &mean, &std), &device);
    let mut mask = Array2::<f32>::zeros((candidates.len(), classes));
    for (i, set) in candidates.iter().enumerate() {
        for &k in set {
            mask[[i, k]] = 1.0;
        }
    }
    let mask = tensor(&mask, &device);
    let weights = clip_weights(candidates, classes);
    let total: f32 = weights.iter().sum();
    let weights: Tensor<1> =
        Tensor::from_data(TensorData::new(weights, [candidates.len()]), &device);
    let mut optimizer = AdamConfig::new()
        .with_weight_decay(Some(WeightDecayConfig::new(config.weight_decay as f32)))
        .init();
    for _ in 0..config.steps {
        let p = softmax(net.forward(inputs.clone()), 1);
        let in_set: Tensor<1> = (p * mask.clone()).sum_dim(1).squeeze_dim(1);
        let loss = (in_set.clamp_min(1e-7).log().neg() * weights.clone()).sum() / total;
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        net = optimizer.step(config.learning_rate, net, grads);
    }
    Head {
        mean,
        std,
        net: net.valid(),
    }
}

impl Head {
    /// Weights of the classifier (the standardisation's mean and std are constants beside it).
    pub fn parameters(&self) -> usize {
        self.net.num_params()
    }

    /// Probabilities `[rows, classes]`.
    pub fn predict(&self, x: ArrayView2<f32>) -> Array2<f32> {
        let device = Device::flex();
        let logits = self
            .net
            .forward(tensor(&standardised(x, &self.mean, &self.std), &device));
        let [n, classes] = logits.dims();
        let values: Vec<f32> = softmax(logits, 1)
            .into_data()
            .try_to_vec()
            .expect("f32 probabilities");
        Array2::from_shape_vec((n, classes), values).expect("shape")
    }

    /// Appends the head to `g`, reading `x` (`[batch, features]`); returns its probabilities.
    pub fn export(&self, g: &mut Graph, x: &str) -> String {
        let width = self.mean.len();
        let mean = g.float("mean", &[width], &self.mean);
        let std = g.float("std", &[width], &self.std);
        let centred = g.node("Sub", &[x, &mean], vec![]);
        let x = g.node("Div", &[&centred, &std], vec![]);
        let logits = self.net.export(g, &x);
        layers::softmax(g, &logits)
    }

    /// The head as ONNX: input `[batch, features]` pooled statistics, output `[batch, classes]`
    /// probabilities.
    pub fn to_onnx(&self, classes: usize, doc: &str) -> Vec<u8> {
        let width = self.mean.len();
        let mut g = Graph::new();
        let probabilities = self.export(&mut g, "input");
        g.finish(
            ("input", &[None, Some(width)]),
            (&probabilities, &[None, Some(classes)]),
            "probabilities",
            doc,
        )
    }
}

/// The head of a model whose windows already answer: the pooled statistic is the mean window
/// distribution, and `softmax(log p̄)` returns it as it is (renormalised), so the model's
/// calibration applies to it like to any head's output.
pub fn mean_answer_onnx(classes: usize, doc: &str) -> Vec<u8> {
    let mut g = Graph::new();
    let floored = layers::clip(&mut g, "input", 1e-12, 1.0);
    let log = g.node("Log", &[&floored], vec![]);
    let probabilities = layers::softmax(&mut g, &log);
    g.finish(
        ("input", &[None, Some(classes)]),
        (&probabilities, &[None, Some(classes)]),
        "probabilities",
        doc,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two separable genres, and clips labelled "one of both" that must not pull either way.
    #[test]
    fn partial_labels_train_a_separating_head_and_the_export_matches() {
        let _device = crate::train::device_lock();
        let rows = 60;
        let x = Array2::from_shape_fn((rows, 3), |(i, j)| {
            let side = if i % 2 == 0 { 1.0 } else { -1.0 };
            match j {
                0 => side * (1.0 + (i % 7) as f32 / 7.0),
                1 => ((i * 13) % 5) as f32 / 5.0,
                _ => 3.0, // constant: standardised by 1
            }
        });
        let candidates: Vec<Vec<usize>> = (0..rows)
            .map(|i| match i % 6 {
                4 | 5 => vec![0, 1],
                _ => vec![i % 2],
            })
            .collect();
        let config = HeadConfig {
            classifier: Classifier::Logistic,
            weight_decay: 1e-3,
            steps: 200,
            learning_rate: 0.05,
            dropout: 0.0,
            seed: 1,
        };
        let head = train(x.view(), &candidates, 2, &config);
        let p = head.predict(x.view());
        for i in 0..rows {
            let predicted = if p[[i, 0]] > p[[i, 1]] { 0 } else { 1 };
            assert_eq!(predicted, i % 2, "row {i}: {:?}", p.row(i));
        }
        // The ONNX head computes what burn computes.
        let runtime = crate::train::models::tests::test_runtime();
        let onnx = head.to_onnx(2, "test");
        let mut session = genrescope::inference::model::session(
            &runtime,
            &onnx,
            genrescope::inference::Provider::Cpu,
        )
        .unwrap();
        let input = ort::value::TensorRef::from_array_view(x.view()).unwrap();
        let outputs = session.run(ort::inputs![input]).unwrap();
        let ours = outputs[0].try_extract_array::<f32>().unwrap();
        for (a, b) in ours.iter().zip(p.iter()) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
    }

    #[test]
    fn every_genre_weighs_the_same_in_total() {
        let candidates = vec![vec![0], vec![0], vec![0], vec![1], vec![0, 1]];
        let w = clip_weights(&candidates, 2);
        let genre_total = |k: usize| -> f32 {
            candidates
                .iter()
                .zip(&w)
                .map(|(s, w)| {
                    if s.contains(&k) {
                        w / s.len() as f32
                    } else {
                        0.0
                    }
                })
                .sum()
        };
        assert!(w[3] > w[0], "the rare genre's clip weighs more");
        // Unweighted, genre 0 would weigh 3.5 / 1.5 = 2.3 times genre 1.
        assert!(genre_total(0) / genre_total(1) < 1.25, "{w:?}");
    }
}

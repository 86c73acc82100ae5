//! The burn port against its own ONNX export (run by ONNX Runtime) on synthetic weights, so the
//! test needs no TensorFlow export; `cargo xtask musicnn check` ties the export to the original.

use std::collections::HashMap;

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use genrescope::inference::{GenreModel, Provider};
use ndarray::Array3;
use rand::{Rng, SeedableRng};
use serde_json::json;

use super::genre::{self, MusicnnGenre};
use super::graph::{self, EMBEDDING, FRAMES, MELS};
use super::net::{variable_shapes, Trunk};
use crate::train::fit::Classifier;
use crate::train::models::tests::test_runtime;
use crate::train::models::{Family, Hyper, Net};
use crate::weights::{Variable, Weights};

/// Random weights of the right shapes; variances are positive and every scale is moderate so
/// the activations stay in a realistic range.
pub fn synthetic_weights(seed: u64) -> Weights {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let variables: HashMap<String, Variable> = variable_shapes()
        .into_iter()
        .map(|(name, shape)| {
            let n: usize = shape.iter().product();
            let fan_in: usize = shape[..shape.len().saturating_sub(1)].iter().product();
            let values = (0..n)
                .map(|_| {
                    let u: f32 = rng.random_range(-1.0..1.0);
                    match name.rsplit('/').next() {
                        Some("moving_variance") => 0.5 + u.abs(),
                        Some("gamma") => 1.0 + 0.2 * u,
                        Some("kernel") => u * (3.0 / fan_in.max(1) as f32).sqrt(),
                        _ => 0.1 * u,
                    }
                })
                .collect();
            (name, Variable { shape, values })
        })
        .collect();
    Weights::from_variables(variables)
}

#[test]
fn burn_port_matches_its_onnx_export() {
    let _device = crate::train::device_lock();
    let weights = synthetic_weights(3);
    let device = Device::flex();
    let trunk = Trunk::new(&weights, &device).unwrap();
    let batch = 2;
    let x = Tensor::<3>::random(
        [batch, FRAMES, MELS],
        Distribution::Uniform(0.0, 3.0),
        &device,
    );
    let input: Vec<f32> = x.to_data().try_to_vec().unwrap();
    let expected: Vec<f32> = trunk.forward(x).into_data().try_to_vec().unwrap();

    let onnx = graph::embedding_model(&weights).unwrap();
    let metadata = super::transfer::embedder_metadata(FRAMES);
    let mut model =
        GenreModel::from_memory(&test_runtime(), &onnx, metadata, Provider::Cpu).unwrap();
    let patches = Array3::from_shape_vec((batch, FRAMES, MELS), input).unwrap();
    let actual = model.probabilities(patches.view()).unwrap();
    assert_eq!(actual.dim(), (batch, EMBEDDING));
    let max_diff = actual
        .iter()
        .zip(&expected)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    let scale = expected.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    println!("max |burn - onnxruntime| = {max_diff:e} (largest value {scale})");
    assert!(max_diff <= 1e-4 * scale.max(1.0), "{max_diff}");
    // Not degenerate: the two patches' embeddings differ.
    assert!((0..EMBEDDING).any(|i| (actual[[0, i]] - actual[[1, i]]).abs() > 1e-3));
}

#[test]
fn standardised_output_equals_standardising_the_embedding() {
    let _device = crate::train::device_lock();
    let weights = synthetic_weights(5);
    let device = Device::flex();
    let x = Tensor::<3>::random([1, FRAMES, MELS], Distribution::Uniform(0.0, 3.0), &device);
    let plain: Vec<f32> = Trunk::new(&weights, &device)
        .unwrap()
        .forward(x.clone())
        .into_data()
        .try_to_vec()
        .unwrap();
    let mean: Vec<f32> = (0..EMBEDDING).map(|i| 0.01 * i as f32 - 0.5).collect();
    let std: Vec<f32> = (0..EMBEDDING).map(|i| 0.5 + 0.02 * i as f32).collect();
    let folded: Vec<f32> = Trunk::new(&weights, &device)
        .unwrap()
        .standardise_output(&mean, &std)
        .forward(x)
        .into_data()
        .try_to_vec()
        .unwrap();
    for (k, (p, f)) in plain.iter().zip(&folded).enumerate() {
        let i = k % EMBEDDING;
        let expected = (p - mean[i]) / std[i];
        assert!(
            (f - expected).abs() <= 1e-4 * expected.abs().max(1.0),
            "{f} vs {expected}"
        );
    }
}

/// A fine-tuning step moves the network's weights (not only the head's), and the exported
/// graph still equals the burn model afterwards.
#[test]
fn fine_tuned_model_matches_its_onnx_export() {
    let _device = crate::train::device_lock();
    let classes = 3;
    let weights = synthetic_weights(9);
    let device = Device::flex().autodiff();
    device.seed(11);
    let hyper = Hyper {
        dense: vec![16],
        ..Hyper::default_for(Family::DescriptorMlp)
    };
    let model = MusicnnGenre {
        trunk: Trunk::new(&weights, &device).unwrap(),
        head: Net::new(
            Family::DescriptorMlp,
            &hyper,
            1,
            EMBEDDING,
            classes,
            &device,
        )
        .unwrap(),
    };
    let before: Vec<f32> = Trunk::new(&weights, &Device::flex())
        .unwrap()
        .forward(Tensor::ones([1, FRAMES, MELS], &Device::flex()))
        .into_data()
        .try_to_vec()
        .unwrap();
    // One Adam step at a high rate moves every weight that has a gradient.
    let x = Tensor::<3>::random([3, FRAMES, MELS], Distribution::Uniform(0.0, 3.0), &device);
    let y = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 1, 2], [3]), &device);
    let loss = CrossEntropyLossConfig::new()
        .init(&device)
        .forward(model.logits(x), y);
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    let model = AdamConfig::new().init().step(1e-2, model, grads);
    let model = model.valid();
    let plain = Device::flex();
    let moved: Vec<f32> = model
        .trunk
        .forward(Tensor::ones([1, FRAMES, MELS], &plain))
        .into_data()
        .try_to_vec()
        .unwrap();
    let change = moved
        .iter()
        .zip(&before)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(change > 1e-3, "the network did not train: {change}");

    let batch = 2;
    let x = Tensor::<3>::random(
        [batch, FRAMES, MELS],
        Distribution::Uniform(0.0, 3.0),
        &plain,
    );
    let input: Vec<f32> = x.to_data().try_to_vec().unwrap();
    let expected: Vec<f32> = softmax(model.logits(x), 1)
        .into_data()
        .try_to_vec()
        .unwrap();
    let onnx = model.to_onnx(classes, "parity").unwrap();
    let labels: Vec<String> = (0..classes).map(|c| format!("c{c}")).collect();
    let metadata = genre::metadata("parity", "musicnn-finetune", &labels, FRAMES, json!({}));
    let mut ort = GenreModel::from_memory(&test_runtime(), &onnx, metadata, Provider::Cpu).unwrap();
    let patches = Array3::from_shape_vec((batch, FRAMES, MELS), input).unwrap();
    let actual = ort.probabilities(patches.view()).unwrap();
    let max_diff = actual
        .iter()
        .zip(&expected)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    println!("fine-tuned: max |burn - onnxruntime| = {max_diff:e}");
    assert!(max_diff <= 1e-4, "{max_diff}");
}

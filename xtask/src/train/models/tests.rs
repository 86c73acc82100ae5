//! Export parity: every family's burn forward pass against the exported graph run by ONNX
//! Runtime, on random inputs, after a few training steps so that weights and batch-norm
//! statistics are far from their initial values.

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use genrescope::features::{FeatureConfig, Preset};
use genrescope::inference::metadata::FORMAT_VERSION;
use genrescope::inference::{GenreModel, ModelInput, ModelMetadata, Provider, Runtime};
use ndarray::Array3;

use super::{Family, Hyper, Net};

/// ONNX Runtime from `.ort/` (`cargo xtask ort`) or `ORT_DYLIB_PATH`.
pub fn test_runtime() -> Runtime {
    genrescope::inference::runtime::for_tests()
}

fn metadata(family: Family, frames: usize, width: usize, classes: usize) -> ModelMetadata {
    let input = match family {
        Family::DescriptorMlp => ModelInput::Descriptors {
            sample_rate: 22_050,
            window_seconds: 3.0,
            hop_seconds: 3.0,
            mean: vec![0.0; width],
            std: vec![1.0; width],
        },
        Family::Hybrid => {
            let mut features = FeatureConfig::preset(Preset::LogMel128);
            features.n_mels = width;
            features.frames = frames - 1;
            ModelInput::Hybrid {
                features,
                hop_seconds: 1.0,
                mean: vec![0.0; 57],
                std: vec![1.0; 57],
            }
        }
        _ => {
            let mut features = match width {
                13 => FeatureConfig::preset(Preset::Mfcc13),
                _ => FeatureConfig::preset(Preset::LogMel128),
            };
            features.n_mels = features.n_mels.min(width);
            features.frames = frames;
            ModelInput::Frames {
                features,
                hop_frames: frames,
            }
        }
    };
    ModelMetadata {
        format: FORMAT_VERSION,
        name: "parity".into(),
        family: family.name().into(),
        labels: (0..classes).map(|i| format!("class{i}")).collect(),
        input,
        output: Default::default(),
        calibration: Default::default(),
        context: None,
        training: Default::default(),
        metrics: Default::default(),
        licence: "test".into(),
    }
}

fn parity(family: Family, frames: usize, width: usize) {
    let _device = crate::train::device_lock();
    let classes = 5;
    let device = Device::flex().autodiff();
    device.seed(7);
    let mut hyper = Hyper::default_for(family);
    hyper.channels.iter_mut().for_each(|c| *c = 8);
    hyper.hidden = hyper.hidden.min(16);
    let mut net = Net::new(family, &hyper, frames, width, classes, &device).unwrap();
    let mut optim = AdamConfig::new().init();
    for _ in 0..3 {
        let x = Tensor::<3>::random([6, frames, width], Distribution::Normal(0.5, 2.0), &device);
        let y =
            Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 1, 2, 3, 4, 0], [6]), &device);
        let loss = burn::nn::loss::CrossEntropyLossConfig::new()
            .init(&device)
            .forward(net.forward(x), y);
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        net = optim.step(0.05, net, grads);
    }

    let plain = Device::flex();
    let net = net.valid();
    let batch = 4;
    let x = Tensor::<3>::random(
        [batch, frames, width],
        Distribution::Normal(0.5, 2.0),
        &plain,
    );
    let input: Vec<f32> = x.to_data().try_to_vec().unwrap();
    let expected: Vec<f32> = softmax(net.forward(x), 1).into_data().try_to_vec().unwrap();

    let onnx = net.to_onnx(frames, width, classes, "parity").unwrap();
    let mut model = GenreModel::from_memory(
        &test_runtime(),
        &onnx,
        metadata(family, frames, width, classes),
        Provider::Cpu,
    )
    .unwrap();
    let windows = Array3::from_shape_vec((batch, frames, width), input).unwrap();
    let actual = model.probabilities(windows.view()).unwrap();
    assert_eq!(actual.dim(), (batch, classes));
    let max_diff = actual
        .iter()
        .zip(&expected)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    println!("{}: max |burn - onnxruntime| = {max_diff:e}", family.name());
    assert!(max_diff <= 1e-4, "{}: {max_diff}", family.name());
    // Not a degenerate model: the outputs differ between inputs.
    assert!((0..classes).any(|c| (actual[[0, c]] - actual[[1, c]]).abs() > 1e-4));
}

#[test]
fn mfcc_cnn_matches_onnx_runtime() {
    parity(Family::MfccCnn, 40, 13);
}

#[test]
fn mfcc_lstm_matches_onnx_runtime() {
    parity(Family::MfccLstm, 30, 13);
}

#[test]
fn crnn_matches_onnx_runtime() {
    parity(Family::Crnn, 48, 13);
}

#[test]
fn crnn_on_log_mel_matches_onnx_runtime() {
    parity(Family::Crnn, 32, 40);
}

#[test]
fn descriptor_mlp_matches_onnx_runtime() {
    parity(Family::DescriptorMlp, 1, 57);
}

#[test]
fn mobilenet_matches_onnx_runtime() {
    parity(Family::Mobilenet, 64, 64);
}

#[test]
fn hybrid_matches_onnx_runtime() {
    parity(Family::Hybrid, 33, 64);
}

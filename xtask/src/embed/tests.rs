//! The embedding layer on small exported models, run through ONNX Runtime, and the genre
//! grouping.

use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor, TensorData};
use ndarray::Array3;
use prost::Message;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::extract::Embedder;
use super::genres;
use super::layer::with_embedding_output;
use crate::onnx::proto::{ModelProto, TensorProto};
use crate::onnx::Graph;
use crate::train::models::tests::test_runtime;
use crate::train::models::{Family, Hyper, Net};

const FRAMES: usize = 40;
const WIDTH: usize = 13;
const CLASSES: usize = 5;
const HIDDEN: usize = 16;

/// A small MFCC CNN with one 16-unit hidden dense layer before its output layer.
fn small_cnn(device: &Device) -> Net {
    let _device = crate::train::device_lock();
    device.seed(5);
    let mut hyper = Hyper::default_for(Family::MfccCnn);
    hyper.channels = vec![4, 4];
    hyper.dense = vec![HIDDEN];
    Net::new(Family::MfccCnn, &hyper, FRAMES, WIDTH, CLASSES, device).unwrap()
}

fn floats(t: &TensorProto) -> Vec<f32> {
    t.raw_data
        .chunks(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

#[test]
fn the_default_layer_is_what_the_final_dense_layer_reads() {
    let device = Device::flex();
    let net = small_cnn(&device);
    let onnx = net.to_onnx(FRAMES, WIDTH, CLASSES, "embed test").unwrap();
    let model = with_embedding_output(&onnx, None).unwrap();
    // Exported as Gemm(16) → Relu → Gemm(5) → Softmax → Identity.
    assert_eq!(model.layer.producer, "Relu");
    assert!(
        model.layer.description.contains("Gemm"),
        "{}",
        model.layer.description
    );

    let graph = ModelProto::decode(&model.onnx[..]).unwrap().graph.unwrap();
    let names: Vec<&str> = graph.output.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["probabilities", model.layer.name.as_str()]);
    let last = graph
        .node
        .iter()
        .rev()
        .find(|n| n.op_type == "Gemm")
        .unwrap();
    assert_eq!(last.input[0], model.layer.name);
    let initializer = |name: &str| graph.initializer.iter().find(|t| t.name == name).unwrap();
    let (w, b) = (initializer(&last.input[1]), initializer(&last.input[2]));
    assert_eq!(w.dims, [HIDDEN as i64, CLASSES as i64]);
    let (w, b) = (floats(w), floats(b));

    let batch = 3;
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let input: Vec<f32> = (0..batch * FRAMES * WIDTH)
        .map(|_| rng.random_range(-2.0..2.0))
        .collect();
    let windows = Array3::from_shape_vec((batch, FRAMES, WIDTH), input.clone()).unwrap();
    let mut embedder = Embedder::new(&test_runtime(), &model).unwrap();
    let e = embedder.windows(windows.view()).unwrap();
    assert_eq!(e.dim(), (batch, HIDDEN));
    assert!(e.iter().all(|&v| v >= 0.0), "ReLU output");
    assert!(e.iter().any(|&v| v > 0.0));

    // softmax(e · W + b) reproduces the network's own probabilities.
    let x = Tensor::<3>::from_data(TensorData::new(input, [batch, FRAMES, WIDTH]), &device);
    let expected: Vec<f32> = softmax(net.forward(x), 1).into_data().try_to_vec().unwrap();
    for i in 0..batch {
        let logits: Vec<f32> = (0..CLASSES)
            .map(|c| {
                b[c] + (0..HIDDEN)
                    .map(|h| e[[i, h]] * w[h * CLASSES + c])
                    .sum::<f32>()
            })
            .collect();
        let max = logits.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        let total: f32 = logits.iter().map(|l| (l - max).exp()).sum();
        for c in 0..CLASSES {
            let p = (logits[c] - max).exp() / total;
            assert!(
                (p - expected[i * CLASSES + c]).abs() < 1e-5,
                "{p} vs {}",
                expected[i * CLASSES + c]
            );
        }
    }
}

#[test]
fn a_named_layer_is_flattened_per_window_and_unknown_names_list_candidates() {
    let net = small_cnn(&Device::flex());
    let onnx = net.to_onnx(FRAMES, WIDTH, CLASSES, "embed test").unwrap();
    let graph = ModelProto::decode(&onnx[..]).unwrap().graph.unwrap();
    // The last conv block's output, [batch, channels, frames', width'] before Flatten.
    let flatten = graph.node.iter().find(|n| n.op_type == "Flatten").unwrap();
    let model = with_embedding_output(&onnx, Some(&flatten.input[0])).unwrap();
    assert!(model.layer.description.contains("--layer"));
    let windows = Array3::<f32>::ones((2, FRAMES, WIDTH));
    let e = Embedder::new(&test_runtime(), &model)
        .unwrap()
        .windows(windows.view())
        .unwrap();
    assert_eq!(e.nrows(), 2);
    assert!(
        e.ncols() > HIDDEN && e.ncols().is_multiple_of(4),
        "{:?}",
        e.dim()
    );

    let error = with_embedding_output(&onnx, Some("no-such-value"))
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.contains("no value `no-such-value`") && error.contains("(Softmax)"),
        "{error}"
    );
}

#[test]
fn a_graph_without_a_final_dense_layer_is_refused() {
    let mut g = Graph::new();
    let y = g.node("Relu", &["input"], vec![]);
    let onnx = g.finish(
        ("input", &[None, Some(3)]),
        (&y, &[None, Some(3)]),
        "out",
        "relu",
    );
    let error = with_embedding_output(&onnx, None)
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("reached a Relu node"), "{error}");
}

#[test]
fn small_genres_are_other() {
    let labels = ["rock", "jazz", "rock", "pop", "jazz", "rock"];
    let (kept, group) = genres(&labels, 2);
    assert_eq!(kept, [("jazz".to_owned(), 2), ("rock".to_owned(), 3)]);
    assert_eq!(group, [Some(1), Some(0), Some(1), None, Some(0), Some(1)]);
}

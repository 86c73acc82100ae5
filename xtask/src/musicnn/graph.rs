//! musicnn (Pons & Serra 2019, `musicnn` 0.1.0) as an ONNX graph built from the original
//! TensorFlow weights, layer for layer as in `tools/musicnn/ARCHITECTURE.md`: front-end
//! (timbral 7×38 and 7×67, temporal 128/64/32 convolutions, max over frequency), dense mid-end
//! with residual 1-D convolutions, temporal max+mean pooling back-end, 50 sigmoid tags.

use super::weights::{conv_kernel_to_onnx, Weights};
use crate::onnx::graph::{Attr, Graph};
use crate::onnx::layers::{add, concat, relu, reshape, transpose, unsqueeze};

/// Frames per patch and mel bands.
pub const FRAMES: usize = 187;
pub const MELS: usize = 96;
/// Output tags.
pub const TAGS: usize = 50;
/// TensorFlow's batch-norm epsilon (`tf.compat.v1.layers.batch_normalization` default).
const BN_EPSILON: f32 = 0.001;

/// Width of the penultimate layer, musicnn's embedding.
pub const EMBEDDING: usize = 200;

/// The ONNX model: input `[batch, 187, 96]` log-compressed mel patches, output
/// `[batch, 50]` tag probabilities.
pub fn build(w: &Weights, doc: &str) -> anyhow::Result<Vec<u8>> {
    let mut g = Graph::new();
    let hidden = trunk(&mut g, w, "input")?;
    let logits = dense(&mut g, w, "dense_1", [EMBEDDING, TAGS], &hidden)?;
    let probabilities = g.node("Sigmoid", &[&logits], vec![]);
    Ok(finish(g, &probabilities, TAGS, doc))
}

/// The network up to its penultimate layer: output `[batch, 200]` embeddings.
pub fn embedding_model(w: &Weights) -> anyhow::Result<Vec<u8>> {
    let mut g = Graph::new();
    let hidden = trunk(&mut g, w, "input")?;
    Ok(finish(g, &hidden, EMBEDDING, "musicnn embeddings"))
}

/// `output` as the graph's `"probabilities"`, `[batch, width]`, for input `[batch, 187, 96]`.
pub fn finish(g: Graph, output: &str, width: usize, doc: &str) -> Vec<u8> {
    g.finish(
        ("input", &[None, Some(FRAMES), Some(MELS)]),
        (output, &[None, Some(width)]),
        "probabilities",
        doc,
    )
}

/// Appends the network from `input` (`[batch, 187, 96]`) to the penultimate layer's batch norm
/// and returns that value (`[batch, 200]`).
pub fn trunk(g: &mut Graph, w: &Weights, input: &str) -> anyhow::Result<String> {
    let x = unsqueeze(g, input, &[1]); // [B, 1, T, F]
    let xn = bn(g, w, "batch_normalization", 1, &x)?;

    // Front-end: (conv, its batch norm, kernel [time, freq], filters, time padding).
    let branches = [
        ("conv2d", "batch_normalization_1", [7, 38], 204, [3, 3]),
        ("conv2d_1", "batch_normalization_2", [7, 67], 204, [3, 3]),
        ("conv2d_2", "batch_normalization_3", [128, 1], 51, [63, 64]),
        ("conv2d_3", "batch_normalization_4", [64, 1], 51, [31, 32]),
        ("conv2d_4", "batch_normalization_5", [32, 1], 51, [15, 16]),
    ];
    let mut front_parts = Vec::new();
    for (conv_name, bn_name, kernel, filters, [before, after]) in branches {
        let c = conv(
            g,
            w,
            conv_name,
            [kernel[0], kernel[1], 1, filters],
            &xn,
            [before, after],
        )?;
        let r = relu(g, &c);
        let b = bn(g, w, bn_name, filters, &r)?;
        // Max over frequency: [B, C, T, F'] → [B, C, T].
        front_parts.push(g.node(
            "ReduceMax",
            &[&b],
            vec![("axes", Attr::Ints(vec![3])), ("keepdims", Attr::Int(0))],
        ));
    }
    let front_parts: Vec<&str> = front_parts.iter().map(String::as_str).collect();
    let front = concat(g, &front_parts, 1); // [B, 561, T]

    // Mid-end: 1-D convolutions over time spanning all features, residual from the second on.
    let m1 = midend(g, w, "conv2d_5", "batch_normalization_6", 561, &front)?;
    let m2_conv = midend(g, w, "conv2d_6", "batch_normalization_7", 64, &m1)?;
    let m2 = add(g, &m2_conv, &m1);
    let m3_conv = midend(g, w, "conv2d_7", "batch_normalization_8", 64, &m2)?;
    let m3 = add(g, &m3_conv, &m2);
    let feats = concat(g, &[&front, &m1, &m2, &m3], 1); // [B, 753, T]

    // Back-end: max and mean over time, interleaved per feature: [max0, mean0, max1, ...].
    let pool = |g: &mut Graph, op: &str| {
        g.node(
            op,
            &[&feats],
            vec![("axes", Attr::Ints(vec![2])), ("keepdims", Attr::Int(1))],
        )
    };
    let max = pool(g, "ReduceMax");
    let mean = pool(g, "ReduceMean");
    let pooled = concat(g, &[&max, &mean], 2); // [B, 753, 2]
    let flat = reshape(g, &pooled, &[0, 1506]);
    let flat = bn(g, w, "batch_normalization_9", 1506, &flat)?;
    let hidden = dense(g, w, "dense", [1506, EMBEDDING], &flat)?;
    let hidden = relu(g, &hidden);
    bn(g, w, "batch_normalization_10", EMBEDDING, &hidden)
}

/// Inference batch norm over axis 1 with TensorFlow's moving statistics.
fn bn(g: &mut Graph, w: &Weights, name: &str, channels: usize, x: &str) -> anyhow::Result<String> {
    let mut inputs = vec![x.to_owned()];
    for part in ["gamma", "beta", "moving_mean", "moving_variance"] {
        let v = w.get(&format!("{name}/{part}"), &[channels])?;
        inputs.push(g.float(part, &[channels], &v.values));
    }
    let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    Ok(g.node(
        "BatchNormalization",
        &inputs,
        vec![("epsilon", Attr::Float(BN_EPSILON))],
    ))
}

/// Conv on `[B, 1, T, F]` with a TensorFlow kernel of `shape`, zero time padding
/// `[before, after]` and none over frequency ('valid', or 'same' for width-1 kernels).
fn conv(
    g: &mut Graph,
    w: &Weights,
    name: &str,
    shape: [usize; 4],
    x: &str,
    [before, after]: [usize; 2],
) -> anyhow::Result<String> {
    let (dims, values) = conv_kernel_to_onnx(w.get(&format!("{name}/kernel"), &shape)?);
    let kernel = g.float("kernel", &dims, &values);
    let bias = g.float(
        "bias",
        &[shape[3]],
        &w.get(&format!("{name}/bias"), &[shape[3]])?.values,
    );
    Ok(g.node(
        "Conv",
        &[x, &kernel, &bias],
        vec![
            (
                "kernel_shape",
                Attr::Ints(vec![shape[0] as i64, shape[1] as i64]),
            ),
            ("pads", Attr::Ints(vec![before as i64, 0, after as i64, 0])),
        ],
    ))
}

/// One mid-end layer on `[B, C, T]`: conv 7 × C over time (padded 3/3), ReLU, batch norm →
/// `[B, 64, T]`.
fn midend(
    g: &mut Graph,
    w: &Weights,
    conv_name: &str,
    bn_name: &str,
    width: usize,
    x: &str,
) -> anyhow::Result<String> {
    let t = transpose(g, x, &[0, 2, 1]); // [B, T, C]
    let t = unsqueeze(g, &t, &[1]); // [B, 1, T, C]
    let c = conv(g, w, conv_name, [7, width, 1, 64], &t, [3, 3])?; // [B, 64, T, 1]
    let r = relu(g, &c);
    let axes = g.int64s("axes", &[3]);
    let s = g.node("Squeeze", &[&r, &axes], vec![]);
    bn(g, w, bn_name, 64, &s)
}

fn dense(
    g: &mut Graph,
    w: &Weights,
    name: &str,
    [inputs, outputs]: [usize; 2],
    x: &str,
) -> anyhow::Result<String> {
    let kernel = w.get(&format!("{name}/kernel"), &[inputs, outputs])?;
    let kernel = g.float("dense_w", &[inputs, outputs], &kernel.values);
    let bias = g.float(
        "dense_b",
        &[outputs],
        &w.get(&format!("{name}/bias"), &[outputs])?.values,
    );
    Ok(g.node("Gemm", &[x, &kernel, &bias], vec![]))
}

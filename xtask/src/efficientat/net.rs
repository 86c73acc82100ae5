//! EfficientAT's MobileNetV3 (`mn04_as`: width 0.4, channel squeeze-excitation, MLP head) as an
//! ONNX graph, built from the exported state dict (`tools/efficientat/export_weights.py`).
//!
//! Written from the architecture's description (Howard et al., "Searching for MobileNetV3",
//! 2019; Schmid et al., ICASSP 2023) and the state dict's own names and shapes:
//! - `features.0`: 3×3 convolution, stride 2, batch norm, hard-swish;
//! - `features.1..=15`: inverted residual blocks, [`BLOCKS`]: an optional 1×1 expansion, a
//!   depthwise k×k convolution (stride 1 or 2), an optional squeeze-excitation over channels
//!   (mean over frequency and time, `Linear` → ReLU → `Linear` → sigmoid, scaling each
//!   channel), a 1×1 projection without activation, and the input added back where the shape
//!   allows it;
//! - `features.16`: 1×1 convolution to 6× the last block's width, batch norm, hard-swish;
//! - the embedding: the mean over frequency and time (384 values for mn04);
//! - `classifier.2`, hard-swish, `classifier.5`: the 527 AudioSet logits.
//!
//! Every convolution is unbiased and followed by a batch norm (ε = 0.001, running statistics).

use crate::onnx::graph::{Attr, Graph};
use crate::weights::{Variable, Weights};

/// Batch-norm ε of every layer.
const BN_EPSILON: f32 = 0.001;

/// Width of the embedding and of the output, for the shapes of the exported graph.
pub const EMBEDDING: usize = 384;
pub const CLASSES: usize = 527;
/// Mel bands of the input.
pub const MELS: usize = 128;

/// One inverted residual block's fixed choices (its widths come from the weights).
#[derive(Debug, Clone, Copy)]
struct Block {
    kernel: usize,
    stride: usize,
    squeeze_excitation: bool,
    hard_swish: bool,
}

const fn block(kernel: usize, stride: usize, squeeze_excitation: bool, hard_swish: bool) -> Block {
    Block {
        kernel,
        stride,
        squeeze_excitation,
        hard_swish,
    }
}

/// MobileNetV3-Large's fifteen blocks (Howard et al., Table 1), as EfficientAT configures them.
const BLOCKS: [Block; 15] = [
    block(3, 1, false, false),
    block(3, 2, false, false),
    block(3, 1, false, false),
    block(5, 2, true, false),
    block(5, 1, true, false),
    block(5, 1, true, false),
    block(3, 2, false, true),
    block(3, 1, false, true),
    block(3, 1, false, true),
    block(3, 1, false, true),
    block(3, 1, true, true),
    block(3, 1, true, true),
    block(5, 2, true, true),
    block(5, 1, true, true),
    block(5, 1, true, true),
];

/// The activation after a convolution's batch norm.
#[derive(Clone, Copy, PartialEq)]
enum Activation {
    None,
    Relu,
    HardSwish,
}

/// The network's outputs in a graph.
pub struct Values {
    /// `[B, 384]`: mean of the last feature maps over frequency and time.
    pub embedding: String,
    /// `[B, 527]`: AudioSet logits (apply a sigmoid for probabilities).
    pub logits: String,
}

/// Appends the network to `g`, reading `input` (`[B, frames, 128]`, the extractor's layout:
/// time first); returns its embedding and logits.
pub fn export(g: &mut Graph, w: &Weights, input: &str) -> anyhow::Result<Values> {
    let x = g.node(
        "Transpose",
        &[input],
        vec![("perm", Attr::Ints(vec![0, 2, 1]))],
    );
    let axes = g.int64s("axes", &[1]);
    let mut x = g.node("Unsqueeze", &[&x, &axes], vec![]);
    let first = Conv {
        stride: 2,
        depthwise: false,
    };
    x = conv_bn(g, w, "features.0", &x, first, Activation::HardSwish)?;
    for (i, spec) in BLOCKS.iter().enumerate() {
        x = inverted_residual(g, w, &format!("features.{}.block", i + 1), &x, *spec)?;
    }
    let last = format!("features.{}", BLOCKS.len() + 1);
    x = conv_bn(g, w, &last, &x, Conv::POINTWISE, Activation::HardSwish)?;
    let embedding = g.node(
        "ReduceMean",
        &[&x],
        vec![("axes", Attr::Ints(vec![2, 3])), ("keepdims", Attr::Int(0))],
    );
    let hidden = linear(g, w, "classifier.2", &embedding)?;
    let hidden = g.node("HardSwish", &[&hidden], vec![]);
    let logits = linear(g, w, "classifier.5", &hidden)?;
    Ok(Values { embedding, logits })
}

/// One inverted residual block whose layers are `prefix.0`, `prefix.1`, …
fn inverted_residual(
    g: &mut Graph,
    w: &Weights,
    prefix: &str,
    input: &str,
    spec: Block,
) -> anyhow::Result<String> {
    let activation = if spec.hard_swish {
        Activation::HardSwish
    } else {
        Activation::Relu
    };
    // The expansion is a 1×1 convolution; without one, the block opens with the depthwise k×k.
    let first = &w.variable(&format!("{prefix}.0.0.weight"))?.shape;
    let expands = first.get(2) == Some(&1);
    let channels_in = if expands { first[1] } else { first[0] };
    let mut layer = 0;
    let mut x = input.to_owned();
    if expands {
        x = conv_bn(
            g,
            w,
            &format!("{prefix}.0"),
            &x,
            Conv::POINTWISE,
            activation,
        )?;
        layer += 1;
    }
    let depthwise = Conv {
        stride: spec.stride,
        depthwise: true,
    };
    let name = format!("{prefix}.{layer}");
    let kernel = w.variable(&format!("{name}.0.weight"))?.shape[2];
    anyhow::ensure!(
        kernel == spec.kernel,
        "{name}: a {kernel}×{kernel} kernel where MobileNetV3 has {0}×{0}",
        spec.kernel
    );
    x = conv_bn(g, w, &name, &x, depthwise, activation)?;
    layer += 1;
    if spec.squeeze_excitation {
        x = squeeze_excitation(g, w, &format!("{prefix}.{layer}.conc_se_layers.0"), &x)?;
        layer += 1;
    }
    let project = format!("{prefix}.{layer}");
    let out = conv_bn(g, w, &project, &x, Conv::POINTWISE, Activation::None)?;
    let channels_out = w.variable(&format!("{project}.0.weight"))?.shape[0];
    Ok(if spec.stride == 1 && channels_in == channels_out {
        g.node("Add", &[&out, input], vec![])
    } else {
        out
    })
}

/// A convolution's stride and grouping.
#[derive(Clone, Copy)]
struct Conv {
    stride: usize,
    /// One group per channel.
    depthwise: bool,
}

impl Conv {
    const POINTWISE: Self = Self {
        stride: 1,
        depthwise: false,
    };
}

/// Convolution `name.0` (unbiased), batch norm `name.1`, then `activation`. Padding keeps the
/// size at stride 1 (`(k - 1) / 2` on every side).
fn conv_bn(
    g: &mut Graph,
    w: &Weights,
    name: &str,
    x: &str,
    conv: Conv,
    activation: Activation,
) -> anyhow::Result<String> {
    let weight = w.variable(&format!("{name}.0.weight"))?;
    let [out, _, kh, kw] = weight.shape[..] else {
        anyhow::bail!("{name}.0.weight: a 2-D convolution has a 4-D weight");
    };
    let groups = if conv.depthwise { out } else { 1 };
    let weight = float(g, "conv_w", weight);
    let conv = g.node(
        "Conv",
        &[x, &weight],
        vec![
            ("kernel_shape", Attr::Ints(vec![kh as i64, kw as i64])),
            ("strides", Attr::Ints(vec![conv.stride as i64; 2])),
            ("group", Attr::Int(groups as i64)),
            (
                "pads",
                Attr::Ints(vec![
                    (kh / 2) as i64,
                    (kw / 2) as i64,
                    (kh / 2) as i64,
                    (kw / 2) as i64,
                ]),
            ),
        ],
    );
    let norm = batch_norm(g, w, &format!("{name}.1"), &conv, out)?;
    Ok(match activation {
        Activation::None => norm,
        Activation::Relu => g.node("Relu", &[&norm], vec![]),
        Activation::HardSwish => g.node("HardSwish", &[&norm], vec![]),
    })
}

/// Inference-mode batch norm `name` over `channels` channels.
fn batch_norm(
    g: &mut Graph,
    w: &Weights,
    name: &str,
    x: &str,
    channels: usize,
) -> anyhow::Result<String> {
    let mut inputs = vec![x.to_owned()];
    for part in ["weight", "bias", "running_mean", "running_var"] {
        inputs.push(float(
            g,
            "bn",
            w.get(&format!("{name}.{part}"), &[channels])?,
        ));
    }
    let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    Ok(g.node(
        "BatchNormalization",
        &inputs,
        vec![("epsilon", Attr::Float(BN_EPSILON))],
    ))
}

/// Squeeze-excitation over channels: `x · sigmoid(fc2(relu(fc1(mean over f, t of x))))`.
fn squeeze_excitation(g: &mut Graph, w: &Weights, name: &str, x: &str) -> anyhow::Result<String> {
    let squeezed = g.node(
        "ReduceMean",
        &[x],
        vec![("axes", Attr::Ints(vec![2, 3])), ("keepdims", Attr::Int(0))],
    );
    let hidden = linear(g, w, &format!("{name}.fc1"), &squeezed)?;
    let hidden = g.node("Relu", &[&hidden], vec![]);
    let scale = linear(g, w, &format!("{name}.fc2"), &hidden)?;
    let scale = g.node("Sigmoid", &[&scale], vec![]);
    let axes = g.int64s("axes", &[2, 3]);
    let scale = g.node("Unsqueeze", &[&scale, &axes], vec![]);
    Ok(g.node("Mul", &[x, &scale], vec![]))
}

/// PyTorch's `Linear` `name` (`weight [out, in]`, `bias [out]`) on `[B, in]`.
fn linear(g: &mut Graph, w: &Weights, name: &str, x: &str) -> anyhow::Result<String> {
    let weight = w.variable(&format!("{name}.weight"))?;
    let outputs = weight.shape[0];
    let weight = float(g, "linear_w", weight);
    let bias = float(g, "linear_b", w.get(&format!("{name}.bias"), &[outputs])?);
    Ok(g.node("Gemm", &[x, &weight, &bias], vec![("transB", Attr::Int(1))]))
}

fn float(g: &mut Graph, label: &str, v: &Variable) -> String {
    g.float(label, &v.shape, &v.values)
}

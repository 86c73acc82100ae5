//! burn modules as ONNX nodes. Each function takes the name of its input value and returns the
//! name of its output; the tensor layouts are those of the burn forward passes they mirror.

use anyhow::bail;
use burn::nn::conv::{Conv1d, Conv2d};
use burn::nn::pool::MaxPool2d;
use burn::nn::{BatchNorm, Linear, Lstm, PaddingConfig1d, PaddingConfig2d};
use burn::tensor::Tensor;

use super::graph::{Attr, Graph};

/// Shape and row-major values of a tensor.
fn values<const D: usize>(tensor: Tensor<D>) -> (Vec<usize>, Vec<f32>) {
    let dims = tensor.dims().to_vec();
    let data = tensor
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .expect("float tensor");
    (dims, data)
}

fn float<const D: usize>(g: &mut Graph, label: &str, tensor: Tensor<D>) -> String {
    let (dims, data) = values(tensor);
    g.float(label, &dims, &data)
}

/// ONNX `pads` (`[top, left, bottom, right]`) of a burn padding; `Same` depends on the input
/// size and is not exported.
fn pads(padding: &PaddingConfig2d) -> anyhow::Result<Vec<i64>> {
    Ok(match padding {
        PaddingConfig2d::Valid => vec![0; 4],
        PaddingConfig2d::Explicit(top, left, bottom, right) => {
            [*top, *left, *bottom, *right].map(|p| p as i64).to_vec()
        }
        PaddingConfig2d::Same => bail!("`Same` padding cannot be exported; use explicit padding"),
    })
}

/// `x · W + b` on `[batch, d_input]` (burn stores `W` as `[d_input, d_output]`, ONNX `Gemm`'s B).
pub fn linear(g: &mut Graph, layer: &Linear, x: &str) -> String {
    let w = float(g, "linear_w", layer.weight.val());
    let mut inputs = vec![x.to_owned(), w];
    if let Some(bias) = &layer.bias {
        inputs.push(float(g, "linear_b", bias.val()));
    }
    let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    g.node("Gemm", &inputs, vec![])
}

/// A `Conv` node's inputs: `x`, the weight and the bias if there is one.
fn conv_inputs<const D: usize>(
    g: &mut Graph,
    x: &str,
    weight: Tensor<D>,
    bias: Option<Tensor<1>>,
) -> Vec<String> {
    let mut inputs = vec![x.to_owned(), float(g, "conv_w", weight)];
    if let Some(bias) = bias {
        inputs.push(float(g, "conv_b", bias));
    }
    inputs
}

/// 2-D convolution on `[batch, channels, height, width]`.
pub fn conv2d(g: &mut Graph, layer: &Conv2d, x: &str) -> anyhow::Result<String> {
    let inputs = conv_inputs(
        g,
        x,
        layer.weight.val(),
        layer.bias.as_ref().map(burn::module::Param::val),
    );
    let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    let to_i64 = |v: [usize; 2]| v.iter().map(|&x| x as i64).collect::<Vec<_>>();
    Ok(g.node(
        "Conv",
        &inputs,
        vec![
            ("kernel_shape", Attr::Ints(to_i64(layer.kernel_size))),
            ("strides", Attr::Ints(to_i64(layer.stride))),
            ("dilations", Attr::Ints(to_i64(layer.dilation))),
            ("group", Attr::Int(layer.groups as i64)),
            ("pads", Attr::Ints(pads(&layer.padding)?)),
        ],
    ))
}

/// 1-D convolution on `[batch, channels, length]`.
pub fn conv1d(g: &mut Graph, layer: &Conv1d, x: &str) -> anyhow::Result<String> {
    let inputs = conv_inputs(
        g,
        x,
        layer.weight.val(),
        layer.bias.as_ref().map(burn::module::Param::val),
    );
    let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    let pads = match layer.padding {
        PaddingConfig1d::Valid => vec![0, 0],
        PaddingConfig1d::Explicit(left, right) => vec![left as i64, right as i64],
        PaddingConfig1d::Same => bail!("`Same` padding cannot be exported; use explicit padding"),
    };
    Ok(g.node(
        "Conv",
        &inputs,
        vec![
            ("kernel_shape", Attr::Ints(vec![layer.kernel_size as i64])),
            ("strides", Attr::Ints(vec![layer.stride as i64])),
            ("dilations", Attr::Ints(vec![layer.dilation as i64])),
            ("group", Attr::Int(layer.groups as i64)),
            ("pads", Attr::Ints(pads)),
        ],
    ))
}

/// Inference-mode batch normalisation over axis 1 with the running statistics.
pub fn batch_norm(g: &mut Graph, layer: &BatchNorm, x: &str) -> String {
    let scale = float(g, "bn_scale", layer.gamma.val());
    let bias = float(g, "bn_bias", layer.beta.val());
    let mean = float(g, "bn_mean", layer.running_mean.value());
    let var = float(g, "bn_var", layer.running_var.value());
    g.node(
        "BatchNormalization",
        &[x, &scale, &bias, &mean, &var],
        vec![("epsilon", Attr::Float(layer.epsilon as f32))],
    )
}

/// 2-D max pooling on `[batch, channels, height, width]`.
pub fn max_pool2d(g: &mut Graph, layer: &MaxPool2d, x: &str) -> anyhow::Result<String> {
    let to_i64 = |v: [usize; 2]| v.iter().map(|&x| x as i64).collect::<Vec<_>>();
    Ok(g.node(
        "MaxPool",
        &[x],
        vec![
            ("kernel_shape", Attr::Ints(to_i64(layer.kernel_size))),
            ("strides", Attr::Ints(to_i64(layer.stride))),
            ("dilations", Attr::Ints(to_i64(layer.dilation))),
            ("pads", Attr::Ints(pads(&layer.padding)?)),
            ("ceil_mode", Attr::Int(layer.ceil_mode as i64)),
        ],
    ))
}

pub fn relu(g: &mut Graph, x: &str) -> String {
    g.node("Relu", &[x], vec![])
}

/// `min(max(x, low), high)` elementwise (ReLU6 is `clip(x, 0, 6)`).
pub fn clip(g: &mut Graph, x: &str, low: f32, high: f32) -> String {
    let low = g.float("clip_min", &[], &[low]);
    let high = g.float("clip_max", &[], &[high]);
    g.node("Clip", &[x, &low, &high], vec![])
}

/// `x[starts..ends]` along `axes` (ends past the size are clamped, as in ONNX).
pub fn slice(g: &mut Graph, x: &str, axes: &[i64], starts: &[i64], ends: &[i64]) -> String {
    let starts = g.int64s("starts", starts);
    let ends = g.int64s("ends", ends);
    let axes = g.int64s("axes", axes);
    g.node("Slice", &[x, &starts, &ends, &axes], vec![])
}

/// Joins values along `axis`.
pub fn concat(g: &mut Graph, values: &[&str], axis: i64) -> String {
    g.node("Concat", values, vec![("axis", Attr::Int(axis))])
}

/// Elementwise sum of two values of the same shape.
pub fn add(g: &mut Graph, a: &str, b: &str) -> String {
    g.node("Add", &[a, b], vec![])
}

/// Reorders axes.
pub fn transpose(g: &mut Graph, x: &str, perm: &[i64]) -> String {
    g.node("Transpose", &[x], vec![("perm", Attr::Ints(perm.to_vec()))])
}

/// `[batch, ...]` → `[batch, product of the rest]`, row-major like burn's `flatten(1, ..)`.
pub fn flatten(g: &mut Graph, x: &str) -> String {
    g.node("Flatten", &[x], vec![("axis", Attr::Int(1))])
}

/// Inserts size-1 axes at `axes` (of the output).
pub fn unsqueeze(g: &mut Graph, x: &str, axes: &[i64]) -> String {
    let axes = g.int64s("axes", axes);
    g.node("Unsqueeze", &[x, &axes], vec![])
}

/// Reshape with ONNX semantics (`0` copies the input's size, `-1` is inferred).
pub fn reshape(g: &mut Graph, x: &str, shape: &[i64]) -> String {
    let shape = g.int64s("shape", shape);
    g.node("Reshape", &[x, &shape], vec![])
}

/// One LSTM layer (sigmoid gates, tanh cell and output, zero initial state, forward only) on a
/// sequence-first input `[seq, batch, d_input]`. Returns the full output `[seq, batch, hidden]`
/// and the last hidden state `[batch, hidden]`.
pub fn lstm(g: &mut Graph, layer: &Lstm, x: &str) -> anyhow::Result<(String, String)> {
    if layer.reverse || layer.input_forget || layer.clip.is_some() {
        bail!("only plain forward LSTMs are exported");
    }
    let Some(forget) = layer.forget_gate.as_ref() else {
        bail!("an LSTM without a forget gate cannot be exported");
    };
    let hidden = layer.d_hidden;
    // ONNX gate order: input, output, forget, cell. burn keeps `x · W` with `W` as
    // `[d_in, hidden]`; ONNX wants `W` as `[hidden, d_in]` per gate, stacked.
    let gates = [
        &layer.input_gate,
        &layer.output_gate,
        forget,
        &layer.cell_gate,
    ];
    let mut w = Vec::new();
    let mut r = Vec::new();
    let mut wb = Vec::new();
    let mut rb = Vec::new();
    let mut d_input = 0;
    for gate in gates {
        let (dims, data) = values(gate.input_transform.weight.val().transpose());
        d_input = dims[1];
        w.extend(data);
        r.extend(values(gate.hidden_transform.weight.val().transpose()).1);
        let bias = |linear: &Linear| match &linear.bias {
            Some(b) => values(b.val()).1,
            None => vec![0.0; hidden],
        };
        wb.extend(bias(&gate.input_transform));
        rb.extend(bias(&gate.hidden_transform));
    }
    wb.extend(rb);
    let w = g.float("lstm_w", &[1, 4 * hidden, d_input], &w);
    let r = g.float("lstm_r", &[1, 4 * hidden, hidden], &r);
    let b = g.float("lstm_b", &[1, 8 * hidden], &wb);
    let out = g.node_n(
        "LSTM",
        &[x, &w, &r, &b],
        vec![("hidden_size", Attr::Int(hidden as i64))],
        2,
    );
    // Y: [seq, 1, batch, hidden]; Y_h: [1, batch, hidden].
    let axis1 = g.int64s("axes", &[1]);
    let axis0 = g.int64s("axes", &[0]);
    let y = g.node("Squeeze", &[&out[0], &axis1], vec![]);
    let h = g.node("Squeeze", &[&out[1], &axis0], vec![]);
    Ok((y, h))
}

/// `softmax` over the last axis of `[batch, classes]`.
pub fn softmax(g: &mut Graph, x: &str) -> String {
    g.node("Softmax", &[x], vec![("axis", Attr::Int(-1))])
}

//! musicnn (Pons & Serra 2019, `musicnn` 0.1.0) as a burn module loaded from the original
//! TensorFlow weights, with an ONNX export of exactly its inference pass, layer for layer as in
//! `tools/musicnn/ARCHITECTURE.md`: front-end (timbral 7×38 and 7×67, temporal 128/64/32
//! convolutions, max over frequency), dense mid-end with residual convolutions over time,
//! temporal max+mean pooling back-end, dense layer to the 200-value penultimate embedding.
//!
//! Every batch norm keeps musicnn's moving statistics (its `training` flag is off): fine-tuning
//! trains their scale and shift but never replaces statistics gathered over the Million Song
//! Dataset with those of a few patches (torchvision's `FrozenBatchNorm2d` does the same).
//! musicnn's two back-end dropouts are left out: the genre head has its own, and without them
//! the network computes in training exactly what the head was fitted on in the frozen stage.

use burn::module::{Module, Param, RunningState};
use burn::nn::conv::{Conv1d, Conv1dConfig, Conv2d, Conv2dConfig};
use burn::nn::{
    BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig1d, PaddingConfig2d,
};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};

use crate::onnx::graph::{Attr, Graph};
use crate::onnx::layers;
use crate::weights::{conv_kernel_to_onnx, Weights};

/// Frames per patch (2.98 s at 16 kHz, hop 256) and mel bands.
pub const FRAMES: usize = 187;
pub const MELS: usize = 96;
/// Width of the penultimate layer, musicnn's embedding.
pub const EMBEDDING: usize = 200;
/// TensorFlow's batch-norm epsilon (`tf.compat.v1.layers.batch_normalization` default).
pub(super) const BN_EPSILON: f32 = 0.001;
/// Mid-end filters and kernel length (frames).
const MID_FILTERS: usize = 64;
const MID_KERNEL: usize = 7;
/// TensorFlow names of the back-end's batch norm over the pooled features and of the dense
/// layer that reads them.
pub(super) const POOL_NORM: &str = "batch_normalization_9";
pub(super) const DENSE: &str = "dense";

/// One front-end branch: TensorFlow names of its conv and batch norm, kernel `[time, freq]`,
/// the original network's filters (a narrowed network has fewer: they are read from the
/// weights), and zero time padding `[before, after]` (frequency is never padded: 'valid', or
/// 'same' for width-1 kernels).
pub(super) struct FrontSpec {
    pub conv: &'static str,
    pub norm: &'static str,
    kernel: [usize; 2],
    filters: usize,
    pad: [usize; 2],
}

const fn front(
    conv: &'static str,
    norm: &'static str,
    kernel: [usize; 2],
    filters: usize,
    pad: [usize; 2],
) -> FrontSpec {
    FrontSpec {
        conv,
        norm,
        kernel,
        filters,
        pad,
    }
}

/// Timbral (7×38, 7×67) and temporal (128, 64, 32 frames) branches.
pub(super) const FRONT: [FrontSpec; 5] = [
    front("conv2d", "batch_normalization_1", [7, 38], 204, [3, 3]),
    front("conv2d_1", "batch_normalization_2", [7, 67], 204, [3, 3]),
    front("conv2d_2", "batch_normalization_3", [128, 1], 51, [63, 64]),
    front("conv2d_3", "batch_normalization_4", [64, 1], 51, [31, 32]),
    front("conv2d_4", "batch_normalization_5", [32, 1], 51, [15, 16]),
];
/// Mid-end layers: (conv, its batch norm).
pub(super) const MID: [(&str, &str); 3] = [
    ("conv2d_5", "batch_normalization_6"),
    ("conv2d_6", "batch_normalization_7"),
    ("conv2d_7", "batch_normalization_8"),
];

fn tensor<const D: usize>(values: &[f32], shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(values.to_vec(), shape), device)
}

/// A batch norm holding TensorFlow's `name/{gamma,beta,moving_mean,moving_variance}`, with
/// frozen statistics.
fn norm(w: &Weights, name: &str, channels: usize, device: &Device) -> anyhow::Result<BatchNorm> {
    let get = |part: &str| -> anyhow::Result<Tensor<1>> {
        Ok(tensor(
            &w.get(&format!("{name}/{part}"), &[channels])?.values,
            [channels],
            device,
        ))
    };
    let mut bn = BatchNormConfig::new(channels)
        .with_epsilon(f64::from(BN_EPSILON))
        .init(device);
    bn.gamma = Param::from_tensor(get("gamma")?);
    bn.beta = Param::from_tensor(get("beta")?);
    bn.running_mean = RunningState::new(get("moving_mean")?);
    bn.running_var = RunningState::new(get("moving_variance")?);
    bn.training = Param::from_bool(false);
    Ok(bn)
}

fn bias(w: &Weights, name: &str, n: usize, device: &Device) -> anyhow::Result<Param<Tensor<1>>> {
    Ok(Param::from_tensor(tensor(
        &w.get(&format!("{name}/bias"), &[n])?.values,
        [n],
        device,
    )))
}

/// Dense layer `name` (`kernel [inputs, outputs]`, burn's layout too).
pub fn dense(
    w: &Weights,
    name: &str,
    [inputs, outputs]: [usize; 2],
    device: &Device,
) -> anyhow::Result<Linear> {
    let mut layer = LinearConfig::new(inputs, outputs).init(device);
    layer.weight = Param::from_tensor(tensor(
        &w.get(&format!("{name}/kernel"), &[inputs, outputs])?.values,
        [inputs, outputs],
        device,
    ));
    layer.bias = Some(bias(w, name, outputs, device)?);
    Ok(layer)
}

/// One front-end branch: conv over `[B, 1, T, F]` → ReLU → batch norm → max over frequency.
#[derive(Module, Debug)]
struct Branch {
    conv: Conv2d,
    norm: BatchNorm,
}

impl Branch {
    fn new(w: &Weights, spec: &FrontSpec, device: &Device) -> anyhow::Result<Self> {
        let FrontSpec {
            conv: conv_name,
            norm: bn_name,
            kernel: [kh, kw],
            pad: [before, after],
            ..
        } = *spec;
        let kernel_name = format!("{conv_name}/kernel");
        let filters = *w.shape(&kernel_name)?.last().unwrap_or(&0);
        anyhow::ensure!(
            (1..=spec.filters).contains(&filters),
            "{kernel_name}: {filters} filters, musicnn has {}",
            spec.filters
        );
        let kernel = w.get(&kernel_name, &[kh, kw, 1, filters])?;
        let (dims, values) = conv_kernel_to_onnx(kernel);
        let mut conv = Conv2dConfig::new([1, filters], [kh, kw])
            .with_padding(PaddingConfig2d::Explicit(before, 0, after, 0))
            .init(device);
        conv.weight = Param::from_tensor(tensor(
            &values,
            [dims[0], dims[1], dims[2], dims[3]],
            device,
        ));
        conv.bias = Some(bias(w, conv_name, filters, device)?);
        Ok(Self {
            conv,
            norm: norm(w, bn_name, filters, device)?,
        })
    }

    fn filters(&self) -> usize {
        self.conv.weight.dims()[0]
    }

    /// `[B, 1, T, F]` → `[B, filters, T]`.
    fn forward(&self, x: Tensor<4>) -> Tensor<3> {
        self.norm
            .forward(relu(self.conv.forward(x)))
            .max_dim(3)
            .squeeze_dim(3)
    }

    fn export(&self, g: &mut Graph, x: &str) -> anyhow::Result<String> {
        let c = layers::conv2d(g, &self.conv, x)?;
        let r = layers::relu(g, &c);
        let b = layers::batch_norm(g, &self.norm, &r);
        Ok(g.node(
            "ReduceMax",
            &[&b],
            vec![("axes", Attr::Ints(vec![3])), ("keepdims", Attr::Int(0))],
        ))
    }
}

/// One mid-end layer: a convolution over time spanning every input feature (TensorFlow's
/// `7 × C` Conv2D on the transposed features is this 1-D convolution), ReLU, batch norm.
#[derive(Module, Debug)]
struct MidLayer {
    conv: Conv1d,
    norm: BatchNorm,
}

impl MidLayer {
    fn new(
        w: &Weights,
        (conv_name, bn_name): (&str, &str),
        width: usize,
        device: &Device,
    ) -> anyhow::Result<Self> {
        let kernel = w.get(
            &format!("{conv_name}/kernel"),
            &[MID_KERNEL, width, 1, MID_FILTERS],
        )?;
        // TensorFlow's kernel [7, C, 1, 64] is ONNX's [64, 1, 7, C]; Conv1d wants [64, C, 7].
        let (_, values) = conv_kernel_to_onnx(kernel);
        let mut reordered = vec![0.0; values.len()];
        for o in 0..MID_FILTERS {
            for i in 0..MID_KERNEL {
                for c in 0..width {
                    reordered[(o * width + c) * MID_KERNEL + i] =
                        values[(o * MID_KERNEL + i) * width + c];
                }
            }
        }
        let values = reordered;
        let pad = MID_KERNEL / 2;
        let mut conv = Conv1dConfig::new(width, MID_FILTERS, MID_KERNEL)
            .with_padding(PaddingConfig1d::Explicit(pad, pad))
            .init(device);
        conv.weight = Param::from_tensor(tensor(&values, [MID_FILTERS, width, MID_KERNEL], device));
        conv.bias = Some(bias(w, conv_name, MID_FILTERS, device)?);
        Ok(Self {
            conv,
            norm: norm(w, bn_name, MID_FILTERS, device)?,
        })
    }

    /// `[B, C, T]` → `[B, 64, T]`.
    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        self.norm.forward(relu(self.conv.forward(x)))
    }

    fn export(&self, g: &mut Graph, x: &str) -> anyhow::Result<String> {
        let c = layers::conv1d(g, &self.conv, x)?;
        let r = layers::relu(g, &c);
        Ok(layers::batch_norm(g, &self.norm, &r))
    }
}

/// musicnn from its input patches to the penultimate embedding.
#[derive(Module, Debug)]
pub struct Trunk {
    input_norm: BatchNorm,
    front: Vec<Branch>,
    mid: Vec<MidLayer>,
    pool_norm: BatchNorm,
    dense: Linear,
    norm: BatchNorm,
}

impl Trunk {
    /// The network with the weights exported by `tools/musicnn/export_weights.py` (or a
    /// narrowed copy of them: the front-end widths are those of the weights).
    pub fn new(w: &Weights, device: &Device) -> anyhow::Result<Self> {
        let front = FRONT
            .iter()
            .map(|spec| Branch::new(w, spec, device))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let front_width: usize = front.iter().map(Branch::filters).sum();
        let mid = MID
            .into_iter()
            .enumerate()
            .map(|(i, spec)| {
                let width = if i == 0 { front_width } else { MID_FILTERS };
                MidLayer::new(w, spec, width, device)
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let pooled = 2 * (front_width + MID.len() * MID_FILTERS);
        Ok(Self {
            input_norm: norm(w, "batch_normalization", 1, device)?,
            front,
            mid,
            pool_norm: norm(w, POOL_NORM, pooled, device)?,
            dense: dense(w, DENSE, [pooled, EMBEDDING], device)?,
            norm: norm(w, "batch_normalization_10", EMBEDDING, device)?,
        })
    }

    /// Folds `(e − mean) / std` of the embedding into the last batch norm's scale and shift, so
    /// the trunk returns standardised embeddings (exact: the norm is affine at inference).
    pub fn standardise_output(mut self, mean: &[f32], std: &[f32]) -> Self {
        let device = self.norm.gamma.device();
        let values = |p: &Param<Tensor<1>>| p.val().into_data().try_to_vec::<f32>().expect("f32");
        let (gamma, beta) = (values(&self.norm.gamma), values(&self.norm.beta));
        let scaled: Vec<f32> = gamma.iter().zip(std).map(|(g, s)| g / s).collect();
        let shifted: Vec<f32> = beta
            .iter()
            .zip(mean.iter().zip(std))
            .map(|(b, (m, s))| (b - m) / s)
            .collect();
        self.norm.gamma = Param::from_tensor(tensor(&scaled, [EMBEDDING], &device));
        self.norm.beta = Param::from_tensor(tensor(&shifted, [EMBEDDING], &device));
        self
    }

    /// `[B, 187, 96]` patches → `[B, 200]` embeddings.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<2> {
        let x = self.input_norm.forward(x.unsqueeze_dim::<4>(1));
        let parts: Vec<Tensor<3>> = self.front.iter().map(|b| b.forward(x.clone())).collect();
        let front = Tensor::cat(parts, 1);
        let m1 = self.mid[0].forward(front.clone());
        let m2 = self.mid[1].forward(m1.clone()) + m1.clone();
        let m3 = self.mid[2].forward(m2.clone()) + m2.clone();
        let feats = Tensor::cat(vec![front, m1, m2, m3], 1); // [B, 753, T]
        let [batch, features, _] = feats.dims();
        // Max and mean over time, interleaved per feature: [max0, mean0, max1, ...].
        let pooled = Tensor::cat(vec![feats.clone().max_dim(2), feats.mean_dim(2)], 2)
            .reshape([batch, 2 * features]);
        let pooled = self.pool_norm.forward(pooled);
        self.norm.forward(relu(self.dense.forward(pooled)))
    }

    /// Appends the inference pass to `g`, reading `input` (`[B, 187, 96]`); returns the
    /// embedding's value (`[B, 200]`).
    pub fn export(&self, g: &mut Graph, input: &str) -> anyhow::Result<String> {
        Ok(self.export_values(g, input)?.embedding)
    }

    /// [`Self::export`], also naming the back-end's pooled features.
    pub fn export_values(&self, g: &mut Graph, input: &str) -> anyhow::Result<TrunkValues> {
        let x = layers::unsqueeze(g, input, &[1]);
        let x = layers::batch_norm(g, &self.input_norm, &x);
        let parts = self
            .front
            .iter()
            .map(|b| b.export(g, &x))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        let front = layers::concat(g, &parts, 1);
        let m1 = self.mid[0].export(g, &front)?;
        let m2_conv = self.mid[1].export(g, &m1)?;
        let m2 = layers::add(g, &m2_conv, &m1);
        let m3_conv = self.mid[2].export(g, &m2)?;
        let m3 = layers::add(g, &m3_conv, &m2);
        let feats = layers::concat(g, &[&front, &m1, &m2, &m3], 1);
        let pool = |g: &mut Graph, op: &str| {
            g.node(
                op,
                &[&feats],
                vec![("axes", Attr::Ints(vec![2])), ("keepdims", Attr::Int(1))],
            )
        };
        let max = pool(g, "ReduceMax");
        let mean = pool(g, "ReduceMean");
        let pooled = layers::concat(g, &[&max, &mean], 2);
        let flat = layers::flatten(g, &pooled);
        let flat = layers::batch_norm(g, &self.pool_norm, &flat);
        let hidden = layers::linear(g, &self.dense, &flat);
        let hidden = layers::relu(g, &hidden);
        Ok(TrunkValues {
            embedding: layers::batch_norm(g, &self.norm, &hidden),
            pooled: flat,
            pooled_width: self.pool_norm.gamma.dims()[0],
        })
    }
}

/// Values of an exported trunk.
pub struct TrunkValues {
    /// `[B, pooled_width]`: max and mean over time of every front- and mid-end feature,
    /// batch-normed: what enters the first dense layer.
    pub pooled: String,
    /// 1 506 for the original network (753 features), less for a narrowed one.
    pub pooled_width: usize,
    /// `[B, 200]`: the penultimate embedding.
    pub embedding: String,
}

/// Every variable [`Trunk::new`] reads, with its TensorFlow shape (for synthetic test weights).
#[cfg(test)]
pub fn variable_shapes() -> Vec<(String, Vec<usize>)> {
    let mut shapes = Vec::new();
    let mut norm = |name: &str, n: usize| {
        for part in ["gamma", "beta", "moving_mean", "moving_variance"] {
            shapes.push((format!("{name}/{part}"), vec![n]));
        }
    };
    norm("batch_normalization", 1);
    for spec in &FRONT {
        norm(spec.norm, spec.filters);
    }
    for (_, bn) in MID {
        norm(bn, MID_FILTERS);
    }
    let front_width: usize = FRONT.iter().map(|b| b.filters).sum();
    let pooled = 2 * (front_width + MID.len() * MID_FILTERS);
    norm("batch_normalization_9", pooled);
    norm("batch_normalization_10", EMBEDDING);
    for spec in &FRONT {
        let [kh, kw] = spec.kernel;
        shapes.push((
            format!("{}/kernel", spec.conv),
            vec![kh, kw, 1, spec.filters],
        ));
        shapes.push((format!("{}/bias", spec.conv), vec![spec.filters]));
    }
    for (i, (conv, _)) in MID.into_iter().enumerate() {
        let width = if i == 0 { front_width } else { MID_FILTERS };
        shapes.push((
            format!("{conv}/kernel"),
            vec![MID_KERNEL, width, 1, MID_FILTERS],
        ));
        shapes.push((format!("{conv}/bias"), vec![MID_FILTERS]));
    }
    shapes.push(("dense/kernel".into(), vec![pooled, EMBEDDING]));
    shapes.push(("dense/bias".into(), vec![EMBEDDING]));
    shapes
}

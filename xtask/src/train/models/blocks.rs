//! Layers shared by several families: the conv block and the dense head.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::PaddingConfig2d;
use burn::nn::{BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use crate::onnx::{layers, Graph};

/// Conv (same size) → ReLU → 2×2 max-pool → batch norm, the block of the MFCC-CNN source.
/// The pool leaves an axis of size 1 alone, so narrow inputs (13 MFCC) survive three blocks.
#[derive(Module, Debug)]
struct ConvBlock {
    conv: Conv2d,
    pool: MaxPool2d,
    norm: BatchNorm,
}

impl ConvBlock {
    /// A block for `[batch, c_in, h, w]` inputs; also returns the output's `[h, w]`.
    fn new(
        c_in: usize,
        c_out: usize,
        kernel: usize,
        [h, w]: [usize; 2],
        device: &Device,
    ) -> anyhow::Result<(Self, [usize; 2])> {
        anyhow::ensure!(kernel % 2 == 1, "conv kernel must be odd, got {kernel}");
        let p = kernel / 2;
        let pool = [h.min(2), w.min(2)];
        let block = Self {
            conv: Conv2dConfig::new([c_in, c_out], [kernel, kernel])
                .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
                .init(device),
            pool: MaxPool2dConfig::new(pool).init(),
            norm: BatchNormConfig::new(c_out).init(device),
        };
        Ok((block, [h / pool[0], w / pool[1]]))
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.norm
            .forward(self.pool.forward(relu(self.conv.forward(x))))
    }

    fn export(&self, g: &mut Graph, x: &str) -> anyhow::Result<String> {
        let x = layers::conv2d(g, &self.conv, x)?;
        let x = layers::relu(g, &x);
        let x = layers::max_pool2d(g, &self.pool, &x)?;
        Ok(layers::batch_norm(g, &self.norm, &x))
    }
}

/// Stacked conv blocks over the `[batch, frames, width]` input seen as a one-channel image.
#[derive(Module, Debug)]
pub struct ConvStack {
    blocks: Vec<ConvBlock>,
}

impl ConvStack {
    /// Blocks with `channels` outputs each; also returns the output's `[frames, width]`.
    pub fn new(
        channels: &[usize],
        kernel: usize,
        mut size: [usize; 2],
        device: &Device,
    ) -> anyhow::Result<(Self, [usize; 2])> {
        anyhow::ensure!(!channels.is_empty(), "at least one conv block is needed");
        let mut blocks = Vec::new();
        let mut c_in = 1;
        for &c_out in channels {
            let (block, next) = ConvBlock::new(c_in, c_out, kernel, size, device)?;
            anyhow::ensure!(
                next[0] > 0 && next[1] > 0,
                "input of {size:?} is too small for {} conv blocks",
                channels.len()
            );
            blocks.push(block);
            size = next;
            c_in = c_out;
        }
        Ok((Self { blocks }, size))
    }

    /// `[batch, frames, width]` → `[batch, channels, frames', width']`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<4> {
        self.blocks
            .iter()
            .fold(x.unsqueeze_dim::<4>(1), |x, block| block.forward(x))
    }

    pub fn export(&self, g: &mut Graph, input: &str) -> anyhow::Result<String> {
        let mut x = layers::unsqueeze(g, input, &[1]);
        for block in &self.blocks {
            x = block.export(g, &x)?;
        }
        Ok(x)
    }
}

/// Dense ReLU layers, dropout, and the output layer.
#[derive(Module, Debug)]
pub struct DenseHead {
    hidden: Vec<Linear>,
    dropout: Dropout,
    output: Linear,
}

impl DenseHead {
    pub fn new(
        d_in: usize,
        widths: &[usize],
        dropout: f64,
        classes: usize,
        device: &Device,
    ) -> Self {
        let mut hidden = Vec::new();
        let mut d = d_in;
        for &w in widths {
            hidden.push(LinearConfig::new(d, w).init(device));
            d = w;
        }
        Self {
            hidden,
            dropout: DropoutConfig::new(dropout).init(),
            output: LinearConfig::new(d, classes).init(device),
        }
    }

    pub fn forward(&self, mut x: Tensor<2>) -> Tensor<2> {
        for layer in &self.hidden {
            x = relu(layer.forward(x));
        }
        self.output.forward(self.dropout.forward(x))
    }

    /// Dropout is the identity at inference and is not exported.
    pub fn export(&self, g: &mut Graph, x: &str) -> String {
        let mut x = x.to_owned();
        for layer in &self.hidden {
            let y = layers::linear(g, layer, &x);
            x = layers::relu(g, &y);
        }
        layers::linear(g, &self.output, &x)
    }
}

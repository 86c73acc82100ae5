//! MobileNetV2-style net (research source 003 used ImageNet's MobileNetV2; this one is trained
//! from scratch on log-mel): a strided stem, inverted-residual bottlenecks (1×1 expansion,
//! 3×3 depthwise, linear 1×1 projection, identity shortcut where the shape allows), a 1×1
//! head convolution, global average pooling, dropout and the output layer. Half the width of
//! MobileNetV2 and fewer repeats, so that it trains on a CPU.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::tensor::{Device, Tensor};

use super::blocks::DenseHead;
use super::Hyper;
use crate::onnx::{layers, Graph};

/// `(expansion, repeats, stride)` of each bottleneck stage; `Hyper::channels` gives the stem's
/// width, then each stage's output width, then the head convolution's width.
pub const STAGES: [(usize, usize, usize); 6] = [
    (1, 1, 1),
    (6, 2, 2),
    (6, 2, 2),
    (6, 2, 2),
    (6, 1, 1),
    (6, 1, 2),
];

/// Convolution (no bias) → batch norm → optional ReLU6.
#[derive(Module, Debug)]
struct ConvBn {
    conv: Conv2d,
    norm: BatchNorm,
    relu6: bool,
}

impl ConvBn {
    /// A `kernel`×`kernel` convolution with `groups` groups; padded to keep the size at stride 1.
    fn new(
        [c_in, c_out]: [usize; 2],
        kernel: usize,
        stride: usize,
        groups: usize,
        relu6: bool,
        device: &Device,
    ) -> Self {
        let p = kernel / 2;
        Self {
            conv: Conv2dConfig::new([c_in, c_out], [kernel, kernel])
                .with_stride([stride, stride])
                .with_groups(groups)
                .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
                .with_bias(false)
                .init(device),
            norm: BatchNormConfig::new(c_out).init(device),
            relu6,
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x = self.norm.forward(self.conv.forward(x));
        if self.relu6 {
            x.clamp(0.0, 6.0)
        } else {
            x
        }
    }

    fn export(&self, g: &mut Graph, x: &str) -> anyhow::Result<String> {
        let x = layers::conv2d(g, &self.conv, x)?;
        let x = layers::batch_norm(g, &self.norm, &x);
        Ok(if self.relu6 {
            layers::clip(g, &x, 0.0, 6.0)
        } else {
            x
        })
    }
}

/// One inverted residual: expand (skipped at expansion 1), depthwise, project.
#[derive(Module, Debug)]
struct Bottleneck {
    expand: Option<ConvBn>,
    depthwise: ConvBn,
    project: ConvBn,
    residual: bool,
}

impl Bottleneck {
    fn new(c_in: usize, c_out: usize, expansion: usize, stride: usize, device: &Device) -> Self {
        let hidden = c_in * expansion;
        Self {
            expand: (expansion != 1).then(|| ConvBn::new([c_in, hidden], 1, 1, 1, true, device)),
            depthwise: ConvBn::new([hidden, hidden], 3, stride, hidden, true, device),
            project: ConvBn::new([hidden, c_out], 1, 1, 1, false, device),
            residual: stride == 1 && c_in == c_out,
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let mut y = x.clone();
        if let Some(expand) = &self.expand {
            y = expand.forward(y);
        }
        let y = self.project.forward(self.depthwise.forward(y));
        if self.residual {
            y + x
        } else {
            y
        }
    }

    fn export(&self, g: &mut Graph, x: &str) -> anyhow::Result<String> {
        let mut y = x.to_owned();
        if let Some(expand) = &self.expand {
            y = expand.export(g, &y)?;
        }
        let y = self.depthwise.export(g, &y)?;
        let y = self.project.export(g, &y)?;
        Ok(if self.residual {
            layers::add(g, &y, x)
        } else {
            y
        })
    }
}

#[derive(Module, Debug)]
pub struct MobileNet {
    stem: ConvBn,
    blocks: Vec<Bottleneck>,
    last: ConvBn,
    head: DenseHead,
}

impl MobileNet {
    pub fn new(
        hyper: &Hyper,
        frames: usize,
        width: usize,
        classes: usize,
        device: &Device,
    ) -> anyhow::Result<Self> {
        let c = &hyper.channels;
        anyhow::ensure!(
            c.len() == STAGES.len() + 2,
            "the MobileNetV2-style net takes {} channel counts (stem, {} stages, head), got {}",
            STAGES.len() + 2,
            STAGES.len(),
            c.len()
        );
        // Each stride-2 step halves a size, rounding up (3×3 kernels, padding 1).
        let strides = 1 + STAGES.iter().filter(|s| s.2 == 2).count();
        anyhow::ensure!(
            frames >= 1 << (strides - 1) && width >= 1 << (strides - 1),
            "input of {frames}×{width} is too small for {strides} stride-2 steps"
        );
        let mut blocks = Vec::new();
        let mut c_in = c[0];
        for (&(expansion, repeats, stride), &c_out) in STAGES.iter().zip(&c[1..]) {
            for r in 0..repeats {
                let s = if r == 0 { stride } else { 1 };
                blocks.push(Bottleneck::new(c_in, c_out, expansion, s, device));
                c_in = c_out;
            }
        }
        let head_width = *c.last().unwrap();
        Ok(Self {
            stem: ConvBn::new([1, c[0]], 3, 2, 1, true, device),
            blocks,
            last: ConvBn::new([c_in, head_width], 1, 1, 1, true, device),
            head: DenseHead::new(head_width, &hyper.dense, hyper.dropout, classes, device),
        })
    }

    pub fn forward(&self, x: Tensor<3>) -> Tensor<2> {
        let x = self.stem.forward(x.unsqueeze_dim::<4>(1));
        let x = self.blocks.iter().fold(x, |x, block| block.forward(x));
        let x = self.last.forward(x);
        // Global average pooling: [batch, c, h, w] → [batch, c].
        let pooled = x.mean_dim(3).mean_dim(2).flatten(1, 3);
        self.head.forward(pooled)
    }

    pub fn export(&self, g: &mut Graph, input: &str) -> anyhow::Result<String> {
        let x = layers::unsqueeze(g, input, &[1]);
        let mut x = self.stem.export(g, &x)?;
        for block in &self.blocks {
            x = block.export(g, &x)?;
        }
        let x = self.last.export(g, &x)?;
        let x = g.node("GlobalAveragePool", &[&x], vec![]);
        let x = layers::flatten(g, &x);
        Ok(self.head.export(g, &x))
    }
}

//! MFCC-CNN (research source 000): conv blocks over the MFCC "image", dense head.

use burn::module::Module;
use burn::tensor::{Device, Tensor};

use super::blocks::{conv_stack, ConvBlock, DenseHead};
use super::Hyper;
use crate::onnx::{layers, Graph};

#[derive(Module, Debug)]
pub struct MfccCnn {
    blocks: Vec<ConvBlock>,
    head: DenseHead,
}

impl MfccCnn {
    pub fn new(
        hyper: &Hyper,
        frames: usize,
        width: usize,
        classes: usize,
        device: &Device,
    ) -> anyhow::Result<Self> {
        anyhow::ensure!(!hyper.channels.is_empty(), "the CNN needs conv blocks");
        let (blocks, [h, w]) = conv_stack(&hyper.channels, hyper.kernel, [frames, width], device)?;
        let flat = hyper.channels.last().unwrap() * h * w;
        Ok(Self {
            blocks,
            head: DenseHead::new(flat, &hyper.dense, hyper.dropout, classes, device),
        })
    }

    pub fn forward(&self, x: Tensor<3>) -> Tensor<2> {
        let mut x = x.unsqueeze_dim::<4>(1);
        for block in &self.blocks {
            x = block.forward(x);
        }
        self.head.forward(x.flatten(1, 3))
    }

    pub fn export(&self, g: &mut Graph, input: &str) -> anyhow::Result<String> {
        let mut x = layers::unsqueeze(g, input, &[1]);
        for block in &self.blocks {
            x = block.export(g, &x)?;
        }
        let flat = g.node("Flatten", &[&x], vec![("axis", crate::onnx::graph::Attr::Int(1))]);
        Ok(self.head.export(g, &flat))
    }
}

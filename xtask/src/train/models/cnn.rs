//! MFCC-CNN (research source 000): conv blocks over the MFCC "image", dense head.

use burn::module::Module;
use burn::tensor::{Device, Tensor};

use super::blocks::{ConvStack, DenseHead};
use super::Hyper;
use crate::onnx::{layers, Graph};

#[derive(Module, Debug)]
pub struct MfccCnn {
    convs: ConvStack,
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
        let (convs, [h, w]) =
            ConvStack::new(&hyper.channels, hyper.kernel, [frames, width], device)?;
        let flat = hyper.channels.last().unwrap() * h * w;
        Ok(Self {
            convs,
            head: DenseHead::new(flat, &hyper.dense, hyper.dropout, classes, device),
        })
    }

    pub fn forward(&self, x: Tensor<3>) -> Tensor<2> {
        self.head.forward(self.convs.forward(x).flatten(1, 3))
    }

    pub fn export(&self, g: &mut Graph, input: &str) -> anyhow::Result<String> {
        let x = self.convs.export(g, input)?;
        let flat = layers::flatten(g, &x);
        Ok(self.head.export(g, &flat))
    }
}

//! Descriptor MLP (research source 002's MLP branch): dense layers and dropout on the 57-value
//! GTZAN-table descriptor vector.

use burn::module::Module;
use burn::tensor::{Device, Tensor};

use super::blocks::DenseHead;
use super::Hyper;
use crate::onnx::{layers, Graph};

#[derive(Module, Debug)]
pub struct DescriptorMlp {
    head: DenseHead,
}

impl DescriptorMlp {
    pub fn new(
        hyper: &Hyper,
        inputs: usize,
        classes: usize,
        device: &Device,
    ) -> anyhow::Result<Self> {
        anyhow::ensure!(!hyper.dense.is_empty(), "the MLP needs dense layers");
        Ok(Self {
            head: DenseHead::new(inputs, &hyper.dense, hyper.dropout, classes, device),
        })
    }

    pub fn forward(&self, x: Tensor<3>) -> Tensor<2> {
        self.head.forward(x.flatten(1, 2))
    }

    pub fn export(&self, g: &mut Graph, input: &str) -> String {
        let flat = layers::flatten(g, input);
        self.head.export(g, &flat)
    }
}

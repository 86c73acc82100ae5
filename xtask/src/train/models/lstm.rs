//! MFCC-LSTM (research source 000): two stacked LSTM layers over the frames, dense head on the
//! last hidden state.

use burn::module::Module;
use burn::nn::{Lstm, LstmConfig};
use burn::tensor::{Device, Tensor};

use super::blocks::DenseHead;
use super::Hyper;
use crate::onnx::{layers, Graph};

#[derive(Module, Debug)]
pub struct MfccLstm {
    first: Lstm,
    second: Lstm,
    head: DenseHead,
}

impl MfccLstm {
    pub fn new(
        hyper: &Hyper,
        width: usize,
        classes: usize,
        device: &Device,
    ) -> anyhow::Result<Self> {
        anyhow::ensure!(hyper.hidden > 0, "the LSTM needs hidden units");
        Ok(Self {
            first: LstmConfig::new(width, hyper.hidden, true).init(device),
            second: LstmConfig::new(hyper.hidden, hyper.hidden, true).init(device),
            head: DenseHead::new(hyper.hidden, &hyper.dense, hyper.dropout, classes, device),
        })
    }

    pub fn forward(&self, x: Tensor<3>) -> Tensor<2> {
        let (y, _) = self.first.forward(x, None);
        let (_, state) = self.second.forward(y, None);
        self.head.forward(state.hidden)
    }

    pub fn export(&self, g: &mut Graph, input: &str) -> anyhow::Result<String> {
        let x = layers::transpose(g, input, &[1, 0, 2]);
        let (y, _) = layers::lstm(g, &self.first, &x)?;
        let (_, h) = layers::lstm(g, &self.second, &y)?;
        Ok(self.head.export(g, &h))
    }
}

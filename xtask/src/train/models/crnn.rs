//! CRNN (research source 004): conv blocks, then an LSTM over the remaining time axis with the
//! channels × frequency values of each step as its input, dense head on the last hidden state.

use burn::module::Module;
use burn::nn::{Lstm, LstmConfig};
use burn::tensor::{Device, Tensor};

use super::blocks::{ConvStack, DenseHead};
use super::Hyper;
use crate::onnx::{layers, Graph};

#[derive(Module, Debug)]
pub struct Crnn {
    convs: ConvStack,
    rnn: Lstm,
    head: DenseHead,
}

impl Crnn {
    pub fn new(
        hyper: &Hyper,
        frames: usize,
        width: usize,
        classes: usize,
        device: &Device,
    ) -> anyhow::Result<Self> {
        anyhow::ensure!(hyper.hidden > 0, "the CRNN needs hidden units");
        let (convs, [_, w]) =
            ConvStack::new(&hyper.channels, hyper.kernel, [frames, width], device)?;
        let step = hyper.channels.last().unwrap() * w;
        Ok(Self {
            convs,
            rnn: LstmConfig::new(step, hyper.hidden, true).init(device),
            head: DenseHead::new(hyper.hidden, &hyper.dense, hyper.dropout, classes, device),
        })
    }

    pub fn forward(&self, x: Tensor<3>) -> Tensor<2> {
        let x = self.convs.forward(x);
        // [batch, channels, time, freq] → [batch, time, channels · freq]
        let [batch, channels, time, freq] = x.dims();
        let steps = x.swap_dims(1, 2).reshape([batch, time, channels * freq]);
        let (_, state) = self.rnn.forward(steps, None);
        self.head.forward(state.hidden)
    }

    pub fn export(&self, g: &mut Graph, input: &str) -> anyhow::Result<String> {
        let x = self.convs.export(g, input)?;
        // [batch, channels, time, freq] → [time, batch, channels · freq] (sequence first).
        let x = layers::transpose(g, &x, &[2, 0, 1, 3]);
        let steps = layers::reshape(g, &x, &[0, 0, -1]);
        let (_, h) = layers::lstm(g, &self.rnn, &steps)?;
        Ok(self.head.export(g, &h))
    }
}

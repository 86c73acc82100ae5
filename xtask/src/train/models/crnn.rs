//! CRNN (research source 004): conv blocks, then an LSTM over the remaining time axis with the
//! channels × frequency values of each step as its input, dense head on the last hidden state.

use burn::module::Module;
use burn::nn::{Lstm, LstmConfig};
use burn::tensor::{Device, Tensor};

use super::blocks::{conv_stack, ConvBlock, DenseHead};
use super::Hyper;
use crate::onnx::{layers, Graph};

#[derive(Module, Debug)]
pub struct Crnn {
    blocks: Vec<ConvBlock>,
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
        anyhow::ensure!(
            !hyper.channels.is_empty() && hyper.hidden > 0,
            "the CRNN needs conv blocks and hidden units"
        );
        let (blocks, [_, w]) = conv_stack(&hyper.channels, hyper.kernel, [frames, width], device)?;
        let step = hyper.channels.last().unwrap() * w;
        Ok(Self {
            blocks,
            rnn: LstmConfig::new(step, hyper.hidden, true).init(device),
            head: DenseHead::new(hyper.hidden, &hyper.dense, hyper.dropout, classes, device),
        })
    }

    pub fn forward(&self, x: Tensor<3>) -> Tensor<2> {
        let mut x = x.unsqueeze_dim::<4>(1);
        for block in &self.blocks {
            x = block.forward(x);
        }
        // [batch, channels, time, freq] → [batch, time, channels · freq]
        let [batch, channels, time, freq] = x.dims();
        let steps = x.swap_dims(1, 2).reshape([batch, time, channels * freq]);
        let (_, state) = self.rnn.forward(steps, None);
        self.head.forward(state.hidden)
    }

    pub fn export(&self, g: &mut Graph, input: &str) -> anyhow::Result<String> {
        let mut x = layers::unsqueeze(g, input, &[1]);
        for block in &self.blocks {
            x = block.export(g, &x)?;
        }
        // [batch, channels, time, freq] → [time, batch, channels · freq] (sequence first).
        let x = layers::transpose(g, &x, &[2, 0, 1, 3]);
        let steps = layers::reshape(g, &x, &[0, 0, -1]);
        let (_, h) = layers::lstm(g, &self.rnn, &steps)?;
        Ok(self.head.export(g, &h))
    }
}

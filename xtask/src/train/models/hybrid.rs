//! Hybrid (research source 002): a log-mel CNN branch and an MLP branch on the window's
//! descriptor vector, concatenated into a dense layer, dropout and the output layer. The input
//! is [`genrescope::inference::ModelInput::Hybrid`]'s `[batch, frames + 1, width]`: the frames,
//! then a row whose first [`SUMMARY_LEN`] values are the descriptors.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};
use genrescope::features::descriptors::SUMMARY_LEN;

use super::blocks::{ConvStack, DenseHead};
use super::Hyper;
use crate::onnx::{layers, Graph};

#[derive(Module, Debug)]
pub struct Hybrid {
    convs: ConvStack,
    /// The CNN branch's dense layer (flattened conv output → `hyper.hidden`).
    cnn_dense: Linear,
    /// The MLP branch: `hyper.dense` ReLU layers, dropout, a last layer of `hyper.hidden / 2`.
    mlp: DenseHead,
    /// Both branches → `hyper.hidden` → dropout → classes.
    head: DenseHead,
    frames: usize,
}

impl Hybrid {
    /// `rows` is `frames + 1`.
    pub fn new(
        hyper: &Hyper,
        rows: usize,
        width: usize,
        classes: usize,
        device: &Device,
    ) -> anyhow::Result<Self> {
        anyhow::ensure!(
            width >= SUMMARY_LEN && rows >= 2,
            "hybrid windows are frames plus a descriptor row of at least {SUMMARY_LEN} values"
        );
        anyhow::ensure!(hyper.hidden >= 2, "the hybrid needs hidden units");
        let frames = rows - 1;
        let (convs, [h, w]) =
            ConvStack::new(&hyper.channels, hyper.kernel, [frames, width], device)?;
        let flat = hyper.channels.last().unwrap() * h * w;
        let mlp_out = hyper.hidden / 2;
        Ok(Self {
            convs,
            cnn_dense: LinearConfig::new(flat, hyper.hidden).init(device),
            mlp: DenseHead::new(SUMMARY_LEN, &hyper.dense, hyper.dropout, mlp_out, device),
            head: DenseHead::new(
                hyper.hidden + mlp_out,
                &[hyper.hidden],
                hyper.dropout,
                classes,
                device,
            ),
            frames,
        })
    }

    pub fn forward(&self, x: Tensor<3>) -> Tensor<2> {
        let [batch, rows, width] = x.dims();
        let mel = x.clone().slice([0..batch, 0..self.frames, 0..width]);
        let descriptors = x
            .slice([0..batch, self.frames..rows, 0..SUMMARY_LEN])
            .flatten(1, 2);
        let cnn = relu(
            self.cnn_dense
                .forward(self.convs.forward(mel).flatten(1, 3)),
        );
        let mlp = relu(self.mlp.forward(descriptors));
        self.head.forward(Tensor::cat(vec![cnn, mlp], 1))
    }

    pub fn export(&self, g: &mut Graph, input: &str) -> anyhow::Result<String> {
        let frames = self.frames as i64;
        let mel = layers::slice(g, input, &[1, 2], &[0, 0], &[frames, i64::MAX]);
        let descriptors = layers::slice(
            g,
            input,
            &[1, 2],
            &[frames, 0],
            &[frames + 1, SUMMARY_LEN as i64],
        );
        let cnn = self.convs.export(g, &mel)?;
        let cnn = layers::flatten(g, &cnn);
        let cnn = layers::linear(g, &self.cnn_dense, &cnn);
        let cnn = layers::relu(g, &cnn);
        let descriptors = layers::flatten(g, &descriptors);
        let mlp = self.mlp.export(g, &descriptors);
        let mlp = layers::relu(g, &mlp);
        let both = layers::concat(g, &[&cnn, &mlp], 1);
        Ok(self.head.export(g, &both))
    }
}

//! musicnn as ONNX models, exported from the burn port (`net.rs`): the 50-tag tagger and the
//! embedding model that transfer learning reads.

use burn::tensor::Device;

use super::net::{self, Trunk};
use crate::onnx::graph::Graph;
use crate::onnx::layers;
use crate::weights::Weights;

pub use super::net::{EMBEDDING, FRAMES, MELS};

/// Output tags.
pub const TAGS: usize = 50;

/// The tagger: input `[batch, 187, 96]` log-compressed mel patches, output `[batch, 50]` tag
/// probabilities.
pub fn build(w: &Weights, doc: &str) -> anyhow::Result<Vec<u8>> {
    let device = Device::flex();
    let mut g = Graph::new();
    let hidden = Trunk::new(w, &device)?.export(&mut g, "input")?;
    let tags = net::dense(w, "dense_1", [EMBEDDING, TAGS], &device)?;
    let logits = layers::linear(&mut g, &tags, &hidden);
    let probabilities = g.node("Sigmoid", &[&logits], vec![]);
    Ok(finish(g, &probabilities, TAGS, doc))
}

/// The network up to its penultimate layer: output `[batch, 200]` embeddings.
pub fn embedding_model(w: &Weights) -> anyhow::Result<Vec<u8>> {
    let mut g = Graph::new();
    let hidden = Trunk::new(w, &Device::flex())?.export(&mut g, "input")?;
    Ok(finish(g, &hidden, EMBEDDING, "musicnn embeddings"))
}

/// `output` as the graph's `"probabilities"`, `[batch, width]`, for input `[batch, 187, 96]`.
pub fn finish(g: Graph, output: &str, width: usize, doc: &str) -> Vec<u8> {
    g.finish(
        ("input", &[None, Some(FRAMES), Some(MELS)]),
        (output, &[None, Some(width)]),
        "probabilities",
        doc,
    )
}

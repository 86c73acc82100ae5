//! Which value of an ONNX graph is the embedding, and the model that also outputs it.
//!
//! By default the embedding is the model's penultimate layer: the first input of the final dense
//! layer, found by walking back from the graph's (first) output through output-side ops
//! ([`OUTPUT_SIDE`]) to the first `Gemm` or `MatMul`. Our exporters end every model in
//! `Gemm → Softmax|Sigmoid → Identity("probabilities")` (`Net::to_onnx`, `musicnn/graph.rs`,
//! the musicnn transfer graph), so that is the value the head's last `Gemm` reads. `--layer`
//! names any node output instead. The graph is decoded and re-encoded with the exporter's
//! `prost` types ([`crate::onnx::proto`]), which cover what our exporters write; fields outside
//! that subset would be dropped, so graphs from other tools are not supported.

use std::collections::HashMap;

use anyhow::{bail, Context};
use prost::Message;

use crate::onnx::proto::{
    ModelProto, NodeProto, TensorTypeProto, TypeProto, ValueInfoProto, FLOAT,
};

/// Ops that may sit between the final dense layer and the graph output: renames, output
/// activations and element-wise steps (bias, temperature).
const OUTPUT_SIDE: &[&str] = &[
    "Identity",
    "Softmax",
    "LogSoftmax",
    "Sigmoid",
    "Add",
    "Sub",
    "Mul",
    "Div",
];
/// Ops that count as the final dense layer.
const DENSE: &[&str] = &["Gemm", "MatMul"];

/// The value embedded.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Layer {
    /// Its name in the graph (also the name of the extra output).
    pub name: String,
    /// Op type of the node that computes it.
    pub producer: String,
    /// How it was chosen, for the reports.
    pub description: String,
}

/// A model with the embedding as an extra graph output.
pub struct EmbeddingModel {
    /// The ONNX bytes: the original outputs first, then [`Layer::name`].
    pub onnx: Vec<u8>,
    pub layer: Layer,
}

/// `onnx` with the layer `name` (default: the input of the final dense layer) added as an
/// output.
pub fn with_embedding_output(onnx: &[u8], name: Option<&str>) -> anyhow::Result<EmbeddingModel> {
    let mut model = ModelProto::decode(onnx).context("not an ONNX model")?;
    let graph = model
        .graph
        .as_mut()
        .context("the ONNX model has no graph")?;
    let producers: HashMap<&str, &NodeProto> = graph
        .node
        .iter()
        .flat_map(|n| n.output.iter().map(move |o| (o.as_str(), n)))
        .collect();
    let layer = match name {
        Some(name) => match producers.get(name) {
            Some(node) => Layer {
                name: name.to_owned(),
                producer: node.op_type.clone(),
                description: format!(
                    "`{name}`, output of {} `{}` (--layer)",
                    node.op_type, node.name
                ),
            },
            None => bail!(
                "the graph computes no value `{name}`; its last node outputs are {}",
                last_outputs(&graph.node, 12)
            ),
        },
        None => penultimate(graph.output.first().map(|o| o.name.as_str()), &producers)?,
    };
    if !graph.output.iter().any(|o| o.name == layer.name) {
        graph.output.push(ValueInfoProto {
            name: layer.name.clone(),
            // Float tensor of a shape ONNX Runtime infers.
            r#type: Some(TypeProto {
                tensor_type: Some(TensorTypeProto {
                    elem_type: FLOAT,
                    shape: None,
                }),
            }),
        });
    }
    Ok(EmbeddingModel {
        onnx: model.encode_to_vec(),
        layer,
    })
}

/// The first input of the final dense layer, walking back from `output`.
fn penultimate(
    output: Option<&str>,
    producers: &HashMap<&str, &NodeProto>,
) -> anyhow::Result<Layer> {
    let output = output.context("the graph has no output")?;
    let mut value = output;
    let mut walked = Vec::new();
    loop {
        let node = producers.get(value).with_context(|| {
            format!("`{value}` is not computed by a node; pick a layer with --layer")
        })?;
        if DENSE.contains(&node.op_type.as_str()) {
            let name = node.input[0].clone();
            let producer = producers
                .get(name.as_str())
                .map_or_else(|| "graph input".to_owned(), |n| n.op_type.clone());
            walked.reverse();
            return Ok(Layer {
                description: format!(
                    "`{name}` ({producer} output), the input of the final {} `{}` (then {} → `{output}`)",
                    node.op_type,
                    node.name,
                    walked.join(" → ")
                ),
                name,
                producer,
            });
        }
        if !OUTPUT_SIDE.contains(&node.op_type.as_str()) {
            bail!(
                "no dense layer (Gemm/MatMul) before the output: walking back from `{output}` reached a {} node; pick a layer with --layer",
                node.op_type
            );
        }
        walked.push(node.op_type.clone());
        // Follow the computed operand (not a weight, bias or temperature).
        value = node
            .input
            .iter()
            .find(|i| producers.contains_key(i.as_str()))
            .with_context(|| format!("{} `{}` has no computed input", node.op_type, node.name))?;
    }
}

/// "`v9` (Gemm), `v10` (Softmax), ..." for the last `count` node outputs, for error messages.
fn last_outputs(nodes: &[NodeProto], count: usize) -> String {
    let outputs: Vec<String> = nodes
        .iter()
        .flat_map(|n| {
            n.output
                .iter()
                .map(move |o| format!("`{o}` ({})", n.op_type))
        })
        .collect();
    outputs[outputs.len().saturating_sub(count)..].join(", ")
}

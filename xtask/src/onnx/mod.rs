//! Writing ONNX models. burn imports ONNX but cannot export it, so the trained models are
//! written here: [`proto`] is the subset of `onnx.proto` we emit (encoded with `prost`),
//! [`graph::Graph`] builds a graph node by node, and [`layers`] turns burn modules into nodes.

pub mod graph;
pub mod layers;
pub mod proto;

pub use graph::Graph;

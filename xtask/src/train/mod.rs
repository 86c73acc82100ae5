//! `cargo xtask train`: labelled audio → a trained burn model → ONNX + metadata.

pub mod models;

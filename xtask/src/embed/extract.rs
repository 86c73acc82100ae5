//! Running an [`EmbeddingModel`] through ONNX Runtime: window embeddings, and a clip's
//! embedding as the mean of its windows'.

use std::path::Path;

use genrescope::inference::{file_windows, model::session, Provider, Runtime, WindowCutter};
use ndarray::{Array2, ArrayView3, Axis};
use ort::session::Session;
use ort::value::TensorRef;

use super::layer::EmbeddingModel;

/// A single-threaded CPU session of an embedding model.
pub struct Embedder {
    session: Session,
    /// Name of the embedding output.
    output: String,
}

impl Embedder {
    pub fn new(runtime: &Runtime, model: &EmbeddingModel) -> anyhow::Result<Self> {
        Ok(Self {
            session: session(runtime, &model.onnx, Provider::Cpu).map_err(anyhow::Error::msg)?,
            output: model.layer.name.clone(),
        })
    }

    /// The layer's values for a batch of windows (`[windows, frames, width]`), each window's
    /// flattened: `[windows, dimension]`. The layer's first axis must be the batch.
    pub fn windows(&mut self, windows: ArrayView3<f32>) -> Result<Array2<f32>, String> {
        let count = windows.dim().0;
        let input = TensorRef::from_array_view(windows).map_err(|e| format!("input: {e}"))?;
        let outputs = self
            .session
            .run(ort::inputs![input])
            .map_err(|e| format!("inference failed: {e}"))?;
        let value = outputs[self.output.as_str()]
            .try_extract_array::<f32>()
            .map_err(|e| format!("layer `{}`: {e}", self.output))?;
        if value.ndim() == 0 || value.shape()[0] != count {
            return Err(format!(
                "layer `{}` has shape {:?}: its first axis is not the batch of {count} windows",
                self.output,
                value.shape()
            ));
        }
        let dimension = value.len() / count;
        Ok(value
            .to_shape((count, dimension))
            .map_err(|e| e.to_string())?
            .to_owned())
    }

    /// The clip's embedding: the mean of its windows' embeddings.
    pub fn clip(&mut self, cutter: &WindowCutter, path: &Path) -> Result<Vec<f32>, String> {
        let windows = file_windows(cutter, path).map_err(|e| e.reason())?.windows;
        Ok(self
            .windows(windows.view())?
            .mean_axis(Axis(0))
            .expect("at least one window")
            .to_vec())
    }
}

//! The musicnn weights as written by `tools/musicnn/export_weights.py`: `weights.json` plus one
//! raw little-endian float32 file per TensorFlow variable, in the variable's row-major shape.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

#[derive(Deserialize)]
struct Listing {
    variables: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    name: String,
    shape: Vec<usize>,
    file: String,
}

/// One variable: its TensorFlow shape and values.
#[derive(Clone)]
pub struct Variable {
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// Every variable of one checkpoint, by TensorFlow name (`conv2d_5/kernel`, ...).
pub struct Weights {
    pub dir: PathBuf,
    variables: HashMap<String, Variable>,
}

impl Weights {
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let listing: Listing = serde_json::from_str(
            &std::fs::read_to_string(dir.join("weights.json")).with_context(|| {
                format!("{}: run tools/musicnn/export_weights.py", dir.display())
            })?,
        )?;
        let mut variables = HashMap::new();
        for entry in listing.variables {
            let bytes = std::fs::read(dir.join(&entry.file))?;
            let values: Vec<f32> = bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            anyhow::ensure!(
                values.len() == entry.shape.iter().product::<usize>(),
                "{}: {} values for shape {:?}",
                entry.file,
                values.len(),
                entry.shape
            );
            variables.insert(
                entry.name,
                Variable {
                    shape: entry.shape,
                    values,
                },
            );
        }
        Ok(Self {
            dir: dir.to_owned(),
            variables,
        })
    }

    /// Weights held in memory (tests build synthetic ones).
    #[cfg(test)]
    pub fn from_variables(variables: HashMap<String, Variable>) -> Self {
        Self {
            dir: PathBuf::from("<memory>"),
            variables,
        }
    }

    /// These weights with some variables replaced (a narrowed network: `narrow.rs`); `dir`
    /// still names where they came from (tag lists and licences live there).
    pub fn with_replaced(&self, replaced: HashMap<String, Variable>) -> Self {
        let mut variables = self.variables.clone();
        variables.extend(replaced);
        Self {
            dir: self.dir.clone(),
            variables,
        }
    }

    /// The shape of variable `name`.
    pub fn shape(&self, name: &str) -> anyhow::Result<&[usize]> {
        Ok(&self.variable(name)?.shape)
    }

    /// The variable `name`, whatever its shape.
    pub fn variable(&self, name: &str) -> anyhow::Result<&Variable> {
        self.variables
            .get(name)
            .with_context(|| format!("variable {name} missing from {}", self.dir.display()))
    }

    /// The variable `name`, checked to have `shape`.
    pub fn get(&self, name: &str, shape: &[usize]) -> anyhow::Result<&Variable> {
        let variable = self.variable(name)?;
        anyhow::ensure!(
            variable.shape == shape,
            "{name}: shape {:?}, expected {shape:?}",
            variable.shape
        );
        Ok(variable)
    }

    /// Total number of values.
    pub fn parameters(&self) -> usize {
        self.variables.values().map(|v| v.values.len()).sum()
    }
}

/// A TensorFlow conv kernel `[kh, kw, in, out]` as ONNX's `[out, in, kh, kw]`.
pub fn conv_kernel_to_onnx(kernel: &Variable) -> (Vec<usize>, Vec<f32>) {
    let [kh, kw, cin, cout] = kernel.shape[..] else {
        panic!("conv kernels are 4-D");
    };
    let mut out = vec![0.0; kernel.values.len()];
    for i in 0..kh {
        for j in 0..kw {
            for c in 0..cin {
                for o in 0..cout {
                    out[((o * cin + c) * kh + i) * kw + j] =
                        kernel.values[((i * kw + j) * cin + c) * cout + o];
                }
            }
        }
    }
    (vec![cout, cin, kh, kw], out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conv_kernels_move_to_onnx_layout() {
        // kh 2, kw 3, in 1, out 2: value = 100 i + 10 j + o.
        let values = (0..2)
            .flat_map(|i| {
                (0..3).flat_map(move |j| (0..2).map(move |o| (100 * i + 10 * j + o) as f32))
            })
            .collect();
        let (shape, onnx) = conv_kernel_to_onnx(&Variable {
            shape: vec![2, 3, 1, 2],
            values,
        });
        assert_eq!(shape, vec![2, 1, 2, 3]);
        // ONNX [o, 0, i, j] at ((o * in + 0) * kh + i) * kw + j: [1, 0, 1, 2] is 121.
        let at = |o: usize, i: usize, j: usize| (o * 2 + i) * 3 + j;
        assert_eq!(onnx[at(1, 1, 2)], 121.0);
        assert_eq!(onnx[at(0, 1, 0)], 100.0);
        assert_eq!(onnx[2], 20.0);
    }
}

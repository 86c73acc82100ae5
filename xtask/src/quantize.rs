//! ONNX Runtime's dynamic int8 quantisation of a model file: weights stored as 8-bit integers,
//! activations quantised per call (`ConvInteger`, `MatMulInteger`). ONNX Runtime ships its
//! quantiser only in Python, so `tools/quantize/quantize_dynamic.py` runs it, with the Python of
//! `GENRESCOPE_QUANTIZE_PYTHON` (default: `.venv-quantize/bin/python`, made once by
//! `python3 -m venv .venv-quantize && .venv-quantize/bin/pip install onnxruntime==1.32.0 onnx`,
//! the same ONNX Runtime release as `cargo xtask ort`'s). Paths are relative to the repository,
//! where `cargo xtask` runs.

use std::path::{Path, PathBuf};
use std::process::Command;

use genrescope::inference::ModelMetadata;

/// The Python with `onnxruntime` and `onnx`.
fn python() -> PathBuf {
    std::env::var_os("GENRESCOPE_QUANTIZE_PYTHON").map_or_else(
        || PathBuf::from(".venv-quantize/bin/python"),
        PathBuf::from,
    )
}

/// Quantises `model` (with its `.json`, and a pooled model's head, beside it) into `out`, its
/// metadata copied beside it under `out`'s name.
pub fn file(model: &Path, out: &Path) -> anyhow::Result<()> {
    let python = python();
    anyhow::ensure!(
        python.is_file(),
        "{} is missing: the quantiser needs a Python with onnxruntime==1.32.0 and onnx \
         (`python3 -m venv .venv-quantize && .venv-quantize/bin/pip install onnxruntime==1.32.0 \
         onnx`, or set GENRESCOPE_QUANTIZE_PYTHON)",
        python.display()
    );
    let output = Command::new(&python)
        .arg("tools/quantize/quantize_dynamic.py")
        .args([model, out])
        .arg("--no-timing")
        .output()?;
    anyhow::ensure!(
        output.status.success(),
        "quantising {} failed: {}",
        model.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}

/// The int8 graph of `onnx`, whose inputs and outputs `metadata` describes.
pub fn graph(onnx: &[u8], metadata: &ModelMetadata) -> anyhow::Result<Vec<u8>> {
    let dir = std::env::temp_dir().join(format!(
        "genrescope-quantize-{}-{}",
        std::process::id(),
        blake3::hash(onnx).to_hex()
    ));
    std::fs::create_dir_all(&dir)?;
    let result = (|| {
        let model = dir.join("float.onnx");
        std::fs::write(&model, onnx)?;
        std::fs::write(
            ModelMetadata::path_for(&model),
            serde_json::to_string(metadata)?,
        )?;
        let out = dir.join("int8.onnx");
        file(&model, &out)?;
        Ok(std::fs::read(&out)?)
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

//! ONNX Runtime's dynamic int8 quantisation of a model file: weights stored as 8-bit integers,
//! activations quantised per call (`ConvInteger`, `MatMulInteger`). ONNX Runtime ships its
//! quantiser only in Python, so `tools/quantize/quantize_dynamic.py` runs it, with the Python of
//! `GENRESCOPE_QUANTIZE_PYTHON` (default: `.venv-quantize/bin/python`, which `bash .ci/quantizer`
//! makes with the ONNX Runtime release `cargo xtask ort` provisions).

use std::path::{Path, PathBuf};
use std::process::Command;

use genrescope::inference::ModelMetadata;

/// The repository root (xtask lives in `<root>/xtask`).
fn repository() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask is a folder of the repository")
}

/// The Python with `onnxruntime` and `onnx`.
fn python() -> PathBuf {
    std::env::var_os("GENRESCOPE_QUANTIZE_PYTHON").map_or_else(
        || repository().join(".venv-quantize/bin/python"),
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
         (`bash .ci/quantizer`, or set GENRESCOPE_QUANTIZE_PYTHON)",
        python.display()
    );
    let output = Command::new(&python)
        .arg(repository().join("tools/quantize/quantize_dynamic.py"))
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
    let dir = tempfile::Builder::new()
        .prefix("genrescope-quantize-")
        .tempdir()?;
    let model = dir.path().join("float.onnx");
    std::fs::write(&model, onnx)?;
    std::fs::write(
        ModelMetadata::path_for(&model),
        serde_json::to_string(metadata)?,
    )?;
    let out = dir.path().join("int8.onnx");
    file(&model, &out)?;
    Ok(std::fs::read(&out)?)
}

#[cfg(test)]
mod tests {
    use genrescope::inference::{GenreModel, Provider};
    use ndarray::Array3;
    use rand::{Rng, SeedableRng};

    use super::*;

    #[test]
    fn the_int8_model_is_smaller_runs_integer_kernels_and_answers_nearly_alike() {
        let float = repository().join("models/mfcc-cnn.onnx");
        let dir = tempfile::Builder::new()
            .prefix("genrescope-int8-")
            .tempdir()
            .unwrap();
        let int8 = dir.path().join("mfcc-cnn-int8.onnx");
        file(&float, &int8).unwrap();
        let bytes = std::fs::read(&int8).unwrap();
        assert!(bytes.len() * 2 < std::fs::read(&float).unwrap().len());
        let has = |op: &[u8]| bytes.windows(op.len()).any(|w| w == op);
        assert!(has(b"ConvInteger") || has(b"MatMulInteger"));

        let runtime = genrescope::inference::runtime::for_tests();
        let mut a = GenreModel::load(&runtime, &float, Provider::Cpu).unwrap();
        let mut b = GenreModel::load(&runtime, &int8, Provider::Cpu).unwrap();
        assert_eq!(b.metadata.name, "mfcc-cnn-int8");
        assert_eq!(b.metadata.labels, a.metadata.labels);
        let shape = a.metadata.input.shape();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let windows =
            Array3::from_shape_fn((16, shape[0], shape[1]), |_| rng.random_range(-2.0..2.0));
        let (p, q) = (
            a.outputs(windows.view()).unwrap(),
            b.outputs(windows.view()).unwrap(),
        );
        let largest = p
            .iter()
            .zip(&q)
            .fold(0.0_f32, |m, (x, y)| m.max((x - y).abs()));
        assert!(largest < 0.2, "probabilities differ by up to {largest}");
        assert!(
            largest > 0.0,
            "the int8 graph computes in integers, not as the float one"
        );
    }
}

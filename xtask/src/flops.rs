//! Multiply-adds of one model run, counted from the shapes ONNX Runtime reports when it profiles
//! the run: every node's input and output shapes, so the count holds for any graph our
//! exporter or a quantiser wrote, with nothing to keep in step with the model code.
//!
//! Counted: convolutions (`Conv`, `ConvInteger`), matrix products (`Gemm`, `MatMul`,
//! `MatMulInteger`) and LSTMs, the operators that hold nearly all of a model's arithmetic; the
//! element-wise and pooling work beside them is left out. Graph optimisations are off, so the
//! count is of the graph as written (no fused or layout-changed kernels).

use std::path::Path;

use genrescope::inference::model::session_builder;
use genrescope::inference::Runtime;
use ndarray::ArrayD;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::TensorRef;
use serde::Deserialize;

/// One event of ONNX Runtime's profile (Chrome trace format); only node kernels are read.
#[derive(Deserialize)]
struct Event {
    cat: String,
    name: String,
    #[serde(default)]
    args: Args,
}

#[derive(Deserialize, Default)]
struct Args {
    #[serde(default)]
    op_name: String,
    /// One `{element type: dims}` per input.
    #[serde(default)]
    input_type_shape: Vec<std::collections::HashMap<String, Vec<usize>>>,
    #[serde(default)]
    output_type_shape: Vec<std::collections::HashMap<String, Vec<usize>>>,
}

/// Multiply-adds of one run of `onnx` on an input of `shape` (batch first; 1 for one window).
pub fn multiply_adds(runtime: &Runtime, onnx: &[u8], shape: &[usize]) -> anyhow::Result<u64> {
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("genrescope-flops-{}-{run}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let counted = profiled(runtime, onnx, shape, &dir);
    std::fs::remove_dir_all(&dir)?;
    counted
}

fn profiled(runtime: &Runtime, onnx: &[u8], shape: &[usize], dir: &Path) -> anyhow::Result<u64> {
    let mut session = session_builder(runtime)
        .map_err(anyhow::Error::msg)?
        .with_optimization_level(GraphOptimizationLevel::Disable)
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .with_profiling(dir.join("profile"))
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .commit_from_memory(onnx)?;
    let input = ArrayD::<f32>::from_elem(shape, 0.5);
    session.run(ort::inputs![TensorRef::from_array_view(&input)?])?;
    let profile = session.end_profiling()?;
    count(&std::fs::read_to_string(Path::new(&profile))?)
}

/// Multiply-adds of the node kernels in a profile.
fn count(profile: &str) -> anyhow::Result<u64> {
    let events: Vec<Event> = serde_json::from_str(profile)?;
    Ok(events
        .iter()
        .filter(|e| e.cat == "Node" && e.name.ends_with("_kernel_time"))
        .map(|e| node(&e.args))
        .sum())
}

/// Multiply-adds of one node from its shapes (0 for operators not counted).
fn node(args: &Args) -> u64 {
    let shape = |list: &[std::collections::HashMap<String, Vec<usize>>], i: usize| {
        list.get(i)
            .and_then(|m| m.values().next())
            .cloned()
            .unwrap_or_default()
    };
    let product = |dims: &[usize]| dims.iter().map(|&d| d as u64).product::<u64>();
    let input = |i| shape(&args.input_type_shape, i);
    let output = product(&shape(&args.output_type_shape, 0));
    match args.op_name.as_str() {
        // Weight [out, in / groups, k...]: every output value reads in / groups × k values.
        "Conv" | "ConvInteger" => output * product(input(1).get(1..).unwrap_or_default()),
        // A [.., K]: every output value reads K. (The profile leaves out a Gemm's pre-packed
        // weight, so K comes from A; no exporter of ours transposes A.)
        "MatMul" | "MatMulInteger" | "Gemm" => output * input(0).last().map_or(0, |&k| k as u64),
        // X [T, B, I], W [D, 4H, I], R [D, 4H, H]: every step, 4H gates read I + H values.
        "LSTM" => {
            let (x, w, r) = (input(0), input(1), input(2));
            match (&x[..], &w[..], &r[..]) {
                ([t, b, i], [d, gates, _], [_, _, h]) => (*t * *b * *d * *gates * (*i + *h)) as u64,
                _ => 0,
            }
        }
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(op: &str, inputs: &[&[usize]], output: &[usize]) -> String {
        let shapes = |list: &[&[usize]]| {
            list.iter()
                .map(|s| format!("{{\"float\":{s:?}}}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        format!(
            "{{\"cat\":\"Node\",\"name\":\"n_kernel_time\",\"args\":{{\"op_name\":\"{op}\",\
             \"input_type_shape\":[{}],\"output_type_shape\":[{}]}}}}",
            shapes(inputs),
            shapes(&[output])
        )
    }

    #[test]
    fn convolutions_products_and_lstms_are_counted_from_their_shapes() {
        let profile = format!(
            "[{},{},{},{},{},{{\"cat\":\"Session\",\"name\":\"model_run\"}}]",
            // 204 filters of 7×38 over 187×59 positions.
            event(
                "Conv",
                &[&[1, 1, 187, 96], &[204, 1, 7, 38], &[204]],
                &[1, 204, 187, 59]
            ),
            // 1 506 → 200.
            event("Gemm", &[&[1, 1506], &[200]], &[1, 200]),
            event("MatMul", &[&[1, 10, 64], &[64, 32]], &[1, 10, 32]),
            // 20 steps, 1 window, one direction, 4 × 16 gates over 8 inputs + 16 states.
            event(
                "LSTM",
                &[&[20, 1, 8], &[1, 64, 8], &[1, 64, 16]],
                &[20, 1, 1, 16]
            ),
            event("Relu", &[&[1, 200]], &[1, 200]),
        );
        let expected = 204 * 187 * 59 * 7 * 38 + 1506 * 200 + 10 * 32 * 64 + 20 * 64 * 24;
        assert_eq!(count(&profile).unwrap(), expected);
    }

    #[test]
    fn a_gemm_whose_weight_the_profile_leaves_out_reads_its_inner_size_from_a() {
        let args: Args = serde_json::from_str(
            "{\"op_name\":\"Gemm\",\"input_type_shape\":[{\"float\":[1,1506]},{\"float\":[200]}],\
             \"output_type_shape\":[{\"float\":[1,200]}]}",
        )
        .unwrap();
        assert_eq!(node(&args), 1506 * 200);
    }
}

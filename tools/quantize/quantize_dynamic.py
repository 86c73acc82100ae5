"""ONNX Runtime dynamic int8 quantisation of a model's window graph, and its speed against the
float graph measured in the same run.

Setup (once): python3 -m venv .venv-quantize && .venv-quantize/bin/pip install onnxruntime==1.32.0 onnx
Usage:
    python tools/quantize/quantize_dynamic.py models/genre-v2.onnx /tmp/q/genre-v2-int8.onnx
(`cargo xtask distill --int8` runs it with --no-timing on every fold model.)
The graph is first pre-processed by ONNX Runtime (shape inference, batch norms folded into the
convolutions), then `quantize_dynamic` stores weights as int8 and quantises activations per
call. Timing: one intra-op thread (as genrescope's sessions), random windows of the graph's own
input shape, batches of 1, 4, 16, 32 and 64 windows per call, calls alternating between the
models, median of --runs calls each; prints one
JSON line. The quantised model's .json and head are copied beside it so genrescope loads it
like the original (e.g. `cargo xtask eval --model /tmp/q/genre-v2-int8.onnx ...`).
"""
import argparse
import json
import os
import shutil
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnxruntime.quantization import QuantType, quantize_dynamic
from onnxruntime.quantization.shape_inference import quant_pre_process

BATCHES = [1, 4, 16, 32, 64]


def session(path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def ms_per_window(sessions, shape, batch, runs):
    """Median ms per window of each session; calls alternate between the sessions so that load
    on a shared machine hits both alike."""
    x = np.random.default_rng(0).standard_normal((batch, *shape)).astype(np.float32)
    times = {name: [] for name in sessions}
    for sess in sessions.values():
        sess.run(None, {sess.get_inputs()[0].name: x})
    for _ in range(runs):
        for name, sess in sessions.items():
            start = time.perf_counter()
            sess.run(None, {sess.get_inputs()[0].name: x})
            times[name].append(time.perf_counter() - start)
    return {name: round(1000.0 * float(np.median(t)) / batch, 3) for name, t in times.items()}


def copy_metadata(model, out):
    """The float model's .json (and pooled head) beside the quantised graph."""
    stem, out_stem = os.path.splitext(model)[0], os.path.splitext(out)[0]
    with open(stem + ".json") as f:
        metadata = json.load(f)
    metadata["name"] = os.path.basename(out_stem)
    head = (metadata.get("context") or {}).get("head")
    if head:
        shutil.copy(os.path.join(os.path.dirname(model), head), os.path.join(os.path.dirname(out), head))
    with open(out_stem + ".json", "w") as f:
        json.dump(metadata, f, indent=2)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("out")
    # uint8 weights: with int8 weights ONNX Runtime 1.32's ConvInteger ran musicnn ~3x slower
    # than the float graph (2026-12-04, 2 shared cores); with uint8 about as fast.
    parser.add_argument("--weights", choices=["qint8", "quint8"], default="quint8")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--ops", help="only these operator types, e.g. Gemm,MatMul (default: all)")
    parser.add_argument("--no-timing", action="store_true", help="quantise only (`cargo xtask distill --int8`)")
    args = parser.parse_args()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    pre = args.out + ".pre.onnx"
    quant_pre_process(args.model, pre, skip_symbolic_shape=True)
    quantize_dynamic(
        pre,
        args.out,
        weight_type=QuantType.QInt8 if args.weights == "qint8" else QuantType.QUInt8,
        op_types_to_quantize=args.ops.split(",") if args.ops else None,
    )
    os.remove(pre)
    copy_metadata(args.model, args.out)
    if args.no_timing:
        return

    shape = [d.dim_value for d in onnx.load(args.model).graph.input[0].type.tensor_type.shape.dim[1:]]
    result = {
        "onnxruntime": ort.__version__,
        "weights": args.weights,
        "ops": args.ops or "all",
        "bytes": {"float": os.path.getsize(args.model), "int8": os.path.getsize(args.out)},
        "ms_per_window": {},
    }
    sessions = {"float": session(args.model), "int8": session(args.out)}
    for batch in BATCHES:
        result["ms_per_window"][batch] = ms_per_window(sessions, shape, batch, args.runs)
    print(json.dumps(result))


if __name__ == "__main__":
    main()

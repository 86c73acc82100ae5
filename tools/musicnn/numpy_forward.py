#!/usr/bin/env python3
"""Plain-numpy musicnn forward pass: an executable version of ARCHITECTURE.md.

Reads only the files written by export_weights.py (no TensorFlow, no musicnn)
and checks its logits against the references written by reference_taggrams.py.
It exists to prove that ARCHITECTURE.md is complete and exact; the Rust port
should follow the same steps.

Needs: numpy. Run from the repository root:

  python3 tools/musicnn/numpy_forward.py [--weights cache/musicnn] \
      [--reference cache/musicnn/reference]
"""

import argparse
import json
import os

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

EPS = 1e-3  # tf.compat.v1.layers.batch_normalization default epsilon


def load_weights(model_dir):
    with open(os.path.join(model_dir, "weights.json")) as f:
        meta = json.load(f)
    w = {}
    for v in meta["variables"]:
        a = np.fromfile(os.path.join(model_dir, v["file"]), dtype="<f4")
        w[v["name"]] = a.reshape(v["shape"])
    return w


def bn(x, w, name):
    """Inference batch norm over the last axis (moving statistics)."""
    g, b = w[name + "/gamma"], w[name + "/beta"]
    m, v = w[name + "/moving_mean"], w[name + "/moving_variance"]
    return (x - m) / np.sqrt(v + EPS) * g + b


def conv_time(x, k, b, pad_top, pad_bottom):
    """TF Conv2D (cross-correlation, stride 1, NHWC, 1 input channel).

    x: [T, F] one patch; k: [kt, kf, 1, C]; zero padding on time only.
    Returns [T_out, F - kf + 1, C]."""
    kt, kf, _, c = k.shape
    xp = np.pad(x, ((pad_top, pad_bottom), (0, 0)))
    win = sliding_window_view(xp, (kt, kf))  # [T_out, F_out, kt, kf]
    return np.einsum("tfij,ijc->tfc", win, k[:, :, 0, :], optimize=True) + b


def relu(x):
    return np.maximum(x, 0)


def forward(patch, w):
    """patch: [187, 96] log-mel (time, mel). Returns 50 logits."""
    x = bn(patch[:, :, None], w, "batch_normalization")[:, :, 0]  # scalar BN, 1 channel

    # front-end, timbral: pad time 3/3, VALID conv, ReLU, BN, max over frequency
    f74 = bn(relu(conv_time(x, w["conv2d/kernel"], w["conv2d/bias"], 3, 3)), w, "batch_normalization_1").max(axis=1)
    f77 = bn(relu(conv_time(x, w["conv2d_1/kernel"], w["conv2d_1/bias"], 3, 3)), w, "batch_normalization_2").max(axis=1)
    # front-end, temporal: SAME conv with kernel [k,1] -> pad (k-1)//2 before, k//2 after
    temporal = []
    for i, kt in ((2, 128), (3, 64), (4, 32)):
        k = w[f"conv2d_{i}/kernel"]
        assert k.shape[0] == kt
        y = relu(conv_time(x, k, w[f"conv2d_{i}/bias"], (kt - 1) // 2, kt // 2))
        temporal.append(bn(y, w, f"batch_normalization_{i + 1}").max(axis=1))
    front = np.concatenate([f74, f77] + temporal, axis=1)  # [187, 561]

    # mid-end: three [7, full-width] convs, pad time 3/3, ReLU, BN, residuals
    def mid(inp, i):
        y = relu(conv_time(inp, w[f"conv2d_{i}/kernel"], w[f"conv2d_{i}/bias"], 3, 3))[:, 0, :]
        return bn(y, w, f"batch_normalization_{i + 1}")
    m1 = mid(front, 5)
    m2 = mid(m1, 6) + m1
    m3 = mid(m2, 7) + m2
    feats = np.concatenate([front, m1, m2, m3], axis=1)  # [187, 753]

    # back-end: max and mean over time, interleaved [max0, mean0, max1, mean1, ...]
    pooled = np.stack([feats.max(axis=0), feats.mean(axis=0)], axis=1).reshape(-1)  # [1506]
    h = bn(pooled, w, "batch_normalization_9")
    h = bn(relu(h @ w["dense/kernel"] + w["dense/bias"]), w, "batch_normalization_10")
    return h @ w["dense_1/kernel"] + w["dense_1/bias"]  # logits; sigmoid gives the taggram


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", default=os.path.join("cache", "musicnn"))
    ap.add_argument("--reference", default=os.path.join("cache", "musicnn", "reference"))
    args = ap.parse_args()
    with open(os.path.join(args.reference, "manifest.json")) as f:
        manifest = json.load(f)
    cache = {}
    worst = 0.0
    for e in manifest["entries"]:
        m = e["model"]
        if m not in cache:
            cache[m] = {k: v.astype(np.float64) for k, v in load_weights(os.path.join(args.weights, m)).items()}
        patches = np.load(os.path.join(args.reference, e["patches"]["path"])).astype(np.float64)
        ref_logits = np.load(os.path.join(args.reference, e["logits"]["path"]))
        ref_probs = np.load(os.path.join(args.reference, e["taggram"]["path"]))
        logits = np.stack([forward(p, cache[m]) for p in patches])
        probs = 1 / (1 + np.exp(-logits))
        dl, dp = np.abs(logits - ref_logits).max(), np.abs(probs - ref_probs).max()
        worst = max(worst, dp)
        print(f"{e['clip']:40s} {m}: max|dlogit| {dl:.2e}  max|dprob| {dp:.2e}")
    print(f"worst probability difference: {worst:.2e}")


if __name__ == "__main__":
    main()

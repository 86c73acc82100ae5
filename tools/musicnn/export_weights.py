#!/usr/bin/env python3
"""Export the pre-trained musicnn weights to plain little-endian float32 files.

One-off conversion step for the Rust port of `musicnn` (PyPI `musicnn` 0.1.0,
ISC licence, Jordi Pons, https://github.com/jordipons/musicnn). It only READS
the TensorFlow checkpoints shipped inside the installed package; it never
builds the model graph and never modifies the package.

What it needs
-------------
* Python 3.11 with `tensorflow-cpu` (any 2.x; tested with 2.21) and `numpy`.
* `musicnn` 0.1.0 installed with `--no-deps` (its metadata pins numpy < 1.17,
  which cannot be installed on Python 3.11). The package itself is only used
  to locate the checkpoint folders and the tag lists in `configuration.py`.

  python3.11 -m venv /tmp/musicnn-venv
  /tmp/musicnn-venv/bin/pip install tensorflow-cpu librosa tf-keras soundfile numpy
  /tmp/musicnn-venv/bin/pip install --no-deps musicnn==0.1.0

How to run (from the repository root)
-------------------------------------
  /tmp/musicnn-venv/bin/python tools/musicnn/export_weights.py [OUT_DIR] \
      [--models MSD_musicnn MTT_musicnn]

OUT_DIR defaults to `cache/musicnn/` (git-ignored).

What it writes, per model (`MSD_musicnn`, `MTT_musicnn`)
-------------------------------------------------------
  OUT_DIR/<model>/weights.json      every model variable: name, shape, dtype,
                                    file, element count, SHA-256 of the file;
                                    plus the optimizer variables it skipped
  OUT_DIR/<model>/<name>.f32        raw little-endian float32, row-major
                                    (C order) in the checkpoint's shape;
                                    <name> is the variable name with '/'
                                    replaced by '__' (e.g. conv2d_5__kernel.f32)
  OUT_DIR/<model>/tags.json         the 50 tag names in output order
  OUT_DIR/<model>/provenance.json   package, version, licence, checkpoint
                                    files and their SHA-256

Only the variables used at inference are exported (conv/dense kernels and
biases, batch-norm gamma/beta/moving_mean/moving_variance). The Adam slots
(`*/Adam`, `*/Adam_1`) and `beta1_power`/`beta2_power` are training state;
they are listed under "skipped" in weights.json but not written.

Checkpoint quirk: the package stores each checkpoint with an EMPTY file-name
prefix (files `<model>/.index`, `<model>/.data-00000-of-00001`) and its
`checkpoint` index file points at the author's absolute path
(/home/jpons/...). `tf.train.load_checkpoint(<dir>)` therefore fails (it
follows the `checkpoint` file). We open the same reader object that
`tf.train.load_checkpoint` returns, `tf.compat.v1.train.NewCheckpointReader`,
directly on the prefix `<dir>/`, which is also what musicnn's own
`saver.restore(sess, <dir> + '/')` uses.

See tools/musicnn/ARCHITECTURE.md for which variable belongs to which layer.
"""

import argparse
import hashlib
import importlib.metadata
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

MODELS = ("MSD_musicnn", "MTT_musicnn")
PACKAGE = "musicnn"


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sanitise(name):
    out = name.replace("/", "__")
    if not all(c.isalnum() or c == "_" for c in out):
        raise ValueError(f"unexpected character in variable name {name!r}")
    return out


def is_optimizer_variable(name):
    last = name.split("/")[-1]
    return last in ("Adam", "Adam_1") or name in ("beta1_power", "beta2_power")


def package_dir():
    # Locate the package without importing musicnn.extractor (which imports
    # librosa and switches TensorFlow to graph mode).
    import importlib.util

    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"error: python package '{PACKAGE}' is not installed in this interpreter")
    return list(spec.submodule_search_locations)[0]


def load_tags(pkg_dir, model):
    # configuration.py is a plain module of constants; import it by path.
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "musicnn_configuration", os.path.join(pkg_dir, "configuration.py"))
    config = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(config)
    if model.startswith("MTT"):
        tags = list(config.MTT_LABELS)
    elif model.startswith("MSD"):
        tags = list(config.MSD_LABELS)
    else:
        raise ValueError(model)
    assert len(tags) == 50, len(tags)
    return tags, {k: getattr(config, k) for k in ("SR", "FFT_HOP", "FFT_SIZE", "N_MELS")}


def export_model(pkg_dir, model, out_root):
    ckpt_dir = os.path.join(pkg_dir, model)
    prefix = ckpt_dir + os.sep  # empty file-name prefix, see module docstring
    if not os.path.exists(prefix + ".index"):
        sys.exit(f"error: no checkpoint at {prefix}.index")
    reader = tf.compat.v1.train.NewCheckpointReader(prefix)
    shapes = reader.get_variable_to_shape_map()
    dtypes = reader.get_variable_to_dtype_map()

    out_dir = os.path.join(out_root, model)
    os.makedirs(out_dir, exist_ok=True)

    variables, skipped = [], []
    total = 0
    for name in sorted(shapes):
        shape = [int(d) for d in shapes[name]]
        dtype = dtypes[name].name
        if is_optimizer_variable(name):
            skipped.append({"name": name, "shape": shape, "dtype": dtype})
            continue
        if dtype != "float32":
            raise ValueError(f"{model}: variable {name} has dtype {dtype}, expected float32")
        value = np.asarray(reader.get_tensor(name))
        assert list(value.shape) == shape, (name, value.shape, shape)
        if not np.all(np.isfinite(value)):
            raise ValueError(f"{model}: variable {name} contains non-finite values")
        fname = sanitise(name) + ".f32"
        path = os.path.join(out_dir, fname)
        with open(path, "wb") as f:
            f.write(np.ascontiguousarray(value, dtype="<f4").tobytes(order="C"))
        n = int(value.size)
        total += n
        variables.append({
            "name": name,
            "shape": shape,
            "dtype": "float32",
            "file": fname,
            "num_elements": n,
            "sha256": sha256_file(path),
        })

    with open(os.path.join(out_dir, "weights.json"), "w") as f:
        json.dump({
            "model": model,
            "format": "one raw little-endian float32 file per variable, row-major (C order) "
                      "in the TensorFlow shape; conv kernels are [k_time, k_freq, in_ch, out_ch], "
                      "dense kernels are [in, out]",
            "total_parameters": total,
            "variables": variables,
            "skipped": {
                "reason": "optimizer state (Adam slots, beta powers); not used at inference",
                "variables": skipped,
            },
        }, f, indent=1)

    tags, signal = load_tags(pkg_dir, model)
    with open(os.path.join(out_dir, "tags.json"), "w") as f:
        json.dump(tags, f, indent=1, ensure_ascii=False)

    try:
        version = importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        version = None
    files = []
    for fn in sorted(os.listdir(ckpt_dir)):
        p = os.path.join(ckpt_dir, fn)
        if os.path.isfile(p):
            files.append({"file": f"{PACKAGE}/{model}/{fn}", "bytes": os.path.getsize(p),
                          "sha256": sha256_file(p)})
    with open(os.path.join(out_dir, "provenance.json"), "w") as f:
        json.dump({
            "package": PACKAGE,
            "version": version,
            "licence": "ISC",
            "author": "Jordi Pons",
            "homepage": "https://github.com/jordipons/musicnn",
            "model": model,
            "checkpoint_prefix": f"{PACKAGE}/{model}/ (empty file-name prefix)",
            "checkpoint_files": files,
            "signal_config": signal,
            "exported_with": {"tensorflow": tf.__version__, "numpy": np.__version__,
                              "script": "tools/musicnn/export_weights.py"},
        }, f, indent=1)

    return total, len(variables), len(skipped)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir", nargs="?", default=os.path.join("cache", "musicnn"),
                    help="output folder (default: cache/musicnn/)")
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    args = ap.parse_args()

    pkg_dir = package_dir()
    for model in args.models:
        total, n_vars, n_skipped = export_model(pkg_dir, model, args.out_dir)
        print(f"{model}: {n_vars} variables, {total} parameters "
              f"({n_skipped} optimizer variables skipped) -> {os.path.join(args.out_dir, model)}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Reference taggrams from the ORIGINAL musicnn, for testing the Rust port.

Runs the upstream `musicnn` 0.1.0 code (ISC licence, Jordi Pons,
https://github.com/jordipons/musicnn) on audio files and saves, per clip and
model, exactly what the network was fed and what it produced.

What it needs
-------------
* Python 3.11 venv with TensorFlow 2.x + tf-keras (legacy Keras 2; Keras 3
  dropped `tf.compat.v1.layers.batch_normalization`), librosa, soundfile,
  numpy, and `musicnn` 0.1.0 installed with `--no-deps`:

    python3.11 -m venv /tmp/musicnn-venv
    /tmp/musicnn-venv/bin/pip install tensorflow-cpu librosa tf-keras soundfile numpy
    /tmp/musicnn-venv/bin/pip install --no-deps musicnn==0.1.0

* ONE PATCH to the installed `musicnn/extractor.py` (function `batch_data`):

    -    audio_rep = np.log10(10000 * audio_rep + 1)
    +    audio_rep = np.log10(10000 * audio_rep.astype(np.float32) + 1)

  Upstream casts the mel power to float16 first (kept). With numpy < 2 (what
  musicnn was written for) `10000 * <float16 array>` was promoted to float32
  by value-based casting (10000 needs uint16; uint16 x float16 -> float32).
  numpy >= 2 (NEP 50) keeps float16, 10000*x overflows to inf for x > 6.55,
  and every clip gets the same tags. The patch restores the original numbers
  (float16-rounded power, then float32 multiply/log10). This script refuses
  to run if the patch is missing (it checks that the patches are finite
  float32).

  One way to apply it:
    sed -i 's/np.log10(10000 \\* audio_rep + 1)/np.log10(10000 * audio_rep.astype(np.float32) + 1)/' \\
        /tmp/musicnn-venv/lib/python3.11/site-packages/musicnn/extractor.py

How to run (from the repository root)
-------------------------------------
  /tmp/musicnn-venv/bin/python tools/musicnn/reference_taggrams.py \\
      --root /work/shared/music --out cache/musicnn/reference \\
      gtzan/blues/blues.00000.ogg gtzan/hiphop/hiphop.00001.ogg ...

Files are given relative to --root (default: current directory). The script
sets TF_USE_LEGACY_KERAS=1 itself before importing TensorFlow.

What it writes (OUT = --out, default cache/musicnn/reference)
-------------------------------------------------------------
  OUT/<clip>/audio_16k.npy        float32 [samples]   librosa.load(file, sr=16000)
                                                      (mono, resampled; librosa's
                                                      default resampler, soxr_hq)
  OUT/<clip>/mel_power.npy        float32 [frames, 96] librosa mel power spectrogram,
                                                      BEFORE the float16 rounding
  OUT/<clip>/logmel.npy           float32 [frames, 96] log10(10000*f16(mel)+1), the
                                                      full clip (`audio_rep`)
  OUT/<clip>/<model>.patches.npy  float32 [patches, 187, 96] the network input
                                                      (from musicnn's own batch_data)
  OUT/<clip>/<model>.taggram.npy  float32 [patches, 50] sigmoid outputs returned by
                                                      musicnn.extractor.extractor
  OUT/<clip>/<model>.logits.npy   float32 [patches, 50] pre-sigmoid logits (from a
                                                      strict re-run, see below)
  OUT/manifest.json               per clip and model: file, shapes, top-5 tags by
                                                      mean probability; versions

<clip> is the file path relative to --root with '/' replaced by '__' and the
extension dropped. <model> is MSD_musicnn and/or MTT_musicnn.

Cross-check: musicnn's `extractor()` silently ignores a failed checkpoint
restore (bare `try/except`) and would then tag with random weights. So each
model is also rebuilt here with musicnn's own `models.define_model`,
restored strictly, and run on the saved patches with is_training=False; the
script fails unless its sigmoid output matches extractor()'s taggram.
"""

import argparse
import importlib.metadata
import json
import os
import sys

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import librosa  # noqa: E402

from musicnn import configuration as config  # noqa: E402
from musicnn import extractor as mx  # noqa: E402  (disables eager execution)
from musicnn import models as mm  # noqa: E402

MODELS = ("MSD_musicnn", "MTT_musicnn")
INPUT_LENGTH = 3  # seconds, musicnn's default and the training length
TOLERANCE = 1e-5  # extractor() vs strict re-run, absolute, on probabilities


def frames_and_overlap(input_length=INPUT_LENGTH, input_overlap=False):
    """Exactly as musicnn.extractor.extractor computes them."""
    n_frames = librosa.time_to_frames(input_length, sr=config.SR, n_fft=config.FFT_SIZE,
                                      hop_length=config.FFT_HOP) + 1
    if not input_overlap:
        overlap = n_frames
    else:
        overlap = librosa.time_to_frames(input_overlap, sr=config.SR, n_fft=config.FFT_SIZE,
                                         hop_length=config.FFT_HOP)
    return int(n_frames), int(overlap)


def labels_for(model):
    return list(config.MTT_LABELS if "MTT" in model else config.MSD_LABELS)


class StrictModel:
    """musicnn's graph (same construction as extractor()), restored strictly."""

    def __init__(self, model, n_frames):
        self.graph = tf.Graph()
        with self.graph.as_default():
            with tf.name_scope("model"):
                self.x = tf.compat.v1.placeholder(tf.float32, [None, n_frames, config.N_MELS])
                self.is_training = tf.compat.v1.placeholder(tf.bool)
                outs = mm.define_model(self.x, self.is_training, model, len(labels_for(model)))
                self.logits = outs[0]
                self.probs = tf.nn.sigmoid(self.logits)
            self.sess = tf.compat.v1.Session(graph=self.graph)
            saver = tf.compat.v1.train.Saver()
            # Same prefix extractor() uses; raises if anything is missing.
            saver.restore(self.sess, os.path.join(os.path.dirname(mx.__file__), model) + "/")

    def run(self, patches):
        return self.sess.run([self.logits, self.probs],
                             feed_dict={self.x: patches, self.is_training: False})

    def close(self):
        self.sess.close()


def clip_id(rel_path):
    stem, _ = os.path.splitext(rel_path)
    return stem.replace(os.sep, "__").replace("/", "__")


def top_k(taggram, tags, k=5):
    mean = taggram.mean(axis=0)
    order = np.argsort(-mean, kind="stable")[:k]
    return [[tags[i], round(float(mean[i]), 6)] for i in order]


def main():
    ap = argparse.ArgumentParser(description="Reference taggrams from the original musicnn.")
    ap.add_argument("files", nargs="+", help="audio files, relative to --root")
    ap.add_argument("--root", default=".", help="folder the file paths are relative to")
    ap.add_argument("--out", default=os.path.join("cache", "musicnn", "reference"))
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    args = ap.parse_args()

    n_frames, overlap = frames_and_overlap()
    assert n_frames == 187, n_frames
    os.makedirs(args.out, exist_ok=True)

    strict = {m: StrictModel(m, n_frames) for m in args.models}

    ids = [clip_id(f) for f in args.files]
    if len(set(ids)) != len(ids):
        sys.exit("error: two input files map to the same clip id")

    entries = []
    for rel, cid in zip(args.files, ids):
        path = os.path.join(args.root, rel)
        out_dir = os.path.join(args.out, cid)
        os.makedirs(out_dir, exist_ok=True)

        # Intermediate stages, recomputed with the same calls batch_data makes.
        audio, sr = librosa.load(path, sr=config.SR)
        mel = librosa.feature.melspectrogram(y=audio, sr=sr, hop_length=config.FFT_HOP,
                                             n_fft=config.FFT_SIZE, n_mels=config.N_MELS).T
        np.save(os.path.join(out_dir, "audio_16k.npy"), audio.astype(np.float32))
        np.save(os.path.join(out_dir, "mel_power.npy"), mel.astype(np.float32))

        # The network input, from musicnn's own batching function.
        patches, logmel = mx.batch_data(path, n_frames, overlap)
        if patches.dtype != np.float32 or not np.all(np.isfinite(patches)):
            sys.exit("error: musicnn/extractor.py is not patched (patches are "
                     f"{patches.dtype}, finite={bool(np.all(np.isfinite(patches)))}); "
                     "see the top of this script")
        expect = np.log10(10000 * mel.astype(np.float16).astype(np.float32) + 1)
        if not np.array_equal(logmel, expect):
            sys.exit("error: batch_data's log-mel differs from the recomputed one")
        np.save(os.path.join(out_dir, "logmel.npy"), logmel.astype(np.float32))

        for model in args.models:
            taggram, tags = mx.extractor(path, model=model, input_length=INPUT_LENGTH,
                                         input_overlap=False, extract_features=False)
            taggram = np.asarray(taggram, dtype=np.float32)
            assert list(tags) == labels_for(model)
            logits, probs = strict[model].run(patches)
            diff = float(np.max(np.abs(probs - taggram)))
            if taggram.shape != (patches.shape[0], 50) or diff > TOLERANCE:
                sys.exit(f"error: {model} on {rel}: extractor() output {taggram.shape} "
                         f"differs from the strict re-run (max abs diff {diff})")

            base = os.path.join(out_dir, model)
            np.save(base + ".patches.npy", patches.astype(np.float32))
            np.save(base + ".taggram.npy", taggram)
            np.save(base + ".logits.npy", np.asarray(logits, dtype=np.float32))
            entry = {
                "file": rel,
                "clip": cid,
                "model": model,
                "samples_16k": int(audio.shape[0]),
                "frames": int(logmel.shape[0]),
                "patches": {"path": f"{cid}/{model}.patches.npy", "shape": list(patches.shape)},
                "taggram": {"path": f"{cid}/{model}.taggram.npy", "shape": list(taggram.shape)},
                "logits": {"path": f"{cid}/{model}.logits.npy", "shape": list(logits.shape)},
                "max_abs_diff_extractor_vs_strict": diff,
                "top5_by_mean": top_k(taggram, tags),
            }
            entries.append(entry)
            print(f"{rel} {model} {patches.shape[0]} patches  top5: "
                  + ", ".join(f"{t} {p:.3f}" for t, p in entry["top5_by_mean"]))

    for s in strict.values():
        s.close()

    versions = {}
    for pkg in ("musicnn", "tensorflow", "tf-keras", "librosa", "numpy", "soundfile", "soxr"):
        try:
            versions[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            versions[pkg] = None
    manifest = {
        "generator": "tools/musicnn/reference_taggrams.py",
        "musicnn_patch": "extractor.batch_data: np.log10(10000 * audio_rep.astype(np.float32) + 1) "
                         "after the upstream float16 cast (numpy<2 semantics)",
        "signal": {"sr": config.SR, "n_fft": config.FFT_SIZE, "hop": config.FFT_HOP,
                   "n_mels": config.N_MELS, "patch_frames": n_frames, "patch_hop_frames": overlap,
                   "input_length_s": INPUT_LENGTH, "input_overlap": False},
        "versions": versions,
        "entries": entries,
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main()

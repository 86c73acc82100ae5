#!/usr/bin/env python3
"""Export the EfficientAT `mn04_as` state dict to plain little-endian float32 files.

One-off conversion step for the Rust port of EfficientAT's MobileNetV3 (`xtask/src/efficientat/`),
as `tools/musicnn/export_weights.py` is for musicnn. It needs nothing but Python 3's standard
library: a PyTorch checkpoint is a zip of one pickle (`data.pkl`, the state dict's structure)
and one raw little-endian file per tensor storage (`data/<key>`); the pickle is read with an
unpickler that knows only the handful of names a state dict uses, so no code from the file runs
and PyTorch need not be installed.

How to run (from the repository root)
-------------------------------------
  python3 tools/efficientat/export_weights.py \
      ../shared/networks/efficientat-mn04/mn04_as_mAP_432.pt cache/efficientat/mn04_as

What it writes (the layout `xtask/src/musicnn/weights.rs` reads)
-----------------------------------------------------------------
  OUT_DIR/weights.json     every float tensor: name, shape, dtype, file, element count,
                           SHA-256 of the file; the integer buffers it skipped
                           (`num_batches_tracked`); the checkpoint's SHA-256
  OUT_DIR/<name>.f32       raw little-endian float32, row-major (C order), in PyTorch's shape
"""

import argparse
import collections
import hashlib
import json
import pickle
import struct
import sys
import zipfile
from pathlib import Path

# Storage type name -> (struct format, bytes per element, whether it is exported).
STORAGES = {
    "FloatStorage": ("f", 4, True),
    "LongStorage": ("q", 8, False),
}


class Storage:
    """A tensor storage named by the checkpoint: its type and its file in the zip."""

    def __init__(self, kind, key):
        self.kind = kind
        self.key = key


class Tensor:
    """What `torch._utils._rebuild_tensor_v2` would build: a view into a storage."""

    def __init__(self, storage, offset, shape, stride):
        self.storage, self.offset = storage, offset
        self.shape, self.stride = tuple(shape), tuple(stride)


def rebuild_tensor(storage, offset, shape, stride, *_rest):
    return Tensor(storage, offset, shape, stride)


class StorageType:
    def __init__(self, name):
        self.name = name


class StateDictUnpickler(pickle.Unpickler):
    """Resolves only the names a plain state dict refers to; anything else is refused."""

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return rebuild_tensor
        if module == "torch" and name in STORAGES:
            return StorageType(name)
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a plain state dict")

    def persistent_load(self, pid):
        # ('storage', storage type, key, location, element count)
        tag, kind, key = pid[0], pid[1], pid[2]
        if tag != "storage":
            raise pickle.UnpicklingError(f"unknown persistent id {pid!r}")
        return Storage(kind.name, key)


def row_major(tensor, raw):
    """The tensor's values in C order (any strides), as Python numbers."""
    fmt, size, _ = STORAGES[tensor.storage.kind]
    count = len(raw) // size
    values = struct.unpack(f"<{count}{fmt}", raw)
    out = []

    def walk(axis, base):
        if axis == len(tensor.shape):
            out.append(values[base])
            return
        for i in range(tensor.shape[axis]):
            walk(axis + 1, base + i * tensor.stride[axis])

    walk(0, tensor.offset)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()

    with zipfile.ZipFile(args.checkpoint) as archive:
        names = archive.namelist()
        root = names[0].split("/")[0]
        with archive.open(f"{root}/data.pkl") as pkl:
            state = StateDictUnpickler(pkl).load()
        args.out.mkdir(parents=True, exist_ok=True)
        variables, skipped = [], []
        for name, tensor in state.items():
            if not STORAGES[tensor.storage.kind][2]:
                skipped.append(name)
                continue
            raw = archive.read(f"{root}/data/{tensor.storage.key}")
            values = row_major(tensor, raw)
            data = struct.pack(f"<{len(values)}f", *values)
            file = f"{name}.f32"
            (args.out / file).write_bytes(data)
            variables.append(
                {
                    "name": name,
                    "shape": list(tensor.shape),
                    "dtype": "float32",
                    "file": file,
                    "count": len(values),
                    "sha256": hashlib.sha256(data).hexdigest(),
                }
            )
    listing = {
        "checkpoint": args.checkpoint.name,
        "checkpoint_sha256": hashlib.sha256(args.checkpoint.read_bytes()).hexdigest(),
        "variables": variables,
        "skipped": skipped,
    }
    (args.out / "weights.json").write_text(json.dumps(listing, indent=1))
    print(f"{len(variables)} tensors to {args.out} ({len(skipped)} integer buffers skipped)")


if __name__ == "__main__":
    sys.exit(main())

"""Times librosa on the clip saved by `cargo xtask bench-features`; prints one JSON line.

Usage: python librosa_timing.py <clip.npy> <runs>
"""
import json
import sys
import time

import librosa
import numpy as np

y = np.load(sys.argv[1]).astype(np.float32)
runs = int(sys.argv[2])
calls = {
    "logmel128": lambda: librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=22050), top_db=80.0),
    "mfcc13": lambda: librosa.feature.mfcc(y=y, sr=22050, n_mfcc=13),
}
result = {"librosa": librosa.__version__}
for name, call in calls.items():
    call()  # warm-up (numba, FFT plans)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    result[name] = 1000.0 * float(np.median(times))
print(json.dumps(result))

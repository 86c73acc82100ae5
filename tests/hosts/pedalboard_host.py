"""Hosts genrescope.vst3 in pedalboard (JUCE's VST3 hosting, a real third-party host).

Usage: python pedalboard_host.py <genrescope.vst3> <clip>
       python pedalboard_host.py --summaries <genrescope.vst3> <clip> <folder>

Processes a real clip at 44.1, 48 and 96 kHz, mono and stereo, in block sizes from 64 to 8192
samples, then with NaN, infinite and denormal samples, and asserts the audio comes back
bit-exact. Loads and unloads the plugin several times and asserts that no thread survives an
instance. Exit status 0 only when every check passed (run by tests/host_pedalboard.rs).

With --summaries: plays the clip at each rate and layout through a fresh instance at the pace
its analysis keeps up with, writes the same audio to <folder> as float WAV, and prints one
`summary {json}` line per file with the track summary the instance published (read through
the plugin's test hooks: a build with the `test-hooks` feature), for the caller to compare with
`genrescope analyze` on the file.
"""

import ctypes
import gc
import json
import os
import platform
import sys
import time

import numpy as np
import pedalboard
import soundfile

RATES = (44100, 48000, 96000)
BLOCK_SIZES = (64, 100, 512, 1024, 4096, 8192)
CYCLES = 4


def threads():
    """Threads of this process right now."""
    return len(os.listdir("/proc/self/task"))


def settled_threads(limit, timeout_s=5.0):
    """Thread count once it is at most `limit`, or whatever it is after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while threads() > limit and time.monotonic() < deadline:
        gc.collect()
        time.sleep(0.05)
    return threads()


def at_rate(clip, source_rate, rate):
    """The clip at `rate` by linear interpolation (the samples only need to be real music)."""
    n = int(len(clip) * rate / source_rate)
    return np.interp(np.arange(n) * source_rate / rate, np.arange(len(clip)), clip).astype(np.float32)


def layouts(mono):
    """Mono, and stereo with different channels (so a swap or a mixdown would show)."""
    return {"mono": mono[np.newaxis, :], "stereo": np.stack([mono, -0.5 * mono])}


def hostile(audio):
    """`audio` with NaN, ±Inf, denormals and huge values scattered through it."""
    out = audio.copy()
    specials = np.array(
        [np.nan, np.inf, -np.inf, 1e-40, -1e-42, np.float32(1.4e-45), 3e38, -3e38], np.float32
    )
    positions = np.random.RandomState(7).randint(0, out.shape[1], size=400)
    out[:, positions] = specials[np.arange(positions.size) % specials.size]
    return out


def bits(audio):
    return np.ascontiguousarray(audio, dtype=np.float32).view(np.uint32)


def check_passthrough(plugin, audio, rate, block, what):
    out = plugin.process(audio, rate, buffer_size=block, reset=True)
    assert out.shape == audio.shape, f"{what}: shape {out.shape} != {audio.shape}"
    differ = np.flatnonzero(bits(out) != bits(audio))
    assert differ.size == 0, f"{what}: {differ.size} samples changed, first at {differ[0]}"


def main(bundle, clip_path):
    clip, source_rate = soundfile.read(clip_path, dtype="float32", always_2d=True)
    clip = clip.mean(axis=1)[: source_rate * 12]
    baseline = threads()
    counts = []
    loaded = []
    checks = 0
    for cycle in range(CYCLES):
        plugin = pedalboard.load_plugin(bundle)
        assert plugin.name == "genrescope", plugin.name
        if cycle == 0:
            for rate in RATES:
                mono = at_rate(clip, source_rate, rate)
                for name, audio in layouts(mono).items():
                    for block in BLOCK_SIZES:
                        check_passthrough(plugin, audio, rate, block, f"{name} {rate} Hz, block {block}")
                        checks += 1
                    check_passthrough(plugin, hostile(audio), rate, 512, f"{name} {rate} Hz, NaN/Inf/denormal")
                    checks += 1
        else:
            audio = layouts(at_rate(clip, source_rate, 48000))["stereo"]
            check_passthrough(plugin, audio, 48000, 512, f"cycle {cycle}")
            checks += 1
        loaded.append(threads())
        del plugin
        counts.append(settled_threads(baseline))
    print(
        f"{checks} passthrough checks bit-exact; threads: {baseline} before loading, "
        f"{loaded} with an instance, {counts} after each unload"
    )
    # JUCE may start its own threads once (the message thread); an instance must not leave any.
    assert counts[-1] <= counts[0], f"threads grow with every instance: {counts}"
    assert counts[0] <= baseline + 2, f"{counts[0] - baseline} threads left after unloading: {counts}"


class Stats(ctypes.Structure):
    """`genrescope::stats::StatsSnapshot`."""

    _fields_ = [
        ("pushed", ctypes.c_uint64),
        ("dropped", ctypes.c_uint64),
        ("received", ctypes.c_uint64),
        ("nonfinite", ctypes.c_uint64),
        ("host_rate_hz", ctypes.c_uint32),
        ("worker_failed", ctypes.c_bool),
        ("analysis_rate_hz", ctypes.c_uint32),
        ("worker_load_ppm", ctypes.c_uint32),
    ]


class Report(ctypes.Structure):
    """`genrescope::test_hooks::TestReport`."""

    _fields_ = [
        ("stats", Stats),
        ("snapshot", ctypes.c_uint64),
        ("model_state", ctypes.c_uint32),
        ("rms_dbfs", ctypes.c_float),
        ("peak_dbfs", ctypes.c_float),
        ("windows", ctypes.c_uint64),
        ("summary_windows", ctypes.c_uint64),
        ("labels", ctypes.c_uint32),
        ("summary_top", ctypes.c_uint32),
        ("summary", ctypes.c_float * 64),
        ("message", ctypes.c_uint8 * 512),
        # The mood model beside the genre model (the hook writes the whole struct: every field
        # must be here, or it writes past this buffer).
        ("mood_state", ctypes.c_uint32),
        ("mood_windows", ctypes.c_uint64),
        ("mood_labels", ctypes.c_uint32),
    ]


def hooks(bundle):
    """The test hooks of the plugin library pedalboard loaded (the same file: the same copy)."""
    library = os.path.join(bundle, "Contents", f"{platform.machine()}-linux", "genrescope.so")
    lib = ctypes.CDLL(os.path.abspath(library))
    lib.genrescope_test_last_instance.restype = ctypes.c_uint32
    lib.genrescope_test_report.restype = ctypes.c_bool
    lib.genrescope_test_report.argtypes = [ctypes.c_uint32, ctypes.POINTER(Report)]

    def report(instance):
        out = Report()
        assert lib.genrescope_test_report(instance, ctypes.byref(out)), "instance gone"
        return out

    return lib, report


def settled(report, instance, timeout_s=120.0):
    """The instance's report once its worker has analysed everything it was given."""
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        now = report(instance)
        assert now.stats.dropped == 0, f"{now.stats.dropped} samples dropped"
        state = (now.stats.received, now.windows, now.snapshot)
        if now.stats.received == now.stats.pushed and state == last:
            return now
        last = state
        time.sleep(0.25)
    raise AssertionError("the analysis did not catch up")


def summaries(bundle, clip_path, folder):
    clip, source_rate = soundfile.read(clip_path, dtype="float32", always_2d=True)
    clip = clip.mean(axis=1)[: source_rate * 12]
    lib, report = hooks(bundle)
    for rate in RATES:
        for name, audio in layouts(at_rate(clip, source_rate, rate)).items():
            path = os.path.join(folder, f"{name}-{rate}.wav")
            soundfile.write(path, audio.T, rate, subtype="FLOAT")
            plugin = pedalboard.load_plugin(bundle)
            instance = lib.genrescope_test_last_instance()
            # Half a second of silence after the clip flushes the resampler and the last frame,
            # as the end of a file does offline; one second at a time, so the ring never fills.
            tail = np.zeros((audio.shape[0], rate // 2), np.float32)
            played = np.concatenate([audio, tail], axis=1)
            for start in range(0, played.shape[1], rate):
                chunk = played[:, start : start + rate]
                out = plugin.process(chunk, rate, buffer_size=512, reset=start == 0)
                assert np.array_equal(bits(out), bits(chunk)), f"{path}: audio changed"
                settled(report, instance)
            final = settled(report, instance)
            assert final.model_state == 1, bytes(final.message).rstrip(b"\0").decode()
            summary = list(final.summary[: final.labels])
            print("summary " + json.dumps({"file": path, "windows": final.summary_windows, "summary": summary}))
            del plugin
            gc.collect()


if __name__ == "__main__":
    if sys.argv[1] == "--summaries":
        summaries(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        main(sys.argv[1], sys.argv[2])

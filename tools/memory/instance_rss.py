"""Peak resident memory of analysing plugin instances in a real third-party host.

Loads `genrescope.vst3` with pedalboard (JUCE's VST3 hosting) once, twice and three times in
one process, feeds every instance the same real clip in 512-sample blocks at 48 kHz for
`--seconds` of audio (so each worker decodes nothing but resamples, computes features and
runs the default model on every window), and prints the process's resident set after each
step, one JSON line. The growth per instance is what one analysing instance costs.

Setup: `bash .ci/hosts` (pedalboard in .venv-hosts/) and `cargo xtask bundle genrescope
--release`.
Usage: .venv-hosts/bin/python tools/memory/instance_rss.py target/bundled/genrescope.vst3 \
           ../shared/music/gtzan/blues/blues.00000.ogg
"""
import argparse
import json
import time

import numpy as np
import soundfile
from pedalboard import load_plugin


def rss_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def feed(plugin, audio, rate, seconds):
    """Plays `seconds` of `audio` (looped) through `plugin` in 512-sample blocks."""
    block = 512
    frames = int(seconds * rate)
    for start in range(0, frames, block):
        index = np.arange(start, min(start + block, frames)) % audio.shape[1]
        plugin.process(audio[:, index], rate, block, reset=False)
    # The worker analyses behind the audio thread: give it time to catch up.
    time.sleep(1.0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("bundle")
    parser.add_argument("clip")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--instances", type=int, default=3)
    args = parser.parse_args()

    mono, clip_rate = soundfile.read(args.clip, dtype="float32")
    rate = 48000
    # Linear-interpolated to 48 kHz: the plugin resamples it back to its model's rate.
    t = np.arange(int(len(mono) * rate / clip_rate)) * clip_rate / rate
    mono = np.interp(t, np.arange(len(mono)), mono).astype(np.float32)
    audio = np.stack([mono, mono])

    figures = {"baseline_mb": rss_mb()}
    plugins = []
    for n in range(1, args.instances + 1):
        plugins.append(load_plugin(args.bundle))
        for plugin in plugins:
            feed(plugin, audio, rate, args.seconds / len(plugins))
        figures[f"instances_{n}_mb"] = rss_mb()
    steps = [figures[f"instances_{n}_mb"] for n in range(1, args.instances + 1)]
    figures["per_extra_instance_mb"] = [round(b - a, 1) for a, b in zip(steps, steps[1:])]
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

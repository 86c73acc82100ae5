#!/usr/bin/env python3
"""CI test of the Ray launcher: a local Ray cluster (`ray start --head`, 2 CPUs) analyses a
generated folder of 40 files in 4 shards, one of which is killed mid-run.

Checks: the merged shard output equals a single-process run of the same binary; the killed
task was retried (its journal has two run headers and the kill marker exists); every file has
exactly one record (nothing processed twice); the cluster and the driver are pinned to loopback
(`--node-ip-address 127.0.0.1`) and no Ray process listens on any other address (read from
Linux's /proc).

    python scale/ray/test_tag_catalog.py --binary target/debug/genrescope --music ../shared/music
"""

import argparse
import collections
import ipaddress
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def make_catalog(music, folder, n):
    """`n` 4-s files cut from real clips (Ogg and FLAC), some in a subfolder."""
    clips = []
    for genre in ["blues", "disco", "jazz", "metal", "reggae", "rock", "hiphop", "country"]:
        directory = os.path.join(music, "gtzan", genre)
        clips += [os.path.join(directory, c) for c in sorted(os.listdir(directory))[:5]]
    os.makedirs(os.path.join(folder, "sub"), exist_ok=True)
    for i in range(n):
        name = f"sub/{i:02d}.flac" if i % 4 == 0 else f"{i:02d}.ogg"
        subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-t", "4", "-i",
                        clips[i % len(clips)], os.path.join(folder, name)], check=True)


def merge(binary, out_dir):
    result = subprocess.run([binary, "merge", out_dir], capture_output=True, check=True)  # no model needed
    return json.loads(result.stdout)


def records(out_dir):
    """(path → record count, shard journal → run headers)."""
    paths, runs = collections.Counter(), collections.Counter()
    for name in os.listdir(out_dir):
        if not name.endswith(".jsonl"):
            continue
        with open(os.path.join(out_dir, name), encoding="utf-8") as f:
            for line in f:
                try:
                    value = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if "file" in value:
                    paths[value["file"]["path"]] += 1
                elif "run" in value:
                    runs[name] += 1
    return paths, runs


def listening_sockets():
    """Socket inode → (address, port) of every listening TCP socket (IPv4 and IPv6)."""
    sockets = {}
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        with open(table, encoding="ascii") as f:
            next(f)  # header
            for line in f:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state != "0A":  # TCP_LISTEN
                    continue
                hex_address, hex_port = local.split(":")
                raw = bytes.fromhex(hex_address)
                # The kernel prints each 32-bit word of the address in host (little-endian) order.
                raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
                sockets[inode] = (socket.inet_ntop(family, raw), int(hex_port, 16))
    return sockets


def is_loopback(address):
    """127.0.0.0/8, ::1, or 127.x.y.z mapped into IPv6 (a dual-stack socket bound to it)."""
    ip = ipaddress.ip_address(address)
    return (getattr(ip, "ipv4_mapped", None) or ip).is_loopback


def ray_listeners():
    """(process, address, port) of each listening TCP socket held by one of this user's
    processes whose command line names Ray (GCS, raylet, agents, workers)."""
    sockets = listening_sockets()
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.stat(f"/proc/{pid}").st_uid != os.getuid():
                continue
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
            if "ray" not in command:
                continue
            for fd in os.listdir(f"/proc/{pid}/fd"):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                inode = target[len("socket:["):-1] if target.startswith("socket:[") else None
                if inode in sockets:
                    found.append((command[:80], *sockets[inode]))
        except OSError:  # the process ended meanwhile, or is not ours to read
            continue
    return found


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--music", required=True)
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--shards", type=int, default=4)
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    work = tempfile.mkdtemp(prefix="genrescope-ray-")
    ray_bin = os.path.join(os.path.dirname(sys.executable), "ray")
    # Ray replaces a node address of 127.0.0.1 by the machine's interface address unless it
    # runs as a single-machine cluster, which this variable asks for (on Linux too, despite its
    # name); with it, `--node-ip-address 127.0.0.1` is kept.
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0", RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0")
    # ONNX Runtime as `cargo xtask ort` provisions it for the tests (.ort/ at the repo root).
    provisioned = os.path.join(HERE, "..", "..", ".ort", "libonnxruntime.so")
    if "ORT_DYLIB_PATH" not in env and os.path.exists(provisioned):
        env["ORT_DYLIB_PATH"] = os.path.abspath(provisioned)
    failures = []
    try:
        catalog = os.path.join(work, "music")
        make_catalog(args.music, catalog, args.files)
        single = os.path.join(work, "single")
        subprocess.run([binary, "analyze", catalog, "--out", single, "--threads", "2"],
                       stdout=subprocess.DEVNULL, check=True, env=env)

        # Tests serve on loopback only: the node, its servers and the driver on 127.0.0.1.
        subprocess.run([ray_bin, "start", "--head", "--node-ip-address", "127.0.0.1",
                        "--num-cpus", "2", "--include-dashboard", "false",
                        "--disable-usage-stats"], check=True, env=env, stdout=subprocess.DEVNULL)
        sharded = os.path.join(work, "sharded")
        launched = subprocess.run(
            [sys.executable, os.path.join(HERE, "tag_catalog.py"), "--binary", binary,
             "--command", "analyze", "--shards", str(args.shards), "--out", sharded,
             "--address", "auto", "--node-ip-address", "127.0.0.1", "--test-kill-shard", "2",
             catalog],
            capture_output=True, text=True, env=env)
        print(launched.stderr[-2000:], file=sys.stderr)
        print(launched.stdout)

        def check(name, ok, detail=""):
            print(f"{'ok' if ok else 'FAILED'}: {name} {detail}")
            if not ok:
                failures.append(name)

        check("launcher exit code 0", launched.returncode == 0, str(launched.returncode))
        check("the killed task was killed", os.path.exists(
            os.path.join(sharded, ".test-killed-shard-2")))
        paths, runs = records(sharded)
        check("shard 2 ran twice (Ray retried it)", runs["shard-2-of-4.jsonl"] == 2, str(runs))
        check("the other shards ran once", all(runs[f"shard-{k}-of-4.jsonl"] == 1
                                               for k in (1, 3, 4)), str(runs))
        check("every file recorded", len(paths) == args.files, str(len(paths)))
        twice = [p for p, n in paths.items() if n != 1]
        check("nothing processed twice", not twice, str(twice))
        check("merged shards = single-process run", merge(binary, sharded) == merge(binary, single))
        listeners = ray_listeners()
        check("the Ray cluster listens", bool(listeners))
        exposed = [l for l in listeners if not is_loopback(l[1])]
        check("Ray listens on loopback only", not exposed, str(exposed or listeners))
        print(f"ray launcher: {9 - len(failures)} passed, {len(failures)} failed")
    finally:
        subprocess.run([ray_bin, "stop", "--force"], env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

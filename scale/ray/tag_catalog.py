#!/usr/bin/env python3
"""Runs `genrescope analyze` or `genrescope tag` over a catalog as N shards on a Ray cluster.

Each shard is one Ray task that calls the genrescope binary with `--shard K/N --out DIR`:
genrescope itself does the work and keeps the journal, Ray only places, watches and retries
the tasks. A task whose worker dies (node lost, process killed) is retried by Ray
(`--retries`); a task whose genrescope run fails as a whole (exit code 2: no ONNX Runtime, an
unusable model) is retried too. A retried shard resumes from its journal, so no file is
processed twice. Files that fail one by one (exit code 1) are in the journal with their error
and do not fail the task.

    python scale/ray/tag_catalog.py --binary target/release/genrescope --shards 64 \\
        --out /shared/runs/catalog /shared/music -- --model fast

    genrescope merge /shared/runs/catalog > catalog.json

The binary, the catalog and DIR must be reachable under the same paths on every node (a
shared file system). `--address` picks the cluster (default: RAY_ADDRESS, else a local one).
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time

import ray


def count_records(out_dir):
    """File records in the journals of `out_dir` (every attempt of every shard)."""
    total = 0
    try:
        names = os.listdir(out_dir)
    except FileNotFoundError:
        return 0
    for name in names:
        if not name.endswith(".jsonl"):
            continue
        with open(os.path.join(out_dir, name), encoding="utf-8", errors="replace") as f:
            total += sum(1 for line in f if line.startswith('{"file":'))
    return total


@ray.remote(num_cpus=1)
def run_shard(binary, command, paths, shard, shards, out_dir, extra, kill_marker):
    """One shard: `genrescope COMMAND PATHS --shard K/N --out DIR --threads 1 EXTRA`.

    `kill_marker` (tests only): on the first attempt, the task kills its own worker with
    SIGKILL once the shard has a record, so that Ray's retry is exercised.
    """
    args = [binary, command, *paths, "--shard", f"{shard}/{shards}", "--out", out_dir,
            "--threads", "1", *extra]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    journal = os.path.join(out_dir, f"shard-{shard}-of-{shards}.jsonl")
    if kill_marker and not os.path.exists(kill_marker):
        while proc.poll() is None and count_records_in(journal) < 1:
            time.sleep(0.05)
        with open(kill_marker, "w", encoding="utf-8") as f:
            f.write(f"shard {shard} killed after {count_records_in(journal)} records\n")
        proc.kill()
        os.kill(os.getpid(), signal.SIGKILL)
    _, err = proc.communicate()
    if proc.returncode == 2:
        raise RuntimeError(f"shard {shard}/{shards}: {err.decode(errors='replace').strip()}")
    return {"shard": shard, "exit": proc.returncode}


def count_records_in(journal):
    try:
        with open(journal, encoding="utf-8", errors="replace") as f:
            return sum(1 for line in f if line.startswith('{"file":'))
    except FileNotFoundError:
        return 0


def progress(done_shards, shards, records, started):
    width = 30
    filled = int(width * done_shards / shards)
    bar = "#" * filled + "-" * (width - filled)
    elapsed = time.monotonic() - started
    sys.stderr.write(f"\r[{bar}] {done_shards}/{shards} shards, {records} files recorded, "
                     f"{elapsed:.0f} s")
    sys.stderr.flush()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", help="audio files and folders (same on every node)")
    parser.add_argument("--binary", required=True, help="the genrescope binary")
    parser.add_argument("--command", choices=["analyze", "tag"], default="tag")
    parser.add_argument("--shards", type=int, required=True)
    parser.add_argument("--out", required=True, help="journal folder (shared)")
    parser.add_argument("--retries", type=int, default=3, help="retries per shard")
    parser.add_argument("--address", default=None, help="Ray cluster address")
    parser.add_argument("--node-ip-address", default=None,
                        help="this driver's node address, as the cluster's (`ray start "
                             "--node-ip-address`; 127.0.0.1 keeps a local cluster on loopback)")
    parser.add_argument("--test-kill-shard", type=int, default=None, help=argparse.SUPPRESS)
    args, extra = parser.parse_known_args()
    extra = [a for a in extra if a != "--"]

    binary = os.path.abspath(args.binary)
    out_dir = os.path.abspath(args.out)
    paths = [os.path.abspath(p) for p in args.paths]
    os.makedirs(out_dir, exist_ok=True)
    ray.init(address=args.address, log_to_driver=False, _node_ip_address=args.node_ip_address)

    started = time.monotonic()
    pending = {}
    for shard in range(1, args.shards + 1):
        marker = None
        if args.test_kill_shard == shard:
            marker = os.path.join(out_dir, f".test-killed-shard-{shard}")
        task = run_shard.options(max_retries=args.retries, retry_exceptions=True).remote(
            binary, args.command, paths, shard, args.shards, out_dir, extra, marker)
        pending[task] = shard
    results, failures = [], []
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
        for task in ready:
            shard = pending.pop(task)
            try:
                results.append(ray.get(task))
            except Exception as e:  # every retry failed
                failures.append((shard, str(e)))
        progress(args.shards - len(pending), args.shards, count_records(out_dir), started)
    sys.stderr.write("\n")
    print(json.dumps({"shards": args.shards, "results": sorted(results, key=lambda r: r["shard"]),
                      "failed": failures, "seconds": round(time.monotonic() - started, 1)}))
    return 1 if failures or any(r["exit"] != 0 for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())

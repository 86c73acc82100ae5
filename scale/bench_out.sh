#!/usr/bin/env bash
# Figures of `analyze --out` (issue 16): files per second, real-time factor per core, and the
# cost of the resume bookkeeping (journal: SHA-256 of every file, one JSON line each, fsync
# every 2 s) against the same analysis without --out, in the same run. Runs alternate
# (plain, --out, plain, --out) so that a machine shared with other work hits both alike.
#
#   cargo build --release --features standalone --bin genrescope
#   ORT_DYLIB_PATH=$PWD/.ort/libonnxruntime.so bash scale/bench_out.sh target/release/genrescope 200 2
set -euo pipefail
binary="$1"; count="${2:-200}"; threads="${3:-2}"
music="${GENRESCOPE_MUSIC:-../shared/music}"
mapfile -t files < <(find "$music/mer4q" -name '*.ogg' | sort | head -n "$count")
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
# Wall-clock seconds and CPU seconds (user + system, all threads) of a command, "WALL CPU":
# on a machine shared with other work the CPU time is the steadier measure.
seconds() {
  local t0 t1
  t0=$(date +%s.%N)
  bash -c '"$@" > /dev/null; times' _ "$@" > "$work/times"
  t1=$(date +%s.%N)
  # `times` prints the child's user and system time on its second line: 0m1.234s 0m0.056s.
  local cpu
  cpu=$(sed -n 2p "$work/times" | awk '{ split($1, u, /[ms]/); split($2, s, /[ms]/); print u[1] * 60 + u[2] + s[1] * 60 + s[2] }')
  echo "$(echo "$t1 - $t0" | bc -l) $cpu"
}
plain=(); journal=()
for round in 1 2; do
  plain+=("$(seconds "$binary" analyze "${files[@]}" --threads "$threads" --format json)")
  journal+=("$(seconds "$binary" analyze "${files[@]}" --threads "$threads" --out "$work/run$round")")
done
record_bytes=$(cat "$work"/run1/*.jsonl | wc -c)
audio=$("$binary" merge "$work/run1" | python3 -c 'import json,sys; print(sum(f["tags"]["seconds"] for f in json.load(sys.stdin)["files"] if f.get("tags")))')
python3 - "$count" "$threads" "$audio" "$record_bytes" "${plain[@]}" "${journal[@]}" <<'PY'
import sys
n, threads, audio, size = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
runs = [tuple(float(v) for v in x.split()) for x in sys.argv[5:9]]
plain, journal = runs[0:2], runs[2:4]
pw, jw = min(w for w, _ in plain), min(w for w, _ in journal)
pc, jc = min(c for _, c in plain), min(c for _, c in journal)
print(f"files: {n}, audio: {audio:.0f} s, threads: {threads}")
for name, rs in [("without --out", plain), ("with --out   ", journal)]:
    print(f"{name}: wall {rs[0][0]:.1f} s, {rs[1][0]:.1f} s; CPU {rs[0][1]:.1f} s, {rs[1][1]:.1f} s")
print(f"--out: {n / jw:.2f} files/s wall, {audio / (jw * threads):.0f}x real time per core (wall), "
      f"{audio / jc:.0f}x real time per CPU-second")
print(f"bookkeeping (--out / plain, best of each): wall {jw / pw:.3f}, CPU {jc / pc:.3f}")
print(f"journal: {size} bytes, {size / n:.0f} bytes per file")
PY

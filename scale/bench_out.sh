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
seconds() { local t0 t1; t0=$(date +%s.%N); "$@" > /dev/null; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }
plain=(); journal=()
for round in 1 2; do
  plain+=("$(seconds "$binary" analyze "${files[@]}" --threads "$threads" --format json)")
  journal+=("$(seconds "$binary" analyze "${files[@]}" --threads "$threads" --out "$work/run$round")")
done
audio=$("$binary" merge "$work/run1" | python3 -c 'import json,sys; print(sum(f["tags"]["seconds"] for f in json.load(sys.stdin)["files"] if f.get("tags")))')
python3 - "$count" "$threads" "$audio" "${plain[@]}" "${journal[@]}" <<'PY'
import sys
n, threads, audio = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
plain, journal = [float(x) for x in sys.argv[4:6]], [float(x) for x in sys.argv[6:8]]
p, j = min(plain), min(journal)
print(f"files: {n}, audio: {audio:.0f} s, threads: {threads}")
print(f"without --out: {plain[0]:.1f} s, {plain[1]:.1f} s (best {p:.1f} s)")
print(f"with --out:    {journal[0]:.1f} s, {journal[1]:.1f} s (best {j:.1f} s)")
print(f"--out: {n / j:.2f} files/s, {audio / (j * threads):.0f}x real time per core")
print(f"bookkeeping: --out / plain = {j / p:.3f} (best against best); "
      f"per round: {journal[0] / plain[0]:.3f}, {journal[1] / plain[1]:.3f}")
PY

#!/usr/bin/env bash
# Data-parallel training throughput: 2 workers x 1 BLAS thread (steper train --nproc 2) against 1 worker
# x 2 BLAS threads with the same global batch (--grad-accum 2), on gold traces of a generated world and
# the shipped base student, in one run. Prints tokens/s of each and the ratio, with the CPU's name.
#   bench/distill/data_parallel.sh [BUILD_DIR]     (STEPS=40 by default)
set -euo pipefail
cd "$(dirname "$0")/../.."
steper=${1:-build}/src/cli/steper
[ -x "$steper" ] || { echo "build the target steper first" >&2; exit 1; }
steps=${STEPS:-40}
work=${WORK:-/tmp/steper-bench-dp}
rm -rf "$work" && mkdir -p "$work"
source bench/distill/world_traces.sh
traces=$(world_traces "$steper" "$work" "--train 400 --dev 20 --test 20 --entities 600")
run() {  # name threads nproc grad_accum
  OPENBLAS_NUM_THREADS=$2 "$steper" train --model models/base-tiny --traces "$traces" --objective steper \
    --train-steps "$steps" --batch-tokens 2048 --threads "$2" --nproc "$3" --grad-accum "$4" --out "$work/$1" \
    2> "$work/$1.log" || { tail -5 "$work/$1.log"; exit 1; }
}
run one 2 1 2
run two 1 2 1
python3 - "$work" "$(lscpu | sed -n 's/^Model name: *//p' | head -1)" <<'PY'
import json, sys
work, cpu = sys.argv[1], sys.argv[2]
one = json.load(open(f"{work}/one/summary.json")); two = json.load(open(f"{work}/two/summary.json"))
print(f"CPU: {cpu}; {one['steps']} steps, {one['tokens']} tokens each (same global batch)")
print(f"{'setting':34} {'tokens/s':>9}")
print(f"{'1 worker x 2 BLAS threads, accum 2':34} {one['tokens_per_s']:9.0f}")
print(f"{'2 workers x 1 BLAS thread':34} {two['tokens_per_s']:9.0f}")
print(f"ratio (2 workers / 1 worker): {two['tokens_per_s'] / one['tokens_per_s']:.2f}x")
PY

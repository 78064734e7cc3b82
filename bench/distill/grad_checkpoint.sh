#!/usr/bin/env bash
# Gradient checkpointing: peak memory (RSS) and tokens/s of `steper train` with and without
# --grad-checkpoint, the small student on long examples (gold traces with up to 15 passages a prompt), in
# one run. Prints both and the ratios, with the CPU's name.
#   bench/distill/grad_checkpoint.sh [BUILD_DIR]     (STEPS=10 by default)
set -euo pipefail
cd "$(dirname "$0")/../.."
steper=${1:-build}/src/cli/steper
[ -x "$steper" ] || { echo "build the target steper first" >&2; exit 1; }
steps=${STEPS:-10}
work=${WORK:-/tmp/steper-bench-ckpt}
rm -rf "$work" && mkdir -p "$work"
source bench/distill/world_traces.sh
traces=$(world_traces "$steper" "$work" "--train 200 --dev 20 --test 20 --entities 600" --max-passages 15)
"$steper" init --corpus "$work/world/corpus.jsonl" --size small --out "$work/model" 2> /dev/null
run() {  # name extra-flags...
  local name=$1; shift
  "$steper" train --model "$work/model" --traces "$traces" --objective steper --train-steps "$steps" \
    --batch-tokens 8192 --no-packing --out "$work/$name" "$@" 2> "$work/$name.log" || { tail -5 "$work/$name.log"; exit 1; }
}
run plain
run ckpt --grad-checkpoint
python3 - "$work" "$(lscpu | sed -n 's/^Model name: *//p' | head -1)" <<'PY'
import json, sys
work, cpu = sys.argv[1], sys.argv[2]
a = json.load(open(f"{work}/plain/summary.json")); b = json.load(open(f"{work}/ckpt/summary.json"))
print(f"CPU: {cpu}; small student, {a['steps']} steps of up to 8192 padded tokens, examples unpacked")
print(f"{'setting':22} {'peak RSS MB':>11} {'tokens/s':>9}")
for name, r in (("plain", a), ("--grad-checkpoint", b)):
    print(f"{name:22} {r['peak_rss_mb']:11.0f} {r['tokens_per_s']:9.0f}")
print(f"peak memory {b['peak_rss_mb'] / a['peak_rss_mb']:.2f}x, speed {b['tokens_per_s'] / a['tokens_per_s']:.2f}x with checkpointing")
PY

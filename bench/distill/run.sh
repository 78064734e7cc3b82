#!/usr/bin/env bash
# Training throughput table: tokens/s, padding share, peak memory (RSS), and StepER's cost per epoch
# against vanilla KD's, each setting in its own process.
#   bench/distill/run.sh [BUILD_DIR] [TRACES.jsonl]     (default build/, synthetic traces)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
traces=${2:-}
bin=$build/bench/distill/bench_distill_train
[ -x "$bin" ] || { echo "build the target bench_distill_train first" >&2; exit 1; }
steps=${STEPS:-40}
out=${OUT:-/tmp/steper-bench-distill/results.jsonl}
mkdir -p "$(dirname "$out")"
: > "$out"
run() {  # size objective blas_threads torch_threads
  local extra=()
  [ -n "$traces" ] && extra=(--traces "$traces")
  OPENBLAS_NUM_THREADS=$3 "$bin" --size "$1" --objective "$2" --threads "$3" --torch-threads "$4" \
    --steps "$steps" "${extra[@]}" | tee -a "$out"
}
run tiny steper 1 1
run tiny steper 2 1
run tiny steper 2 2
run tiny vanilla 2 1
run small steper 2 1
python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(f"{'size':6} {'objective':8} {'blas':>4} {'torch':>5} {'tok/s':>8} {'tok/cpu-s':>9} {'pad%':>5} {'RSS MB':>7} {'epoch tok':>10} {'epoch s':>8}")
for r in rows:
    print(f"{r['size']:6} {r['objective']:8} {r['blas_threads']:>4} {r['torch_threads']:>5} {r['tokens_per_s']:8.0f} {r['tokens_per_cpu_s']:9.0f} "
          f"{100*r['padding_share']:5.1f} {r['peak_rss_mb']:7.0f} {r['epoch_tokens']:10.0f} {r['epoch_seconds_est']:8.1f}")
st = [r for r in rows if r['size'] == 'tiny' and r['objective'] == 'steper' and r['blas_threads'] == 2 and r['torch_threads'] == 1]
va = [r for r in rows if r['size'] == 'tiny' and r['objective'] == 'vanilla']
if st and va:
    s, v = st[0], va[0]
    print(f"StepER/vanilla per epoch: examples {s['epoch_examples']/v['epoch_examples']:.2f}x, "
          f"tokens {s['epoch_tokens']/v['epoch_tokens']:.2f}x, time {s['epoch_seconds_est']/v['epoch_seconds_est']:.2f}x")
PY

# Side by side (what `steper demo` does with its students): one training with 2 BLAS threads against
# 2 and 3 trainings at once with 1 BLAS thread each, batch 1024 tokens; total tokens/s and the ratio.
side="$(dirname "$out")/side-by-side.jsonl"
: > "$side"
together() {  # jobs blas_threads
  local pids=() i
  for ((i = 0; i < $1; i++)); do
    local extra=()
    [ -n "$traces" ] && extra=(--traces "$traces")
    OPENBLAS_NUM_THREADS=$2 "$bin" --size tiny --objective steper --threads "$2" --torch-threads 1 \
      --batch-tokens 1024 --steps $((steps * 2)) --work "$(dirname "$out")/side-$1-$i" "${extra[@]}" \
      | python3 -c "import json,sys; r=json.loads(sys.stdin.read()); r['jobs']=$1; print(json.dumps(r))" >> "$side" &
    pids+=($!)
  done
  wait "${pids[@]}"
}
together 1 2
together 2 1
together 3 1
python3 - "$side" <<'PY'
import json, sys, collections
rows = [json.loads(l) for l in open(sys.argv[1])]
tot = collections.defaultdict(float)
for r in rows: tot[r["jobs"]] += r["tokens_per_s"]
base = tot[1]
for jobs in sorted(tot):
    print(f"{jobs} training(s) side by side: {tot[jobs]:8.0f} tokens/s in all ({tot[jobs] / base:.2f}x one training with 2 BLAS threads)")
PY

#!/usr/bin/env bash
# Shared-prefix packing against the per-example form, StepER and vanilla KD, on the demo's traces and base
# student (runs/demo/traces-world/train.jsonl, models/base-tiny) with the demo's batch of 1024 tokens and one
# BLAS thread: examples/s, target tokens/s, computed tokens per example, each setting in its own process,
# alternated ROUNDS times (best kept: the machine may be shared), and where a step's time goes.
#   bench/distill/run.sh [BUILD_DIR] [TRACES.jsonl]
# Without a demo run, a world and its gold-evidence traces are made here as the demo makes them (needs the
# steper binary). THREADS=1 adds the older table: BLAS/torch threads and trainings side by side.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
traces=${2:-}
bin=$build/bench/distill/bench_distill_train
[ -x "$bin" ] || { echo "build the target bench_distill_train first" >&2; exit 1; }
steps=${STEPS:-40}
rounds=${ROUNDS:-2}
work=${WORK:-/tmp/steper-bench-distill}
out=$work/results.jsonl
mkdir -p "$work"
: > "$out"
model=models/base-tiny
if [ -z "$traces" ]; then
  traces=runs/demo/traces-world/train.jsonl
  if [ ! -f "$traces" ]; then
    steper=$build/src/cli/steper
    [ -x "$steper" ] || { echo "no demo traces ($traces) and no $steper to make them" >&2; exit 1; }
    source bench/distill/world_traces.sh
    traces=$(world_traces "$steper" "$work/world-traces" "--seed 1 --train 2000 --dev 0 --test 0" \
      -k 4 --max-steps 6 --max-passages 10 --passage-words 60)
  fi
fi
echo "traces: $traces; model: $model; CPU: $(lscpu | sed -n 's/^Model name: *//p')"

one() {  # objective packing profile_steps
  OPENBLAS_NUM_THREADS=1 "$bin" --model "$model" --traces "$traces" --objective "$1" --packing "$2" \
    --threads 1 --torch-threads 1 --batch-tokens 1024 --steps "$steps" --profile-steps "$3" --work "$work" >> "$out"
}
for ((r = 0; r < rounds; r++)); do
  prof=0
  [ "$r" = 0 ] && prof=8
  for objective in steper vanilla; do
    one "$objective" off "$prof"
    one "$objective" on "$prof"
  done
done
python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
best = {}
for r in rows:
    k = (r["objective"], r["packing"])
    if k not in best or r["examples_per_s"] > best[k]["examples_per_s"]:
        best[k] = r
print(f"{'objective':9} {'packing':7} {'examples/s':>10} {'target tok/s':>12} {'computed tok/ex':>15} {'tok/s':>7} {'pad%':>5} {'split':>11}")
for (obj, packed), r in sorted(best.items()):
    print(f"{obj:9} {'on' if packed else 'off':7} {r['examples_per_s']:10.2f} {r['target_tokens_per_s']:12.0f} "
          f"{r['computed_tokens_per_example']:15.1f} {r['tokens_per_s']:7.0f} {100*r['padding_share']:5.1f} "
          f"{r['split_traces']:>5}/{r['traces']:<5}")
for obj in ("steper", "vanilla"):
    if (obj, True) in best and (obj, False) in best:
        on, off = best[(obj, True)], best[(obj, False)]
        print(f"{obj}: packed/unpacked examples/s {on['examples_per_s'] / off['examples_per_s']:.2f}x, "
              f"computed tokens per example {off['computed_tokens_per_example'] / on['computed_tokens_per_example']:.2f}x fewer")
def epoch_s(r): return r["epoch_examples"] / r["examples_per_s"]
if all(k in best for k in [("steper", True), ("steper", False), ("vanilla", False)]):
    v = epoch_s(best[("vanilla", False)])
    print(f"a StepER epoch costs {epoch_s(best[('steper', True)]) / v:.2f}x a vanilla one packed, "
          f"{epoch_s(best[('steper', False)]) / v:.2f}x unpacked")
print("\nwhere a step's time goes (self time of each op, share of the profiled steps' wall time):")
for r in rows:
    p = r.get("profile")
    if not p:
        continue
    parts = ", ".join(f"{k} {100*v:.0f}%" for k, v in p["share"].items())
    print(f"  {r['objective']:8} packing {'on ' if r['packing'] else 'off'} ({p['steps']} steps, {p['wall_seconds']:.1f} s): {parts}")
PY

[ "${THREADS:-0}" = 1 ] || exit 0
# The older table: BLAS and torch threads, then trainings side by side (what `steper demo` does with its
# students), on the same traces and model.
threads_out=$work/threads.jsonl
: > "$threads_out"
for setting in "steper 1 1" "steper 2 1" "steper 2 2" "vanilla 2 1"; do
  set -- $setting
  OPENBLAS_NUM_THREADS=$2 "$bin" --model "$model" --traces "$traces" --objective "$1" --threads "$2" \
    --torch-threads "$3" --steps "$steps" --work "$work" | tee -a "$threads_out"
done
side="$work/side-by-side.jsonl"
: > "$side"
together() {  # jobs blas_threads
  local pids=() i
  for ((i = 0; i < $1; i++)); do
    OPENBLAS_NUM_THREADS=$2 "$bin" --model "$model" --traces "$traces" --objective steper --threads "$2" \
      --torch-threads 1 --batch-tokens 1024 --steps $((steps * 2)) --work "$work/side-$1-$i" \
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

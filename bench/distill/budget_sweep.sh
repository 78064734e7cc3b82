#!/usr/bin/env bash
# One point of the student-budget sweep (bench/distill/budget_sweep.md): a student distilled as `steper demo`
# distils it (the shipped base, the demo's traces, batch 1,024 tokens, data order seed $SEED or the demo's 1,
# one BLAS thread; BATCH overrides the batch tokens, MODEL the base), then its multi-step EM on the demo's
# 300 test questions with the demo's loop (k 4, 6 steps, 10 passages of 60 words). FRAMEWORK=self-ask
# distils from the demo's gold Self-Ask traces and evaluates with the Self-Ask loop. Appends one line to
# WORK/results.txt: settings, training wall and CPU seconds, tokens/s, EM.
#   bench/distill/budget_sweep.sh DEMO_DIR WORK NAME OBJECTIVE TOKENS LR WARMUP [more steper train flags]
# DEMO_DIR is a finished `steper demo --out DEMO_DIR` (world/, world-index/, traces-world/); an index of an
# older format is rebuilt into WORK. Run at most one per core.
set -euo pipefail
cd "$(dirname "$0")/../.."
demo=$1 work=$2 name=$3 obj=$4 tokens=$5 lr=$6 warmup=$7
shift 7
steper=${STEPER:-build/src/cli/steper}
index=$demo/world-index
mkdir -p "$work"
if ! OPENBLAS_NUM_THREADS=1 "$steper" search --index "$index" -k 1 probe > /dev/null 2>&1; then
  index=$work/world-index
  [ -d "$index" ] || "$steper" index --corpus "$demo/world/corpus.jsonl" --index "$index" --threads 1 >&2
fi
framework=${FRAMEWORK:-ircot}
traces=$demo/traces-world/train.jsonl
[ "$framework" = ircot ] || traces=$demo/traces-world-$framework/train.jsonl
out=$work/$name
rm -rf "$out"
mkdir -p "$out"
t0=$(date +%s)
OPENBLAS_NUM_THREADS=1 /usr/bin/time -f "%U %S" -o "$out/train.time" nice -n 5 "$steper" train \
  --model "${MODEL:-models/base-tiny}" --traces "$traces" --objective "$obj" --out "$out/run" \
  --train-tokens "$tokens" --lr "$lr" --warmup "$warmup" --batch-tokens "${BATCH:-1024}" --seed "${SEED:-1}" --threads 1 "$@" \
  > "$out/train.log" 2>&1
t1=$(date +%s)
OPENBLAS_NUM_THREADS=1 nice -n 5 "$steper" eval --model "$out/run/model" --index "$index" \
  --data "$demo/world/test.json" --mode multi --framework "$framework" -k 4 --max-steps 6 --max-passages 10 --passage-words 60 \
  --out "$out/eval" > "$out/eval.log" 2>&1
python3 - "$out" "$name" "$obj" "$tokens" "$lr" "$warmup" "$*" $((t1 - t0)) >> "$work/results.txt" <<'PY'
import json, os, sys
out, name, obj, tokens, lr, warmup, extra, wall = sys.argv[1:]
s = json.load(open(out + "/run/summary.json"))
cpu = sum(float(x) for x in open(out + "/train.time").read().split()[-2:])
em = json.load(open(out + "/eval/metrics.json"))["em"]
print(f"{name} framework={os.environ.get('FRAMEWORK', 'ircot')} objective={obj} seed={os.environ.get('SEED', '1')} tokens={tokens} lr={lr} warmup={warmup} extra='{extra}' steps={s['steps']} "
      f"train_wall_s={wall} train_cpu_s={cpu:.0f} tok_s={s['tokens_per_s']:.0f} EM={em:.1f}")
PY
tail -1 "$work/results.txt"

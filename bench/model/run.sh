#!/usr/bin/env bash
# Model benchmarks beside plain PyTorch (Debian's python3-torch), with the same thread settings:
# training-step tokens/s (tiny and small), matmul efficiency, decoding with/without the KV cache,
# peak memory while loading a checkpoint.
#
#   bench/model/run.sh [BUILD_DIR (default build)] [REPEATS (default 3)]
# The two implementations run alternately REPEATS times; the best run of each is reported (the machine
# may be shared, and the best run is the least disturbed one).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
repeats=${2:-3}
bin="$build/bench/model/model_bench"
[ -x "$bin" ] || { echo "run.sh: $bin not built (cmake --build $build --target model_bench)" >&2; exit 1; }
PY=/usr/bin/python3
if ! "$PY" -c "import torch" 2>/dev/null; then
  echo "run.sh: installing python3-torch for the reference" >&2
  apt-get install -y python3-torch >/dev/null
fi
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-2}
export TORCH_THREADS=${TORCH_THREADS:-1}
echo "threads: torch $TORCH_THREADS, OpenBLAS $OPENBLAS_NUM_THREADS"

best() {  # best tokens_per_s of JSON lines on stdin
  "$PY" -c 'import sys, json; print(max(json.loads(l)["tokens_per_s"] for l in sys.stdin if l.strip()))'
}

for cfg in "tiny 8 256 10" "small 8 256 5"; do
  set -- $cfg
  mine=""; ref=""
  for _ in $(seq "$repeats"); do
    mine+=$("$bin" train "$@")$'\n'
    ref+=$("$PY" bench/model/torch_ref.py train "$@")$'\n'
  done
  m=$(best <<<"$mine"); r=$(best <<<"$ref")
  gf=$(echo "$mine" | "$PY" -c 'import sys, json; print(round(max(json.loads(l)["gflops"] for l in sys.stdin if l.strip()), 1))')
  "$PY" -c "print(f'train $1 (batch $2 x $3): steper {float($m):.0f} tokens/s, pytorch {float($r):.0f} tokens/s, ratio {float($m)/float($r):.2f}, steper {float($gf)} GFLOP/s')"
done

echo "matmul (torch::mm at the training step's shapes, GFLOP/s):"
"$bin" mm 2048
echo "decoding (prompt 200 tokens, 32 new):"
"$bin" decode tiny
"$bin" decode small
dir=$(mktemp -d)
"$bin" save "$dir" small
echo "loading a small checkpoint:"
"$bin" load "$dir"
rm -rf "$dir"

#!/bin/sh
# Decoding tokens/s: steper (libtorch) against llama.cpp (node-llama-cpp 3.21.1) on the same model, exported
# with `steper export-gguf`, batch 1 and batched, side by side in one run.
#
# Usage: bench/gguf/run_bench.sh BUILD_DIR [SIZE (tiny|small, default small)]
# Environment: THREADS (default 1, both engines), NEW_TOKENS (default 64), BATCHES (default "1 8"),
#              TYPE (f32|f16, default f32; the GGUF tensor type for llama.cpp).
set -eu
build=${1:?usage: run_bench.sh BUILD_DIR [SIZE]}
size=${2:-small}
threads=${THREADS:-1}
new_tokens=${NEW_TOKENS:-64}
batches=${BATCHES:-1 8}
type=${TYPE:-f32}
here=$(cd "$(dirname "$0")" && pwd)
root=$here/../..
cache=$root/.cache/npm-llama
work=${TMPDIR:-/tmp}/steper_gguf_bench_$$
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"

"$root/tests/gguf/install_llama_cpp.sh" "$cache"
steper=$build/src/cli/steper
bench=$build/bench/gguf/gguf_steper_decode_bench
"$steper" init --corpus "$root/tests/fixtures/gguf/corpus.jsonl" --out "$work/model" --size "$size" --seed 1 >/dev/null 2>&1
"$steper" export-gguf --model "$work/model" --out "$work/model.gguf" --type "$type" >/dev/null 2>&1
params=$(node -e "const c=require('$work/model/config.json');console.log(c.hidden_size+'d '+c.num_hidden_layers+'L '+c.num_attention_heads+'h vocab '+c.vocab_size)")
echo "model: steper init --size $size ($params); GGUF $type; $new_tokens new tokens; $threads thread(s); $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"

OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads "$bench" "$work/model" "$new_tokens" $batches > "$work/steper.jsonl"
node "$here/llama_cpp_decode.mjs" "$cache" "$work/model.gguf" "$new_tokens" "$threads" $batches > "$work/llama.jsonl"

node -e "
const fs = require('fs');
const rows = [...fs.readFileSync('$work/steper.jsonl', 'utf8').trim().split('\n'),
              ...fs.readFileSync('$work/llama.jsonl', 'utf8').trim().split('\n')].map(JSON.parse);
const by = {};
for (const r of rows) (by[r.batch] ??= {})[r.engine] = r.tokens_per_s;
console.log('batch  steper tok/s  llama.cpp tok/s  llama.cpp/steper');
for (const b of Object.keys(by).map(Number).sort((x, y) => x - y)) {
  const s = by[b].steper, l = by[b]['llama.cpp'];
  console.log(String(b).padStart(5), String(s).padStart(13), String(l).padStart(16), (l / s).toFixed(2).padStart(17));
}"

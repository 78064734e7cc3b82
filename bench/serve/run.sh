#!/usr/bin/env bash
# The serve benchmark: a `steper init --size tiny` model behind `steper serve` on a free port, then
# bench_serve (2,000 requests, 32 in flight, a fifth malformed or oversized; 1 vs 16 clients; 64 streamed
# requests timed by the clients and by the server's histograms; a burst of 300 connections past
# --max-connections 128).
# Usage: bench/serve/run.sh [BUILD_DIR] [bench_serve flags...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
shift || true
steper=$build/src/cli/steper
work=$build/bench/serve/work
mkdir -p "$work"
lscpu | grep 'Model name' || true
echo "cores: $(nproc)"
[ -d "$work/world" ] || "$steper" world --out "$work/world" --train 40 --dev 0 --test 10 >/dev/null
[ -d "$work/model" ] || "$steper" init --corpus "$work/world/corpus.jsonl" --out "$work/model" --size tiny --seed 7 >/dev/null
"$steper" serve --model "$work/model" --port 0 --max-batch 16 --max-queue 64 --max-body-bytes 65536 \
    --max-prompt-tokens 1024 --max-connections 128 ${STEPER_SERVE_FLAGS:-} 2> "$work/server.log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
port=""
for _ in $(seq 1 300); do
  port=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/server.log" | head -1 | sed 's/.*://') || true
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { cat "$work/server.log"; exit 1; }
"$build/bench/serve/bench_serve" "$port" "$@"
curl -s "http://127.0.0.1:$port/metrics" | grep -E '^steper_(decode_batch_size_(sum|count)|tokens_generated_total|decode_steps_total|connections_refused_total|prefix_cache_(queries|hits)_total)'

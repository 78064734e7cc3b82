#!/usr/bin/env bash
# The retrieval benchmark at Wikipedia scale (the README's table): 5.2M generated passages, steper's
# native index and its Xapian databases beside SQLite FTS5, written to
# bench/retrieval/bench_retrieval_scale.json. ENGINES (default native,xapian,fts5) picks the engines.
#
#   bench/retrieval/run_scale.sh [BUILD_DIR (default build)] [PASSAGES (default 5200000)] [DIR]
# Needs about 15 GB free in DIR (default: the system temporary folder) for the two indexes, and takes
# tens of minutes on 2 cores (FTS5's queries take seconds each at this scale). Run it on an idle
# machine for wall times; CPU times are reported too. A stopped run continues where it stopped when
# run again with the same DIR (each finished stage is reused; remove DIR first to measure afresh, e.g.
# after a rebuild). The indexes stay in DIR afterwards.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
passages=${2:-5200000}
dir=${3:-${TMPDIR:-/tmp}/steper_bench_scale}
bin="$build/bench/retrieval/bench_retrieval"
[ -x "$bin" ] || { echo "run_scale.sh: $bin not built (cmake --build $build --target bench_retrieval)" >&2; exit 1; }
mkdir -p "$dir"
"$bin" --passages "$passages" --queries 3000 --single-queries 1000 --fts5-queries 200 --fts5-timed-queries 10 \
  --engines "${ENGINES:-native,xapian,fts5}" --dir "$dir" --reuse --out bench/retrieval/bench_retrieval_scale.json

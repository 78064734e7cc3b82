#!/usr/bin/env bash
# OpenBLAS's kernels side by side on this CPU: the ones it picks itself, then each named one.
# Usage: bench/cli/run.sh [build dir]
set -euo pipefail
bin=${1:-build}/bench/cli/bench_blas_kernels
lscpu | grep -m1 "Model name" || true
env -u OPENBLAS_CORETYPE OPENBLAS_NUM_THREADS=1 "$bin"
for core in Prescott Haswell SkylakeX; do OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=$core "$bin"; done

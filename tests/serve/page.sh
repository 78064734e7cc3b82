#!/usr/bin/env bash
# CTest entry: the page in headless Chromium (Debian's chromium; exit 77 when it or npm is missing).
# Usage: page.sh STEPER WORK_DIR [SCREENSHOT]
steper=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)
shot=${3:-$work/page.png}
chromium=$(command -v chromium || command -v chromium-browser || true)
[ -n "$chromium" ] || { echo "SKIP: chromium not installed (scripts/install-deps.sh installs it)" >&2; exit 77; }
npm_dir=${STEPER_NPM_SERVE_DIR:-$here/../../.cache/npm-serve}
"$here/install_npm_clients.sh" "$npm_dir" || exit $?
. "$here/fixture.sh"
make_fixture
start_server
node "$here/page.mjs" "$base" "$chromium" "$npm_dir" "$shot" || fail "the page checks failed"

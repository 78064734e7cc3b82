#!/usr/bin/env bash
# CTest entry: the official `openai` npm client against steper serve (installed once into .cache; exit 77
# when npm is unreachable). Usage: openai_client.sh STEPER WORK_DIR
steper=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)
npm_dir=${STEPER_NPM_SERVE_DIR:-$here/../../.cache/npm-serve}
"$here/install_npm_clients.sh" "$npm_dir" || exit $?
. "$here/fixture.sh"
make_fixture
start_server
node "$here/openai_client.mjs" "$base" "$steper" "$work/model" "$npm_dir" || fail "the openai client checks failed"

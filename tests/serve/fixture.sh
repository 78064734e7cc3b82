# Sourced by the serve tests: a world, its index and a `steper init --size tiny` model in $work, and one
# `steper serve` on a free port that is always stopped when the test exits.
# Needs: $steper (the binary) and $work (a scratch folder) set by the caller.
set -euo pipefail
fail() { echo "FAIL: $*" >&2; [ -f "$work/server.log" ] && tail -20 "$work/server.log" >&2; exit 1; }

make_fixture() {  # made afresh: what an earlier build left may be of an older format
  rm -rf "$work" && mkdir -p "$work"
  "$steper" world --out "$work/world" --train 40 --dev 0 --test 10 --seed 5 >/dev/null
  "$steper" index --corpus "$work/world/corpus.jsonl" --index "$work/index" >/dev/null 2>&1
  "$steper" init --corpus "$work/world/corpus.jsonl" --out "$work/model" --size tiny --seed 7 >/dev/null
}

server_pid=""
stop_server() {
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
trap stop_server EXIT

# start_server [FLAGS...]: sets $port and $base (http://127.0.0.1:PORT).
start_server() {
  : > "$work/server.log"
  "$steper" serve --model "$work/model" --index "$work/index" --port 0 "$@" 2> "$work/server.log" &
  server_pid=$!
  port=""
  for _ in $(seq 1 300); do
    port=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/server.log" | head -1 | sed 's/.*://') || true
    [ -n "$port" ] && break
    kill -0 "$server_pid" 2>/dev/null || fail "steper serve exited before listening"
    sleep 0.1
  done
  [ -n "$port" ] || fail "steper serve did not start listening"
  base="http://127.0.0.1:$port"
}

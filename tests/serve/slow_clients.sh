#!/usr/bin/env bash
# Slow and stalled clients cannot take steper serve's connections (tests/serve/slow_clients.py, python3):
# 600 stalled connections while /health and a completion are answered and the server closes them at
# --read-deadline; past --max-connections a connection is answered 503 at the door.
# Usage: slow_clients.sh STEPER WORK_DIR
steper=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/fixture.sh"
command -v python3 > /dev/null || exit 77
make_fixture
start_server --read-deadline 3 --idle-timeout 3
python3 "$here/slow_clients.py" stall "$port" 600 3 || fail "stalled clients"
stop_server
start_server --read-deadline 3 --idle-timeout 3 --max-connections 20
python3 "$here/slow_clients.py" door "$port" 30 20 3 || fail "a full server"
grep -q '^steper_connections_refused_total [1-9]' <(curl -s "$base/metrics") || fail "/metrics does not count the refusals"
echo "slow_clients: ok"

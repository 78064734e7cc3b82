#!/usr/bin/env bash
# steper teach --teacher openai against steper serve, end to end: the traces must be the ones the same
# model folder writes as a local teacher (--teacher DIR), step for step (no few-shot prefix: a local
# teacher has none).
# Usage: teach_openai.sh STEPER WORK_DIR
steper=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/fixture.sh"
make_fixture
start_server
rm -f "$work/served.jsonl" "$work/local.jsonl"
flags=(--data "$work/world/train.json" --index "$work/index" --limit 4 -k 2 --max-steps 3 --fewshot none)
"$steper" teach "${flags[@]}" --teacher openai --base-url "$base" --model model --endpoint completions \
    --concurrency 4 --out "$work/served.jsonl" 2> "$work/teach-served.log" || { tail "$work/teach-served.log"; fail "teach against steper serve"; }
stop_server
"$steper" teach "${flags[@]}" --teacher "$work/model" --out "$work/local.jsonl" 2> "$work/teach-local.log" ||
  { tail "$work/teach-local.log"; fail "teach with the local model"; }
python3 - "$work/served.jsonl" "$work/local.jsonl" <<'PY'
import json, sys
served = [json.loads(l) for l in open(sys.argv[1])]
local = {t["id"]: t for t in (json.loads(l) for l in open(sys.argv[2]))}
assert len(served) == 4 and len(local) == 4, (len(served), len(local))
steps = 0
for t in served:
    l = local[t["id"]]
    assert t["teacher"] == "model", t["teacher"]
    for k in ("steps", "answer", "end", "loop"):
        assert t[k] == l[k], (t["id"], k, t[k], l[k])
    steps += len(t["steps"])
assert steps >= 4, steps
print("teach_openai: ok,", steps, "steps")
PY

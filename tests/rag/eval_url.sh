#!/usr/bin/env bash
# steper eval --model URL against steper serve, end to end: the predictions must be the ones the same model
# folder gives as --model DIR (greedy decoding, no few-shot prefix, the completions endpoint).
# Usage: eval_url.sh STEPER WORK_DIR
steper=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../serve/fixture.sh"
make_fixture
start_server
flags=(--data "$work/world/test.json" --index "$work/index" --limit 6 -k 2 --max-steps 3)
"$steper" eval "${flags[@]}" --model "$base/v1" --model-name model --endpoint completions --fewshot none \
    --concurrency 3 --out "$work/url" > "$work/eval-url.log" 2>&1 || { tail "$work/eval-url.log"; fail "eval --model URL"; }
# a URL without the model's name is refused in one line
if "$steper" eval "${flags[@]}" --model "$base" --out "$work/none" 2> "$work/no-name.log"; then fail "no --model-name"; fi
grep -q -- "--model-name" "$work/no-name.log" || fail "the refusal does not name --model-name"
stop_server
"$steper" eval "${flags[@]}" --model "$work/model" --out "$work/folder" > "$work/eval-folder.log" 2>&1 ||
  { tail "$work/eval-folder.log"; fail "eval --model DIR"; }
python3 - "$work/url/predictions.jsonl" "$work/folder/predictions.jsonl" <<'PY'
import json, sys
url = [json.loads(l) for l in open(sys.argv[1])]
folder = [json.loads(l) for l in open(sys.argv[2])]
assert len(url) == 6 and len(folder) == 6, (len(url), len(folder))
steps = 0
for u, f in zip(url, folder):
    assert u["id"] == f["id"], (u["id"], f["id"])
    for k in ("steps", "answer", "end", "loop", "em", "f1"):
        assert u[k] == f[k], (u["id"], k, u[k], f[k])
    steps += len(u["steps"])
assert steps >= 6, steps
print("eval_url: ok,", steps, "steps")
PY

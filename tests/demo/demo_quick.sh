#!/usr/bin/env bash
# steper demo --quick end to end, then the report's structure; a second run must reuse every stage.
set -euo pipefail
steper=$1
out=$2
rm -rf "$out"
"$steper" demo --quick --out "$out" 2> "$out.log" || { tail -40 "$out.log"; exit 1; }
fail() { echo "demo_quick: $*"; tail -20 "$out.log"; exit 1; }
for f in report.md report.html summary.json world/corpus.jsonl world/train.json world/test.json \
         traces-world/train.jsonl base/model/config.json base/model/model.safetensors \
         student-steper/model/model.safetensors student-uniform/model/model.safetensors \
         student-vanilla/model/model.safetensors student-steper/metrics.jsonl \
         plots/steper_sigma.svg plots/em_by_hops.svg; do
  [ -s "$out/$f" ] || fail "missing $f"
done
for sys in teacher base steper uniform vanilla; do
  for mode in multi single none; do
    [ -s "$out/eval/$sys/$mode/metrics.json" ] || fail "missing eval/$sys/$mode/metrics.json"
    [ -s "$out/eval/$sys/$mode/predictions.jsonl" ] || fail "missing eval/$sys/$mode/predictions.jsonl"
  done
done
for heading in "## Results on held-out test questions" "## StepER against vanilla KD" "## By hop count" \
               "## Retrieval by step" "## Training" "## Example traces" "## Teacher traces and wall time"; do
  grep -qF "$heading" "$out/report.md" || fail "report.md lacks \"$heading\""
done
grep -q "StepER .* vanilla KD on multi-step EM" "$out/report.md" || fail "report.md states no StepER/vanilla comparison"
grep -q "<svg" "$out/report.html" || fail "report.html has no inline plot"
# 15 result rows: 5 systems x 3 modes
rows=$(grep -cE "^\| (teacher|base|steper|uniform|vanilla) \| (multi|single|none) \|" "$out/report.md")
[ "$rows" = 15 ] || fail "expected 15 result rows, found $rows"
# The teacher reads gold evidence: with no retrieval it must find nothing, with multi-step it must do well.
python3 - "$out" <<'PY'
import json, sys
s = json.load(open(sys.argv[1] + "/summary.json"))
r = s["results"]
assert r["teacher"]["none"]["em"] == 0, r["teacher"]["none"]
assert r["teacher"]["multi"]["em"] > 30, r["teacher"]["multi"]
assert "steper_vs_vanilla" in s
PY
# A rerun reuses every finished stage.
"$steper" demo --quick --out "$out" 2> "$out.log2" || { tail -40 "$out.log2"; exit 1; }
python3 - "$out" <<'PY'
import json, sys
s = json.load(open(sys.argv[1] + "/summary.json"))
fresh = [t["stage"] for t in s["stage_times"] if not t["reused"]]
assert not fresh, "stages rerun although their inputs did not change: %s" % fresh
PY
echo "demo_quick: ok"

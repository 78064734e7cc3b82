#!/usr/bin/env bash
# steper demo --quick end to end from the shipped base student, then the report's structure; a second run
# must reuse every stage. Then --pretrain-base: the same pipeline with a base pretrained inside the run.
set -euo pipefail
steper=$1
out=$2
rm -rf "$out"
"$steper" demo --quick --out "$out" 2> "$out.log" || { tail -40 "$out.log"; exit 1; }
fail() { echo "demo_quick: $*"; tail -20 "$out.log"; exit 1; }
for f in report.md report.html summary.json world/corpus.jsonl world/train.json world/test.json \
         traces-world/train.jsonl student-steper/model/model.safetensors student-uniform/model/model.safetensors \
         student-vanilla/model/model.safetensors student-steper/metrics.jsonl \
         plots/steper_sigma.svg plots/em_by_hops.svg traces-world-self-ask/train.jsonl \
         student-self-ask-steper/model/model.safetensors student-self-ask-vanilla/model/model.safetensors; do
  [ -s "$out/$f" ] || fail "missing $f"
done
for sys in teacher base steper uniform vanilla; do
  for mode in multi single none; do
    [ -s "$out/eval/$sys/$mode/metrics.json" ] || fail "missing eval/$sys/$mode/metrics.json"
    [ -s "$out/eval/$sys/$mode/predictions.jsonl" ] || fail "missing eval/$sys/$mode/predictions.jsonl"
  done
done
for sys in teacher base steper vanilla; do
  [ -s "$out/eval-self-ask/$sys/multi/predictions.jsonl" ] || fail "missing eval-self-ask/$sys/multi/predictions.jsonl"
done
for heading in "## Results on held-out test questions" "## StepER against vanilla KD" "## By hop count" \
               "## Retrieval by step" "## Training" "## Example traces" "## Teacher traces and wall time" \
               "## IRCoT and Self-Ask side by side"; do
  grep -qF "$heading" "$out/report.md" || fail "report.md lacks \"$heading\""
done
grep -q "StepER .* vanilla KD on multi-step EM" "$out/report.md" || fail "report.md states no StepER/vanilla comparison"
grep -q "StepER .* vanilla KD on multi-step EM under Self-Ask: .*paired bootstrap 95% CI" "$out/report.md" ||
  fail "report.md states no StepER/vanilla comparison under Self-Ask"
grep -q "<svg" "$out/report.html" || fail "report.html has no inline plot"
# the report counts the shipped base's pretraining over all its rounds and worlds (pretrain.json and its
# continued_from)
want=$(python3 - "$out/demo-config.json" <<'PY'
import json, sys
p = json.load(open(json.load(open(sys.argv[1]))["base"] + "/pretrain.json"))
rounds, tokens, seeds, questions = 0, 0, set(), p["recipe"]["questions"]
while isinstance(p, dict) and "recipe" in p:
    rounds += 1; tokens += p["recipe"]["tokens"]; seeds.add(p["recipe"]["world_seed"]); p = p.get("continued_from")
worlds = f" on {len(seeds)} worlds of {questions} questions" if len(seeds) > 1 else f" on a {questions}-question world"
print(f"({tokens / 1e6:.1f}M tokens" + (f" in {rounds} rounds" if rounds > 1 else "") + worlds + ")")
PY
)
grep -qF "$want" "$out/report.md" || fail "report.md does not say \"$want\" of the shipped base"
# the training table states the examples each student saw, as its own summary.json counted them
python3 - "$out" <<'PY' || fail "report.md's examples seen differ from the students' summary.json"
import json, re, sys
out = sys.argv[1]
md = open(out + "/report.md").read()
assert "| student | steps | tokens | tokens/s | examples | examples seen |" in md, "no examples seen column"
for row, folder in [("steper", "student-steper"), ("vanilla", "student-vanilla"),
                    ("self-ask steper", "student-self-ask-steper")]:
    m = re.search(r"^\| " + re.escape(row) + r" \| \d+ \| \d+ \| \d+ \| \d+ \| (\d+) \|$", md, re.M)
    assert m, row
    want = json.load(open(f"{out}/{folder}/summary.json"))["examples_seen"]
    assert int(m.group(1)) == want > 0, (row, m.group(1), want)
PY
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
# one retrieval cannot bring every hop's paragraph: the gold reader scores less than with every step's
assert r["teacher"]["single"]["em"] < r["teacher"]["multi"]["em"], (r["teacher"]["single"], r["teacher"]["multi"])
assert "steper_vs_vanilla" in s
assert "steper_vs_vanilla" in s["self_ask"], s.get("self_ask")
assert s["self_ask"]["results"]["teacher"]["multi"]["em"] > 30, s["self_ask"]["results"]["teacher"]
PY
# The Self-Ask traces and predictions record their framework; each pair's step retrieved with its follow-up.
python3 - "$out" <<'PY'
import json, sys
for path in ("/traces-world-self-ask/train.jsonl", "/eval-self-ask/teacher/multi/predictions.jsonl"):
    for line in open(sys.argv[1] + path):
        t = json.loads(line)
        assert (t["loop"]["framework"], t["loop"]["prompt_format"]) == ("self-ask", "self-ask-v1"), t["loop"]
        for st in t["steps"]:
            if st["sentence"].startswith("Follow up: "):
                follow_up = st["sentence"].split("\n")[0][len("Follow up: "):]
                words = set(follow_up.replace("?", "").split())
                assert st["query"] and set(st["query"].split()) <= words, (st["query"], follow_up)
        if t["answered"]:
            assert t["steps"][-1]["sentence"].startswith("So the final answer is: "), t["steps"][-1]
for line in open(sys.argv[1] + "/traces-world/train.jsonl"):
    assert json.loads(line)["loop"]["framework"] == "ircot"
PY
# Every teacher prediction ends for a recorded reason, and an unanswered one never carries an answer.
python3 - "$out" <<'PY'
import json, sys
for mode in ("multi", "single"):
    for line in open(sys.argv[1] + "/eval/teacher/" + mode + "/predictions.jsonl"):
        t = json.loads(line)
        assert t["end"] in ("answered", "evidence_missing", "max_steps"), t["end"]
        assert (t["end"] == "answered") == t["answered"], t
        if not t["answered"]:
            assert t["answer"] == "", t
        assert t["loop"]["max_passages"] == 10 and t["loop"]["passage_words"] == 60, t["loop"]
PY
# The traces the students train on record the demo's loop options.
head -1 "$out/traces-world/train.jsonl" | python3 -c 'import json,sys; l=json.load(sys.stdin)["loop"]; assert (l["k"], l["max_passages"], l["passage_words"]) == (4, 10, 60), l'

# A rerun reuses every finished stage.
"$steper" demo --quick --out "$out" 2> "$out.log2" || { tail -40 "$out.log2"; exit 1; }
python3 - "$out" <<'PY'
import json, sys
s = json.load(open(sys.argv[1] + "/summary.json"))
fresh = [t["stage"] for t in s["stage_times"] if not t["reused"]]
assert not fresh, "stages rerun although their inputs did not change: %s" % fresh
PY
grep -q "shipped with steper" "$out/report.md" || fail "report.md does not say where the base came from"

# --seeds 2: the finished run 1 reused, a second run of every objective trained with the next data-order seed;
# the report's per-run table and its two-level verdict read both runs
"$steper" demo --quick --seeds 2 --out "$out" 2> "$out.log3" || { tail -40 "$out.log3"; exit 1; }
python3 - "$out" <<'PY' || fail "--seeds 2: the report's runs do not match the students and their evaluations"
import json, re, sys
out = sys.argv[1]
md = open(out + "/report.md").read()
s = json.load(open(out + "/summary.json"))
assert s["runs"] == 2, s["runs"]
fresh = {t["stage"] for t in s["stage_times"] if not t["reused"]}
assert not any(t.startswith(("world", "teach")) for t in fresh) and "train: students" in fresh, fresh
for prefix, eval_dir, objectives in (("", "eval", ("steper", "uniform", "vanilla")),
                                     ("self-ask-", "eval-self-ask", ("steper", "vanilla"))):
    for obj in objectives:
        c1 = json.load(open(f"{out}/student-{prefix}{obj}/config.json"))
        c2 = json.load(open(f"{out}/student-{prefix}{obj}-run2/config.json"))
        assert c2["seed"] == c1["seed"] + 1, (c1["seed"], c2["seed"])
        ems = [json.load(open(f"{out}/{eval_dir}/{name}/multi/metrics.json"))["em"] for name in (obj, obj + "-run2")]
        framework = "Self-Ask" if prefix else "IRCoT"
        assert s["across_runs"][framework][obj]["em_runs"] == ems, (obj, ems, s["across_runs"][framework][obj])
        row = "| %s | %.1f | %.1f | %.1f |" % (obj, ems[0], ems[1], sum(ems) / 2)
        assert row in md, row
assert re.search(r"StepER .* vanilla KD on multi-step EM: [-+][0-9.]+ points \(two-level bootstrap 95% CI .*"
                 r"resampling 2 and 2 training runs and 20 test questions", md), "no two-level verdict"
assert "## Across training runs" in md
PY
cmp -s "$out/student-steper/model/model.safetensors" "$out/student-steper-run2/model/model.safetensors" &&
  fail "--seeds 2: the second run's weights equal the first's"

# --pretrain-base: world, traces, tokenizer and base made in the run; the students one at a time (--train-jobs)
out2=$out-pretrain
rm -rf "$out2"
"$steper" demo --quick --pretrain-base --ircot-only --train-jobs 1 --out "$out2" 2> "$out2.log" ||
  { tail -40 "$out2.log"; exit 1; }
python3 - "$out2" <<'PY' || fail "--train-jobs 1: the students' stages do not record one at a time"
import json, sys
for obj in ("steper", "uniform", "vanilla"):
    info = json.load(open(sys.argv[1] + "/student-" + obj + "/stage.json"))["info"]
    assert (info["side_by_side"], info["group"]) == (1, 3), info
PY
for f in pretrain-world/corpus.jsonl traces-pretrain-world/train.jsonl init/tokenizer.json base/model/model.safetensors \
         base/metrics.jsonl student-vanilla/model/model.safetensors report.md; do
  [ -s "$out2/$f" ] || { tail -20 "$out2.log"; echo "demo_quick: --pretrain-base: missing $f"; exit 1; }
done
rows=$(grep -cE "^\| (teacher|base|steper|uniform|vanilla) \| (multi|single|none) \|" "$out2/report.md")
[ "$rows" = 15 ] || fail "--pretrain-base: expected 15 result rows, found $rows"
grep -q "pretrained in this run" "$out2/report.md" || fail "--pretrain-base: report.md does not say the base was pretrained here"

# steper pretrain-base: the recipe behind the shipped base, at --quick size; its output is a model folder
base=$out-base
rm -rf "$base" "$base-work"
"$steper" pretrain-base --quick --out "$base" --work "$base-work" 2> "$base.log" || { tail -20 "$base.log"; exit 1; }
python3 - "$base" <<'PY'
import json, sys
p = json.load(open(sys.argv[1] + "/pretrain.json"))
assert p["recipe"]["objective"] == "lm" and p["recipe"]["questions"] == 150, p["recipe"]
assert p["training"]["tokens"] >= p["recipe"]["tokens"], p["training"]
assert p["traces_kept"] > 0, p
PY
"$steper" generate --model "$base" --max-tokens 4 "Q: Where" > /dev/null || fail "pretrain-base wrote no usable model folder"
# --from: more pretraining from that base, written over it, here on Self-Ask documents of another world;
# the earlier recipe kept as continued_from
cp "$base/model.safetensors" "$base.before"
"$steper" pretrain-base --quick --from "$base" --framework self-ask --world-seed 99 --out "$base" --work "$base-work2" \
  2> "$base.log" || { tail -20 "$base.log"; exit 1; }
python3 - "$base" <<'PY'
import json, sys
p = json.load(open(sys.argv[1] + "/pretrain.json"))
assert p["recipe"]["from"] == sys.argv[1] and "vocab" not in p["recipe"], p["recipe"]
assert p["recipe"]["loop"]["framework"] == "self-ask" and p["recipe"]["world_seed"] == 99, p["recipe"]
assert p["continued_from"]["recipe"]["loop"]["framework"] == "ircot", p["continued_from"]["recipe"]
assert p["continued_from"]["recipe"]["questions"] == 150 and p["continued_from"]["continued_from"] is None, p
PY
cmp -s "$base/model.safetensors" "$base.before" && fail "pretrain-base --from left the weights as they were"
# a missing base is named with its flag, and nothing is written
if "$steper" demo --quick --base "$out-no-such-base" --out "$out-nothing" 2> "$out.err"; then fail "--base to a missing folder succeeded"; fi
grep -q -- "--base $out-no-such-base: no model.safetensors" "$out.err" || fail "unclear error for a missing --base: $(cat "$out.err")"
[ ! -e "$out-nothing" ] || fail "a failed --base check left $out-nothing behind"
if "$steper" demo --quick --base-tokens 5 --out "$out-nothing" 2> "$out.err"; then fail "--base-tokens without --pretrain-base succeeded"; fi
grep -q -- "--pretrain-base" "$out.err" || fail "unclear error for --base-tokens alone: $(cat "$out.err")"
# teach with non-default loop options, then examples with no loop flags: the prompts hold at most 6
# passages of at most 20 words, and every trace line states the options
tr=$out-loop/traces.jsonl
rm -rf "$out-loop"
"$steper" teach --data "$out/world/train.json" --index "$out/world-index" --teacher gold --limit 30 \
    --max-passages 6 --passage-words 20 --out "$tr" 2> "$out-loop.log" || { tail -5 "$out-loop.log"; fail "teach with loop flags"; }
"$steper" examples --traces "$tr" --out "$out-loop/examples.jsonl" 2>> "$out-loop.log" || fail "examples of recorded traces"
python3 - "$tr" "$out-loop/examples.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    l = json.loads(line)["loop"]
    assert (l["max_passages"], l["passage_words"], l["k"]) == (6, 20, 4), l
n = 0
for line in open(sys.argv[2]):
    e = json.loads(line)
    blocks = e["prompt"].split("Wikipedia Title: ")[1:]
    assert 1 <= len(blocks) <= 6, len(blocks)
    for b in blocks:
        text = b.split("\n")[1]
        assert len(text.split()) <= 20, text
    n += 1
assert n > 0
PY
# loop flags that disagree with what the traces record are refused, naming the file
if "$steper" examples --traces "$tr" --out "$out-loop/x.jsonl" --max-passages 15 2> "$out.err"; then fail "disagreeing loop flags accepted"; fi
grep -q "$tr" "$out.err" || fail "unclear error for disagreeing loop flags: $(cat "$out.err")"
# teach --framework self-ask, then examples with no flags: Self-Ask prompts and pair targets
sa=$out-loop/self-ask.jsonl
"$steper" teach --data "$out/world/train.json" --index "$out/world-index" --teacher gold --limit 30 \
    --framework self-ask --out "$sa" 2>> "$out-loop.log" || { tail -5 "$out-loop.log"; fail "teach --framework self-ask"; }
"$steper" examples --traces "$sa" --out "$out-loop/self-ask-examples.jsonl" 2>> "$out-loop.log" || fail "Self-Ask examples"
python3 - "$sa" "$out-loop/self-ask-examples.jsonl" <<'PY'
import json, sys
kept = 0
for line in open(sys.argv[1]):
    t = json.loads(line)
    assert t["loop"]["framework"] == "self-ask", t["loop"]
    kept += t["kept"]
n = 0
for line in open(sys.argv[2]):
    e = json.loads(line)
    assert e["prompt"].endswith("\nAre follow up questions needed here: Yes.\n"), e["prompt"][-80:]
    assert e["target"].startswith("Follow up: ") and "\nIntermediate answer: " in e["target"], e["target"]
    if e["task"] == "agg":
        assert "\nSo the final answer is: " in e["target"], e["target"]
    n += 1
assert kept > 0 and n >= 2 * kept, (kept, n)
PY
echo "demo_quick: ok"

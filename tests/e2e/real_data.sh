#!/usr/bin/env bash
# The real thing, small: official-format HotpotQA (distractor), 2WikiMultiHopQA and MuSiQue files (each with
# a defective record) -> the corpus of their contexts -> index -> gold teacher traces, and a small student
# behind `steper serve` as the OpenAI teacher -> train (full and LoRA, tiny budgets) -> eval of the student
# and of the served model by URL -> export-gguf -> serve. Also the shipped base with a context of 256 tokens
# on ten passages of 100 words a question: the loop fits its prompts and goes on.
# Usage: real_data.sh STEPER WORK_DIR SOURCE_DIR
set -euo pipefail
steper=$1
work=$2
src=$3
fixtures=$src/tests/fixtures/e2e
base_model=$src/models/base-tiny
rm -rf "$work" && mkdir -p "$work"
# the serve tests' server helpers (start_server, stop_server, fail): they serve $work/model over $work/index,
# links set here to the folder being served
. "$src/tests/serve/fixture.sh"
serve() {  # serve MODEL_DIR: sets $base
  ln -sfn "$1" "$work/model"
  start_server
}

# 1. each data set: its contexts as a corpus and index; the defective record named and skipped; the gold
# reader answers every other question in the distractor setting
declare -A questions=([hotpotqa_dev_distractor.json]=4 [2wikimultihopqa_dev.json]=3 [musique_ans_v1.0_dev.jsonl]=3)
for f in "${!questions[@]}"; do
  n=${questions[$f]}
  "$steper" index --data "$fixtures/$f" --index "$work/$f.index" 2> "$work/$f.index.log" || fail "index --data $f"
  grep -q "1 of $((n + 1)) records defective, skipped" "$work/$f.index.log" || fail "$f: the defective record is not counted"
  "$steper" eval --model gold --data "$fixtures/$f" --index "$work/$f.index" -k 4 --out "$work/$f.gold" \
      > "$work/$f.gold.log" 2>&1 || fail "eval --model gold on $f"
  python3 - "$work/$f.gold/predictions.jsonl" "$n" <<'PY' || fail "$f: the gold reader"
import json, sys
p = [json.loads(l) for l in open(sys.argv[1])]
assert len(p) == int(sys.argv[2]), len(p)
assert all(t["correct"] for t in p), [(t["id"], t["end"], t.get("end_detail")) for t in p]
PY
done
hotpot=$fixtures/hotpotqa_dev_distractor.json
index=$work/hotpotqa_dev_distractor.json.index
ln -sfn "$index" "$work/index"
loop=(-k 4 --max-steps 4)

# 2. teacher traces: the gold teacher, and the small student served as an OpenAI-compatible teacher
"$steper" teach --data "$hotpot" --index "$index" --teacher gold "${loop[@]}" --out "$work/gold.jsonl" 2> "$work/teach-gold.log" ||
  fail "teach --teacher gold"
serve "$base_model"
"$steper" teach --data "$hotpot" --index "$index" --teacher openai --base-url "$base" --model model \
    --endpoint completions --fewshot none "${loop[@]}" --out "$work/served.jsonl" 2> "$work/teach-served.log" ||
  fail "teach --teacher openai against steper serve"
[ "$(wc -l < "$work/served.jsonl")" -eq 4 ] || fail "the served teacher did not finish every question"

# 3. eval of the served model by URL: the same predictions as the folder
"$steper" eval --model "$base/v1" --model-name model --endpoint completions --fewshot none --data "$hotpot" \
    --index "$index" "${loop[@]}" --out "$work/eval-url" > "$work/eval-url.log" 2>&1 || fail "eval --model URL"
stop_server
"$steper" eval --model "$base_model" --data "$hotpot" --index "$index" "${loop[@]}" --out "$work/eval-folder" \
    > "$work/eval-folder.log" 2>&1 || fail "eval --model DIR"
python3 - "$work/eval-url/predictions.jsonl" "$work/eval-folder/predictions.jsonl" <<'PY'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
assert [(t["steps"], t["answer"], t["end"]) for t in a] == [(t["steps"], t["answer"], t["end"]) for t in b]
PY

# 4. train, full and LoRA, on the gold traces (tiny budgets), eval the students
"$steper" train --model "$base_model" --traces "$work/gold.jsonl" --objective steper --train-steps 2 \
    --batch-tokens 1024 --out "$work/full" > "$work/train-full.log" 2>&1 || fail "train (full)"
"$steper" train --model "$base_model" --traces "$work/gold.jsonl" --objective steper --train-steps 2 \
    --batch-tokens 1024 --lora-rank 4 --out "$work/lora" > "$work/train-lora.log" 2>&1 || fail "train (LoRA)"
"$steper" eval --model "$work/full/model" --data "$hotpot" --index "$index" "${loop[@]}" --out "$work/eval-full" \
    > "$work/eval-full.log" 2>&1 || fail "eval of the full student"
"$steper" eval --model "$base_model" --adapter "$work/lora/model" --data "$hotpot" --index "$index" "${loop[@]}" \
    --out "$work/eval-lora" > "$work/eval-lora.log" 2>&1 || fail "eval of the LoRA student"

# 5. export-gguf and serve the student: /v1/ask answers over the index
"$steper" export-gguf --model "$work/full/model" --out "$work/student.gguf" > /dev/null 2>&1 || fail "export-gguf"
[ -s "$work/student.gguf" ] || fail "no GGUF file"
serve "$work/full/model"
curl -sf "$base/v1/ask" -H 'Content-Type: application/json' \
    -d '{"question": "Where was the author of Tessaly Road born?", "k": 2, "max_steps": 2}' > "$work/ask.json" ||
  fail "/v1/ask"
python3 -c "import json,sys; t=json.load(open(sys.argv[1])); assert t['steps'], t" "$work/ask.json" || fail "/v1/ask gave no steps"
stop_server

# 6. the shipped base with a context of 256 tokens and ten passages of 100 words a question
mkdir -p "$work/base256"
cp "$base_model"/* "$work/base256/"
python3 - "$work/base256/config.json" "$work/long.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["max_position_embeddings"] = 256; json.dump(c, open(sys.argv[1], "w"))
prose = ("The river rises in the hills north of the old market town and runs south through farmland for most of "
         "its length. In the spring the water is high and fast, and the mills that once stood along its banks used "
         "that season to grind the grain stored over the winter. Most of the mills closed when the railway reached "
         "the valley, and the buildings that survive are now houses, a museum and a small school.").split()
qs = []
for i in range(3):
    ctx = [["River %d-%d" % (i, p), [" ".join(prose[(p * 7 + w) % len(prose)] for w in range(100))]] for p in range(10)]
    qs.append({"_id": "long%d" % i, "question": "Why did the mills on river %d close?" % i, "answer": "the railway",
               "supporting_facts": [[ctx[0][0], 0]], "context": ctx, "type": "bridge", "level": "hard"})
json.dump(qs, open(sys.argv[2], "w"))
PY
"$steper" index --data "$work/long.json" --index "$work/long.index" 2> /dev/null || fail "index of the long passages"
"$steper" eval --model "$work/base256" --data "$work/long.json" --index "$work/long.index" -k 10 --max-passages 15 \
    --out "$work/eval256" > "$work/eval256.log" 2>&1 || { tail -3 "$work/eval256.log"; fail "eval at a 256-token context"; }
python3 - "$work/eval256/metrics.json" "$work/eval256/predictions.jsonl" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
assert m["fitted"]["prompts"] > 0 and m["fitted"]["questions"] == 3, m["fitted"]
p = [json.loads(l) for l in open(sys.argv[2])]
assert all("fit" in t["steps"][0] for t in p), [t["steps"][0].get("fit") for t in p]
PY
grep -q "prompts of 3 questions fitted" "$work/eval256.log" || fail "eval does not say it fitted prompts"
echo "real_data: ok"

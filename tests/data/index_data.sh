#!/usr/bin/env bash
# steper index --data: the corpus of a data set's own context paragraphs (the distractor setting), for each
# official format; the same ids every run; a defective record named and skipped, --strict refusing it.
# Usage: index_data.sh STEPER WORK_DIR FIXTURES
set -euo pipefail
steper=$1
work=$2
fixtures=$3
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$work" && mkdir -p "$work"
for f in hotpot_official.json twowiki_official.json musique.jsonl; do
  "$steper" index --data "$fixtures/$f" --index "$work/$f.index" --corpus-out "$work/$f.corpus.jsonl" 2> "$work/$f.log" ||
    { cat "$work/$f.log"; fail "index --data $f"; }
  "$steper" index --data "$fixtures/$f" --index "$work/$f.again" --corpus-out "$work/$f.again.jsonl" 2>/dev/null
  cmp -s "$work/$f.corpus.jsonl" "$work/$f.again.jsonl" || fail "$f: another run gave other ids or passages"
  # one passage per distinct (title, text) of the contexts, counted here independently
  python3 - "$fixtures/$f" "$work/$f.corpus.jsonl" <<'PY'
import json, sys
path, corpus = sys.argv[1], sys.argv[2]
text = open(path).read()
records = json.loads(text) if text.lstrip().startswith("[") else [json.loads(l) for l in text.splitlines() if l.strip()]
want = []
for r in records:
    if "paragraphs" in r:
        paras = [(p["title"].strip(), p["paragraph_text"].strip()) for p in r["paragraphs"]]
    else:
        paras = [(t.strip(), " ".join(s.strip() for s in sents if s.strip())) for t, sents in r["context"]]
    for p in paras:
        if p not in want:
            want.append(p)
got = [json.loads(l) for l in open(corpus)]
assert [(g["title"], g["text"]) for g in got] == want, (got, want)
assert [g["id"] for g in got] == [str(i) for i in range(len(want))]
PY
  "$steper" search --index "$work/$f.index" -k 1 "$(python3 -c "import json,sys; print(json.loads(open(sys.argv[1]).readline())['title'])" "$work/$f.corpus.jsonl")" > /dev/null ||
    fail "$f: the index does not answer a search"
done
# a defective record: named, skipped, the rest indexed; --strict refuses the file
python3 - "$fixtures/hotpot_official.json" "$work/defective.json" <<'PY'
import json, sys
records = json.load(open(sys.argv[1]))
bad = dict(records[0], _id="defective1", supporting_facts=[[records[0]["context"][0][0], 99]])
json.dump(records + [bad], open(sys.argv[2], "w"))
PY
"$steper" index --data "$work/defective.json" --index "$work/defective.index" 2> "$work/defective.log" ||
  { cat "$work/defective.log"; fail "a defective record stopped the index"; }
grep -q "1 of 3 records defective, skipped" "$work/defective.log" || { cat "$work/defective.log"; fail "no count"; }
grep -q "question defective1 field supporting_facts\[0\]" "$work/defective.log" || fail "the record is not named"
if "$steper" index --data "$work/defective.json" --index "$work/strict.index" --strict 2> "$work/strict.log"; then
  fail "--strict took a defective file"
fi
grep -q "supporting_facts\[0\]" "$work/strict.log" || fail "--strict does not name the field"
[ "$(wc -l < "$work/strict.log")" -eq 1 ] || fail "--strict's refusal is not one line"
echo "index_data: ok"

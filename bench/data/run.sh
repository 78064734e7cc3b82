#!/usr/bin/env bash
# Reading a HotpotQA-train-sized question file: 90,447 questions of 10 context paragraphs (about 540 MB of
# JSON, generated here with random words; the official train file's size and shape), timed with the peak
# memory. Usage: bench/data/run.sh BUILD_DIR [QUESTIONS]
set -euo pipefail
build=${1:-build}
n=${2:-90447}
file=${TMPDIR:-/tmp}/steper_bench_hotpot_train.json
python3 - "$file" "$n" <<'PY'
import json, random, sys
path, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(7)
vocab = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9))) for _ in range(50000)]
def sentence(words):
    return " ".join(rng.choice(vocab) for _ in range(words)).capitalize() + "."
with open(path, "w") as out:
    out.write("[")
    for i in range(n):
        context = [[" ".join(rng.choice(vocab) for _ in range(2)).title(),
                    [sentence(rng.randint(18, 30)) for _ in range(rng.randint(3, 5))]] for _ in range(10)]
        rec = {"_id": "%024x" % rng.getrandbits(96), "question": sentence(16)[:-1] + "?", "answer": rng.choice(vocab),
               "type": "bridge", "level": "hard",
               "supporting_facts": [[context[0][0], 0], [context[1][0], 1]], "context": context}
        out.write(("," if i else "") + json.dumps(rec))
    out.write("]")
PY
echo "$(du -m "$file" | cut -f1) MB, $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
"$build/bench/data/bench_read_questions" "$file"
rm -f "$file"

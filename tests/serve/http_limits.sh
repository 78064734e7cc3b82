#!/usr/bin/env bash
# steper serve's refusals over real HTTP (curl): a bearer token when --api-key-env is given, the body,
# prompt and max_tokens limits, unknown routes, a full queue (503 with Retry-After), and SIGTERM
# finishing a streamed request in flight before the server exits.
# Usage: http_limits.sh STEPER WORK_DIR
steper=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/fixture.sh"
make_fixture

# status METHOD PATH [BODY] [CURL ARGS...]: the HTTP status; the body goes to $work/body
status() {
  local method=$1 path=$2 body=${3:-}
  shift 3 || shift $#
  curl -s -o "$work/body" -w '%{http_code}' -X "$method" "$base$path" -H 'Content-Type: application/json' \
       ${body:+--data-binary "$body"} "$@"
}
expect() {  # expect CODE TEXT METHOD PATH [BODY] [CURL ARGS...]: the status, and TEXT in the body
  local code=$1 text=$2
  shift 2
  local got
  got=$(status "$@")
  [ "$got" = "$code" ] || fail "$2 $3: expected HTTP $code, got $got: $(head -c 300 "$work/body")"
  grep -qF -- "$text" "$work/body" || fail "$2 $3: the answer lacks \"$text\": $(head -c 300 "$work/body")"
}

export STEPER_TEST_KEY=sesame
start_server --api-key-env STEPER_TEST_KEY --max-body-bytes 4096 --max-prompt-tokens 64 --max-tokens 1024 \
             --max-batch 1 --max-queue 0
auth=(-H "Authorization: Bearer sesame")
expect 401 "bearer token" POST /v1/completions '{"prompt":"a","max_tokens":2}'
expect 401 "bearer token" POST /v1/completions '{"prompt":"a","max_tokens":2}' -H "Authorization: Bearer wrong"
expect 200 '"ok"' GET /health ''  # health and the page need no key
expect 200 '<input id="question"' GET / ''
expect 200 '"text_completion"' POST /v1/completions '{"prompt":"a","max_tokens":2,"temperature":0}' "${auth[@]}"
expect 400 '\"max_tokens\"' POST /v1/completions '{"prompt":"a","max_tokens":1025}' "${auth[@]}"
expect 400 '\"temperature\"' POST /v1/chat/completions '{"messages":[{"role":"user","content":"a"}],"temperature":"hot"}' "${auth[@]}"
expect 400 'malformed JSON' POST /v1/chat/completions '{"messages": [' "${auth[@]}"
long=$(printf 'word %.0s' $(seq 1 200))
expect 400 'more than the 64' POST /v1/completions "{\"prompt\":\"$long\",\"max_tokens\":2}" "${auth[@]}"
big=$(head -c 5000 /dev/zero | tr '\0' 'a')
expect 413 'larger than' POST /v1/completions "{\"prompt\":\"$big\"}" "${auth[@]}"
expect 404 'no such route' GET /v1/nothing '' "${auth[@]}"
expect 400 '\"question\"' POST /v1/ask '{"k":2}' "${auth[@]}"

# A full queue: one sequence decodes (--max-batch 1, --max-queue 0), so a second request is refused. The
# first may finish decoding before a probe arrives on a loaded machine: then the attempt is repeated.
busy=""
for _attempt in 1 2 3 4 5; do
  curl -sN "$base/v1/completions" "${auth[@]}" -H 'Content-Type: application/json' \
       -d '{"prompt":"a","max_tokens":1024,"temperature":0,"stream":true}' > "$work/stream1" &
  first=$!
  for _ in $(seq 1 100); do [ -s "$work/stream1" ] && break; sleep 0.05; done
  while kill -0 "$first" 2> /dev/null; do
    got=$(status POST /v1/completions '{"prompt":"b","max_tokens":1}' "${auth[@]}" -D "$work/headers")
    if [ "$got" = 503 ]; then busy=1; break; fi
  done
  wait $first
  [ -n "$busy" ] && break
done
[ -n "$busy" ] || fail "a request found a place while the only one was taken (5 attempts)"
grep -qi '^Retry-After: ' "$work/headers" || fail "503 without Retry-After"
tail -c 20 "$work/stream1" | grep -qF 'data: [DONE]' || fail "the first stream did not finish"

# SIGTERM while a stream is in flight: it still ends with [DONE], then the server exits 0.
stop_server
start_server --max-tokens 2048
curl -sN "$base/v1/completions" -H 'Content-Type: application/json' \
     -d '{"prompt":"a","max_tokens":2000,"temperature":0,"stream":true}' > "$work/stream2" &
client=$!
for _ in $(seq 1 100); do [ -s "$work/stream2" ] && break; sleep 0.05; done
before=$(wc -c < "$work/stream2")
kill -TERM "$server_pid"
rc=0
wait "$server_pid" || rc=$?
server_pid=""
wait $client
[ $rc = 0 ] || fail "steper serve exited with $rc after SIGTERM"
tail -c 20 "$work/stream2" | grep -qF 'data: [DONE]' || fail "the stream in flight was cut by SIGTERM: $(tail -c 200 "$work/stream2")"
[ "$(wc -c < "$work/stream2")" -gt "$before" ] || fail "the stream had finished before SIGTERM: nothing was in flight"
grep -q "SIGTERM" "$work/server.log" || fail "the server did not report SIGTERM"
# --max-tokens and --max-prompt-tokens against the context the model loaded (its config.json says 100)
cp -r "$work/model" "$work/model-100"
python3 - "$work/model-100/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["max_position_embeddings"] = 100; json.dump(c, open(sys.argv[1], "w"))
PY
rc=0
"$steper" serve --model "$work/model-100" --port 0 --max-tokens 200 2> "$work/refused.log" || rc=$?
[ $rc = 1 ] || fail "--max-tokens over the context: exit $rc, not 1"
grep -qF -- "--max-tokens 200 is more than the model's context (100 tokens)" "$work/refused.log" ||
  fail "--max-tokens over the context: $(cat "$work/refused.log")"
rc=0
"$steper" serve --model "$work/model-100" --port 0 --max-prompt-tokens 100 2> "$work/refused.log" || rc=$?
[ $rc = 1 ] || fail "--max-prompt-tokens filling the context: exit $rc, not 1"
grep -qF -- "--max-prompt-tokens 100 leaves no room in the model's context (100 tokens)" "$work/refused.log" ||
  fail "--max-prompt-tokens filling the context: $(cat "$work/refused.log")"
echo "http_limits: ok"

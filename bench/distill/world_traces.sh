# Sourced by the bench/distill scripts: world_traces STEPER WORK WORLD_FLAGS [TEACH_FLAGS...] makes a
# generated world (`steper world WORLD_FLAGS`), its index and its gold-evidence traces in WORK, once, and
# prints the traces' path.
world_traces() {
  local steper=$1 work=$2 world_flags=$3
  shift 3
  local traces=$work/traces.jsonl
  if [ ! -f "$traces" ]; then
    mkdir -p "$work"
    # shellcheck disable=SC2086
    "$steper" world --out "$work/world" $world_flags >&2
    "$steper" index --corpus "$work/world/corpus.jsonl" --index "$work/index" >&2
    "$steper" teach --data "$work/world/train.json" --index "$work/index" --teacher gold "$@" \
      --out "$traces.tmp" >&2
    mv "$traces.tmp" "$traces"
  fi
  echo "$traces"
}

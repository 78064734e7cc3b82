#!/bin/sh
# Installs npm packages at exact versions once into a cache folder (the reference tools some tests and
# benchmarks compare steper with).
# Usage: npm_install.sh DIR NAME@VERSION...
# Exit 0: installed (or already there). Exit 77 (CTest's skip): npm or the registry is unreachable; under
# CI (CI=true, as .ci/run sets) that is exit 1, a failure: a CI machine runs scripts/install-deps.sh and
# reaches the registry, so a check against another implementation never passes by being skipped there.
set -u
dir=$1
shift
packages="$*"
first=$1

installed() {
  for p in $packages; do
    name=${p%@*}
    want=${p##*@}
    [ -f "$dir/node_modules/$name/package.json" ] &&
      grep -q "\"version\": \"$want\"" "$dir/node_modules/$name/package.json" || return 1
  done
  return 0
}
installed && exit 0
# skip WHY: exit 77, or 1 under CI.
skip() {
  if [ "${CI:-}" = true ]; then
    echo "FAIL (CI=true): $1" >&2
    exit 1
  fi
  echo "SKIP: $1" >&2
  exit 77
}
if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
  skip "node/npm not installed (scripts/install-deps.sh installs them)"
fi
if ! npm view "$first" version >/dev/null 2>&1; then
  skip "npm registry unreachable (npm view $first failed)"
fi
mkdir -p "$dir"
# A lock so that two test runs do not install into the same folder at once.
lock="$dir/.install.lock"
if ! mkdir "$lock" 2>/dev/null; then
  echo "waiting for another install in $dir" >&2
  while [ -d "$lock" ]; do sleep 2; done
  installed && exit 0
  mkdir "$lock" || exit 1
fi
trap 'rmdir "$lock" 2>/dev/null' EXIT
[ -f "$dir/package.json" ] || echo '{"name":"steper-reference-tools","private":true}' > "$dir/package.json"
echo "installing $packages into $dir (once)" >&2
if ! (cd "$dir" && npm install --no-audit --no-fund --save-exact $packages >&2); then
  echo "npm install $packages failed" >&2
  exit 1
fi
exit 0

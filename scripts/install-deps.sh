#!/usr/bin/env bash
# Installs the Debian 12 packages steper needs; does nothing when they are all present.
# xapian-tools brings xapian-tcpsrv, which serves index shards remotely (the retrieval tests use it);
# curl and chromium are the HTTP client and the headless browser of the serve tests.
# Usage: scripts/install-deps.sh [--bench]   (--bench adds python3-torch for the side-by-side benchmarks)
set -euo pipefail
packages=(build-essential cmake ninja-build pkg-config
  libtorch-dev libgloo-dev libopenblas-dev libxapian-dev xapian-tools nlohmann-json3-dev libcli11-dev
  libcpp-httplib-dev libssl-dev libspdlog-dev libfmt-dev libutf8proc-dev
  libgtest-dev libgmock-dev libbenchmark-dev libsqlite3-dev python3 nodejs npm curl chromium)
if [ "${1:-}" = "--bench" ]; then packages+=(python3-torch sqlite3); fi
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    # node and npm may come from elsewhere than Debian; accept them when on PATH
    case "$p" in nodejs) command -v node >/dev/null && continue ;; npm) command -v npm >/dev/null && continue ;; esac
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "installing: ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

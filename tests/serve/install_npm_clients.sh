#!/bin/sh
# Installs the official OpenAI client for Node and puppeteer-core (drives Debian's chromium) once into a
# cache folder (tests/npm_install.sh).
# Usage: install_npm_clients.sh [DIR]   (default: <repo>/.cache/npm-serve)
# Exit 0: installed (or already there). Exit 77: npm or the registry is unreachable.
here=$(cd "$(dirname "$0")" && pwd)
PUPPETEER_SKIP_DOWNLOAD=1 exec "$here/../npm_install.sh" "${1:-$here/../../.cache/npm-serve}" openai@4.104.0 puppeteer-core@23.11.1

#!/usr/bin/env bash
# Lighthouse (Google's page audit) from the npm registry into bench/vendor/lighthouse/, for
# `make bench` (bench/lighthouse.py runs it with Debian's Chromium). Bench-only: never served.
set -euo pipefail
cd "$(dirname "$0")/.."
version=12.2.3
prefix=bench/vendor/lighthouse
cli="$prefix/node_modules/lighthouse/cli/index.js"
if [ -f "$cli" ] && grep -q "\"version\": \"$version\"" "$prefix/node_modules/lighthouse/package.json"; then
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "vendor-lighthouse: npm not found; make bench cannot run Lighthouse" >&2
    exit 1
fi
mkdir -p "$prefix"
npm install --silent --no-audit --no-fund --prefix "$prefix" "lighthouse@$version" >/dev/null
echo "vendor-lighthouse: $cli (lighthouse $version)"

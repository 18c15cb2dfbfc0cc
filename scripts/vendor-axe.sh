#!/usr/bin/env bash
# axe-core (Deque's accessibility rules engine) from the npm registry into tests/vendor/,
# for the accessibility audit in tests/test_accessibility.py. Test-only: never served.
set -euo pipefail
cd "$(dirname "$0")/.."
version=4.14.1
target=tests/vendor/axe.min.js
if [ -f "$target" ] && head -c 300 "$target" | grep -q "$version"; then
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "vendor-axe: npm not found; the accessibility audit will fail in CI" >&2
    exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "axe-core@$version" >/dev/null && tar xzf "axe-core-$version.tgz")
mkdir -p tests/vendor
cp "$work/package/axe.min.js" "$target"
echo "vendor-axe: $target (axe-core $version)"

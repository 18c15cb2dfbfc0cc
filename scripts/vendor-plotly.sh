#!/usr/bin/env bash
# Plotly's cartesian bundle (1.5 MB, every trace the page draws) into assets/vendor/, from the
# npm registry. dcc.Graph then uses it instead of loading the full 4.8 MB plotly.js: the first
# race is drawn ~0.6 s sooner (bench/results.md). Without npm the page still works, with the
# full bundle. The version matches the plotly.js that plotly.py ships.
set -euo pipefail
cd "$(dirname "$0")/.."
version=4.1.1
target=assets/vendor/plotly-cartesian.min.js
if [ -f "$target" ] && head -c 200 "$target" | grep -q "v$version"; then
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "vendor-plotly: npm not found; the page will load the full plotly.js" >&2
    exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "plotly.js-cartesian-dist-min@$version" >/dev/null &&
    tar xzf "plotly.js-cartesian-dist-min-$version.tgz")
mkdir -p assets/vendor
cp "$work/package/plotly-cartesian.min.js" "$target"
echo "vendor-plotly: $target (plotly.js $version, cartesian)"

#!/usr/bin/env bash
# Plotly's partial bundles into assets/vendor/, from the npm registry (versions match the
# plotly.js that plotly.py ships):
# - cartesian (1.5 MB): every trace the page draws. dcc.Graph uses it instead of the full
#   4.8 MB plotly.js, and the first race is drawn ~0.6 s sooner (bench/results.md). Without
#   npm the page still works, with the full bundle.
# - gl3d (1.75 MB): surface and scatter3d for the 3-D view, loaded only when that view
#   opens (app.py keeps it out of the page's scripts). Without it the 3-D view says so.
set -euo pipefail
cd "$(dirname "$0")/.."
version=4.1.1
if ! command -v npm >/dev/null 2>&1; then
    echo "vendor-plotly: npm not found; full plotly.js for the map, no 3-D view" >&2
    exit 0
fi
mkdir -p assets/vendor
for bundle in cartesian gl3d; do
    target="assets/vendor/plotly-$bundle.min.js"
    if [ -f "$target" ] && head -c 200 "$target" | grep -q "v$version"; then
        continue
    fi
    work=$(mktemp -d)
    (cd "$work" && npm pack --silent "plotly.js-$bundle-dist-min@$version" >/dev/null &&
        tar xzf "plotly.js-$bundle-dist-min-$version.tgz")
    cp "$work/package/plotly-$bundle.min.js" "$target"
    rm -rf "$work"
    echo "vendor-plotly: $target (plotly.js $version, $bundle)"
done

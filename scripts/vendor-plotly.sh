#!/usr/bin/env bash
# Vendors plotly.js into the library so that building Shrink needs no npm.
#
#   bash scripts/vendor-plotly.sh          npm ci, then copy plotly.min.js, its LICENSE and its version
#                                          into lib/Shrink/Charts/plotly/ (commit the result)
#   bash scripts/vendor-plotly.sh --check  verify that the committed copy is byte-identical to the npm
#                                          package in node_modules (run `npm ci` first; CI does)
#
# The version is pinned exactly in package.json and package-lock.json; to upgrade, change the pin,
# run `npm install --package-lock-only`, then this script, and commit all four files.
set -euo pipefail
cd "$(dirname "$0")/.."

pkg=node_modules/plotly.js-dist-min
dest=lib/Shrink/Charts/plotly

package_version() { node -p "require('./$pkg/package.json').version"; }

case "${1:-}" in
  "")
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
    mkdir -p "$dest"
    cp "$pkg/plotly.min.js" "$dest/plotly.min.js"
    cp "$pkg/LICENSE" "$dest/LICENSE"
    package_version > "$dest/VERSION"
    echo "vendor-plotly: copied plotly.js-dist-min $(cat "$dest/VERSION") into $dest"
    ;;
  --check)
    [ -f "$pkg/plotly.min.js" ] || { echo "vendor-plotly: $pkg is missing; run 'npm ci' first" >&2; exit 1; }
    status=0
    for f in plotly.min.js LICENSE; do
      if ! cmp -s "$pkg/$f" "$dest/$f"; then
        echo "vendor-plotly: $dest/$f differs from $pkg/$f; run 'bash scripts/vendor-plotly.sh' and commit" >&2
        status=1
      fi
    done
    want=$(package_version)
    have=$(cat "$dest/VERSION" 2>/dev/null || echo "(missing)")
    if [ "$want" != "$have" ]; then
      echo "vendor-plotly: $dest/VERSION says $have but the npm package is $want" >&2
      status=1
    fi
    [ "$status" -eq 0 ] && echo "vendor-plotly: $dest matches plotly.js-dist-min $want"
    exit "$status"
    ;;
  *)
    echo "usage: bash scripts/vendor-plotly.sh [--check]" >&2
    exit 2
    ;;
esac

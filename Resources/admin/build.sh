#!/usr/bin/env bash
# Builds the admin console into the folder given as the one argument (scripts/build-web passes
# Resources/web/admin): generates src/generated/api-types.ts from the OpenAPI parts, type-checks
# with tsc, bundles and minifies with esbuild, names the script and stylesheet by content hash
# (served immutable) and writes index.html pointing at them.
# Deterministic: the same sources always give byte-identical output (scripts/build-web --check).
set -euo pipefail
cd "$(dirname "$0")"
out=${1:?usage: build.sh OUTPUT_DIR}

# Visitor-supplied text must only ever reach the page as text nodes.
if grep -rnE 'innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function' src; then
    echo "build.sh: HTML-string sinks are not allowed in the console sources (render text with textContent)" >&2
    exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Payload types and enumeration values come from the OpenAPI parts, assembled afresh (not from
# the committed Resources/web/api/openapi.json, which may be the stale thing being checked).
python3 ../api/assemble.py ../api/base.json ../api/parts "$tmp/openapi.json"
python3 gen-types.py "$tmp/openapi.json" "$tmp/api-types.ts"
generated=src/generated/api-types.ts
if ! cmp -s "$tmp/api-types.ts" "$generated"; then
    if [[ "${BUILD_WEB_CHECK:-0}" == 1 ]]; then
        echo "build.sh: $generated is stale; run scripts/build-web and commit the result" >&2
        exit 1
    fi
    mkdir -p "$(dirname "$generated")"
    cp "$tmp/api-types.ts" "$generated"
fi

# Chart.js comes from Debian (libjs-chart.js), bundled in: no CDN, no npm. Its ES module build is
# tree-shaken, so only the controllers charts.ts registers are carried.
CHARTJS=/usr/share/javascript/chart.js/chart.esm.js
[[ -f $CHARTJS ]] || { echo "build.sh: $CHARTJS is missing (apt install libjs-chart.js)" >&2; exit 1; }

tsc -p tsconfig.json
esbuild src/main.ts --bundle --alias:chart.js=$CHARTJS --minify --format=iife --target=es2020 --charset=utf8 --legal-comments=none \
    --log-level=warning --outfile="$tmp/console.js"
esbuild styles/console.css --bundle --minify --charset=utf8 --log-level=warning --outfile="$tmp/console.css"
# The API reference page (/api/): its own small bundle, so the console does not carry it.
esbuild src/apidocs/main.ts --bundle --minify --format=iife --target=es2020 --charset=utf8 --legal-comments=none \
    --log-level=warning --outfile="$tmp/apidocs.js"
esbuild styles/apidocs.css --bundle --minify --charset=utf8 --log-level=warning --outfile="$tmp/apidocs.css"

hash() { sha256sum "$1" | cut -c1-10; }
js="console.$(hash "$tmp/console.js").js"
css="console.$(hash "$tmp/console.css").css"
docs_js="apidocs.$(hash "$tmp/apidocs.js").js"
docs_css="apidocs.$(hash "$tmp/apidocs.css").css"
mkdir -p "$out"
rm -f "$out"/console.*.js "$out"/console.*.css "$out"/apidocs.*.js "$out"/apidocs.*.css  # earlier builds' hashed files
cp "$tmp/console.js" "$out/$js"
cp "$tmp/console.css" "$out/$css"
cp "$tmp/apidocs.js" "$out/$docs_js"
cp "$tmp/apidocs.css" "$out/$docs_css"
sed -e "s|@JS@|/admin/$js|" -e "s|@CSS@|/admin/$css|" index.html >"$out/index.html"
sed -e "s|@JS@|/admin/$docs_js|" -e "s|@CSS@|/admin/$docs_css|" api.html >"$out/api.html"

size() { gzip -9n <"$1" | wc -c; }
echo "admin console: $js $(wc -c <"$out/$js") bytes, $(size "$out/$js") gzipped; $css $(wc -c <"$out/$css") bytes, $(size "$out/$css") gzipped; total gzipped $(( $(size "$out/$js") + $(size "$out/$css") )) bytes"

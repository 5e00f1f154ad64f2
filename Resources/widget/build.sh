#!/usr/bin/env bash
# Builds the visitor widget into the folder given as the one argument (scripts/build-web passes
# Resources/web/widget): type-checks with tsc, bundles each module with esbuild as an ES module
# named <name>.<sha256 prefix>.js (served immutable), then bundles the loader widget.js with the
# module table (file names and consent categories) compiled in. Deterministic: the same sources
# give the same bytes. Prints gzipped sizes with their limits and fails when the loader, the chat or the
# consent module is over budget.
set -euo pipefail
out=${1:?usage: build.sh OUTPUT_DIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$(dirname "$0")"

MODULES=(chat forms ticket consent)
LOADER_BUDGET=2304     # bytes gzipped (2 KB + 256 B for the consent boot: Consent Mode default, stored choice, re-prompt check)
CHAT_BUDGET=15360
CONSENT_BUDGET=6144

tsc -p tsconfig.json
# The declarations shipped to site developers must type-check the way a site uses them.
tsc --noEmit --strict --jsx preserve --target ES2020 --lib ES2020,DOM test/usage.tsx

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
common=(--bundle --minify --target=es2020 --charset=utf8 --legal-comments=none --log-level=warning)

gz() { gzip -9n -c "$1" | wc -c; }

manifest="{"
for m in "${MODULES[@]}"; do
    consent=$(sed -n 's/^export const consent: ConsentCategory = "\([a-z]*\)";$/\1/p' "src/$m.ts")
    [[ -n "$consent" ]] || { echo "build.sh: src/$m.ts must declare: export const consent: ConsentCategory = \"…\";" >&2; exit 1; }
    esbuild "src/$m.ts" "${common[@]}" --format=esm --outfile="$tmp/$m.js"
    hash=$(sha256sum "$tmp/$m.js" | cut -c1-10)
    cp "$tmp/$m.js" "$out/$m.$hash.js"
    manifest+="\"$m\":[\"$m.$hash.js\",\"$consent\"],"
done
manifest="${manifest%,}}"

esbuild src/loader.ts "${common[@]}" --format=iife --define:MANIFEST="$manifest" --outfile="$out/widget.js"
cp frontdesk.d.ts "$out/frontdesk.d.ts"
cp static/*.css "$out/"

status=0
printf '%-28s %8s %8s %8s\n' file bytes gzipped limit
for f in "$out"/widget.js "$out"/*.*.js; do
    raw=$(wc -c <"$f")
    z=$(gz "$f")
    case $(basename "$f") in widget.js) limit=$LOADER_BUDGET ;; chat.*) limit=$CHAT_BUDGET ;; consent.*) limit=$CONSENT_BUDGET ;; *) limit=- ;; esac
    printf '%-28s %8d %8d %8s\n' "$(basename "$f")" "$raw" "$z" "$limit"
    case $(basename "$f") in
        widget.js) ((z <= LOADER_BUDGET)) || { echo "build.sh: loader is $z bytes gzipped, over $LOADER_BUDGET" >&2; status=1; } ;;
        chat.*) ((z <= CHAT_BUDGET)) || { echo "build.sh: chat module is $z bytes gzipped, over $CHAT_BUDGET" >&2; status=1; } ;;
        consent.*) ((z <= CONSENT_BUDGET)) || { echo "build.sh: consent module is $z bytes gzipped, over $CONSENT_BUDGET" >&2; status=1; } ;;
    esac
done
exit $status

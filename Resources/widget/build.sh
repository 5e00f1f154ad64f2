#!/usr/bin/env bash
# Builds the visitor widget into the folder given as the one argument (scripts/build-web passes
# Resources/web/widget): type-checks with tsc, bundles each module with esbuild as an ES module
# named <name>.<sha256 prefix>.js (served immutable), then bundles the loader widget.js with the
# module table (file names, consent categories and the elements each module mounts) compiled in.
# Deterministic: the same sources give the same bytes. Prints gzipped sizes and fails when the
# loader or a module is over its budget.
#
# A widget module is src/<name>.ts, which declares
#     export const consent: ConsentCategory = "…";            (the category that gates it)
#     export const elements = ["frontdesk-…", …];             (optional: custom elements it mounts)
# and one line in MODULES below: name and gzipped budget in bytes. The loader defines each listed
# element and imports the module when the element is first on the page.
set -euo pipefail
out=${1:?usage: build.sh OUTPUT_DIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$(dirname "$0")"

MODULES=(
    chat:15360
    forms:10240
    ticket:6144
    consent:6144
    track:1536
    faq:6144
    reviews:6144
    engage:5120
    privacy:6144
)
LOADER_BUDGET=2560     # bytes gzipped: 2 KB for the loader, plus the consent boot (Consent Mode default before any tag, the stored choice, the re-prompt check) and the tracker's idle start (DNT/GPC, the owner's ignore flag)

tsc -p tsconfig.json
# The declarations shipped to site developers must type-check the way a site uses them.
tsc --noEmit --strict --jsx preserve --target ES2020 --lib ES2020,DOM test/usage.tsx

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
common=(--bundle --minify --target=es2020 --charset=utf8 --legal-comments=none --log-level=warning)

gz() { gzip -9n -c "$1" | wc -c; }

manifest="{"
declare -A budget
for entry in "${MODULES[@]}"; do
    m=${entry%%:*}
    budget[$m]=${entry##*:}
    consent=$(sed -n 's/^export const consent: ConsentCategory = "\([a-z]*\)";$/\1/p' "src/$m.ts")
    [[ -n "$consent" ]] || { echo "build.sh: src/$m.ts must declare: export const consent: ConsentCategory = \"…\";" >&2; exit 1; }
    elements=$(sed -n 's/^export const elements = \(\[[^]]*\]\);$/\1/p' "src/$m.ts")
    esbuild "src/$m.ts" "${common[@]}" --format=esm --outfile="$tmp/$m.js"
    hash=$(sha256sum "$tmp/$m.js" | cut -c1-10)
    cp "$tmp/$m.js" "$out/$m.$hash.js"
    manifest+="\"$m\":[\"$m.$hash.js\",\"$consent\",${elements:-[]}],"
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
    m=$(basename "$f"); m=${m%%.*}
    printf '%-28s %8d %8d %8d\n' "$(basename "$f")" "$raw" "$z" "${budget[$m]:-$LOADER_BUDGET}"
    case $(basename "$f") in
        widget.js) ((z <= LOADER_BUDGET)) || { echo "build.sh: loader is $z bytes gzipped, over $LOADER_BUDGET" >&2; status=1; } ;;
        *.*.js)
            ((z <= budget[$m])) || { echo "build.sh: $m module is $z bytes gzipped, over its ${budget[$m]}" >&2; status=1; } ;;
    esac
done
exit $status

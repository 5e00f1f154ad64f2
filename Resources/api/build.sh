#!/usr/bin/env bash
# Assembles the API documents into the folder given as the one argument (scripts/build-web passes
# Resources/web/api): openapi.json from base.json and every parts/<feature>.json (assemble.py
# refuses a path+method or a schema defined twice), plus the chat protocol and its AsyncAPI
# document, which are written by hand here. Deterministic: the same sources always give
# byte-identical output (scripts/build-web --check).
set -euo pipefail
cd "$(dirname "$0")"
out=${1:?usage: build.sh OUTPUT_DIR}
mkdir -p "$out"
python3 assemble.py base.json parts "$out/openapi.json"
cp chat-protocol.md asyncapi.json "$out/"
echo "api: openapi.json from base.json and $(ls parts/*.json | wc -l) parts: $(cd parts && ls *.json | sed 's/\.json$//' | paste -sd' ')"

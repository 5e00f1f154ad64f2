#!/usr/bin/env bash
# FAQ search and the reviews summary through the whole HTTP stack, with wrk:
#   1. GET /api/v1/faq/search?q=… over 10,000 published entries (FTS5 word index, and the trigram
#      index for the typo queries), queries cycling through a list of real and misspelt phrases;
#      p50/p95/p99 latency. Goal: p95 < 5 ms.
#   2. GET /api/v1/reviews/summary from the in-process cache, against nginx `return 204` under the
#      same load in the same run. Goal: ≥ 0.5× nginx.
#
#   Benchmarks/faq.sh                          # 10 s per target, wrk -t1 -c16 (search) / -c64 (summary)
#   DURATION=30s Benchmarks/faq.sh
#   CONFIGURATION=debug DURATION=3s Benchmarks/faq.sh   # check the script itself (figures mean nothing)
#
# The 10,000 entries are written straight into the database file before the measured run (the
# triggers fill both search indexes the same way the store's writes do). Loopback only; every
# server it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONFIGURATION=${CONFIGURATION:-release}
ENTRIES=${ENTRIES:-10000}
FD_PORT=18291 NGINX_PORT=18293
WORK=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

source Benchmarks/common.sh
need_packages wrk nginx-light sqlite3

echo "building the $CONFIGURATION binary…"
swift_build -c "$CONFIGURATION" --product frontdesk >/dev/null
BIN=$(swift_build -c "$CONFIGURATION" --show-bin-path)

# Migrate an empty data directory, then fill it while no server runs.
"$BIN/frontdesk" migrate --data-dir "$WORK/data" >/dev/null
python3 - "$ENTRIES" >"$WORK/seed.sql" <<'PY'
import random, sys
random.seed(20261202)
n = int(sys.argv[1])
topics = ["shipping", "delivery", "refund", "return", "payment", "invoice", "password", "account", "order", "parcel", "voucher", "discount",
          "warranty", "repair", "size", "exchange", "newsletter", "privacy", "cookie", "customs", "subscription", "license", "download", "upgrade"]
things = ["mug", "sweater", "bread", "cake", "laptop", "phone", "plan", "ticket", "course", "bike", "lamp", "chair", "sofa", "book", "camera"]
verbs = ["change", "cancel", "track", "pay for", "return", "reset", "update", "delete", "order", "find", "use", "extend", "transfer", "renew"]
words = "please the our your within days business working hours support team email link page button settings profile checkout basket address".split()
def esc(s): return s.replace("'", "''")
print("BEGIN;")
for i in range(n):
    t, th, v = random.choice(topics), random.choice(things), random.choice(verbs)
    q = f"How do I {v} the {t} of my {th} number {i}?"
    a = " ".join(random.choice(words + topics + things) for _ in range(40))
    print(f"INSERT INTO faq_entries (locale, slug, question, answer_markdown, answer_html, answer_text, status, position, created_at, updated_at, published_at) "
          f"VALUES ('en', 'bench-{i}', '{esc(q)}', '{esc(a)}', '<p>{esc(a)}</p>', '{esc(a)}', 'published', {i}, '2026-12-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z');")
for i in range(200):
    print(f"INSERT INTO reviews (subject, rating, content, name, status, content_hash, created_at, approved_at) VALUES ('', {random.randint(1, 5)}, 'Review {i}', 'Visitor {i}', 'approved', 'h{i}', '2026-12-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z');")
print("COMMIT;")
PY
sqlite3 "$WORK/data/frontdesk.sqlite" <"$WORK/seed.sql"

"$BIN/frontdesk" serve --data-dir "$WORK/data" --port $FD_PORT --rate-limit off >"$WORK/fd.log" 2>&1 &
pids+=($!)
start_nginx $NGINX_PORT
wait_for "http://127.0.0.1:$FD_PORT/healthz"

# Search queries: words, prefixes, several words, and misspellings (those take the trigram path).
cat >"$WORK/search.lua" <<'LUA'
local queries = {"refund", "shipping mug", "reset password", "track parcel", "cancel subscription", "invoice laptop",
                 "warr", "deliv", "voucher cake", "customs", "pasword reset", "refnd", "shiping", "newsleter",
                 "how do i change the size of my sweater", "exchange bike", "privacy cookie", "upgrade license"}
local i = 0
request = function()
  i = i + 1
  local q = queries[(i % #queries) + 1]:gsub(" ", "%%20")
  return wrk.format("GET", "/api/v1/faq/search?q=" .. q)
end
done = function(summary, latency, requests)
  io.write(string.format("p95_us %d\n", latency:percentile(95)))
end
LUA

pct() { awk -v p="$2" '$1 == p {print $2}' "$WORK/$1.wrk"; }
rps() { awk '/Requests\/sec/ {print $2}' "$WORK/$1.wrk"; }
non2xx() { awk '/Non-2xx/ {print $5}' "$WORK/$1.wrk"; }

wrk -t1 -c8 -d2s -s "$WORK/search.lua" "http://127.0.0.1:$FD_PORT" >/dev/null 2>&1
wrk -t1 -c16 -d"$DURATION" --latency -s "$WORK/search.lua" "http://127.0.0.1:$FD_PORT" >"$WORK/search.wrk" 2>&1
hits=$(curl -s "http://127.0.0.1:$FD_PORT/api/v1/faq/search?q=pasword%20reset" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["results"]))')

wrk -t1 -c16 -d2s "http://127.0.0.1:$FD_PORT/api/v1/reviews/summary" >/dev/null 2>&1
wrk -t1 -c16 -d2s "http://127.0.0.1:$NGINX_PORT/" >/dev/null 2>&1
wrk -t1 -c64 -d"$DURATION" --latency "http://127.0.0.1:$FD_PORT/api/v1/reviews/summary" >"$WORK/summary.wrk" 2>&1
wrk -t1 -c64 -d"$DURATION" --latency "http://127.0.0.1:$NGINX_PORT/" >"$WORK/nginx.wrk" 2>&1

p95=$(awk '/^p95_us/ {print $2}' "$WORK/search.wrk")
printf '\n%s published FAQ entries, %s cores, loopback, wrk -t1, %s per target\n' "$ENTRIES" "$(nproc)" "$DURATION"
printf '%-52s %10s %9s %9s %9s\n' "target" "req/s" "p50" "p95" "p99"
printf '%-52s %10.0f %9s %8.2fms %9s\n' "frontdesk GET /api/v1/faq/search (-c16)" "$(rps search)" "$(pct search 50%)" "$(awk -v u="$p95" 'BEGIN{print u/1000}')" "$(pct search 99%)"
printf '%-52s %10.0f %9s %9s %9s\n' "frontdesk GET /api/v1/reviews/summary, cached (-c64)" "$(rps summary)" "$(pct summary 50%)" "" "$(pct summary 99%)"
printf '%-52s %10.0f %9s %9s %9s\n' "nginx return 204 (-c64)" "$(rps nginx)" "$(pct nginx 50%)" "" "$(pct nginx 99%)"
printf 'non-2xx answers: search %s, summary %s; "pasword reset" found %s entries\n' "$(non2xx search || true)" "$(non2xx summary || true)" "$hits"
awk -v p95="$p95" -v s="$(rps summary)" -v n="$(rps nginx)" 'BEGIN {
  printf "goal: search p95 < 5 ms: %s (%.2f ms)\n", (p95 < 5000 ? "met" : "NOT met"), p95 / 1000
  printf "ratio reviews summary / nginx: %.3f (goal >= 0.5: %s)\n", s / n, (s / n >= 0.5 ? "met" : "NOT met")
}'

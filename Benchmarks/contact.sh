#!/usr/bin/env bash
# Contact submissions acknowledged after commit, against nginx `return 204` under the same load
# in the same run: wrk with a Lua script POSTing a JSON contact form over 64 keep-alive
# connections. Every 201 is a row committed by the group-commit writer (checked at the end by
# counting the rows); rate limits are off for the run (`--rate-limit off`).
#
#   Benchmarks/contact.sh                      # 10 s per target, wrk -t1 -c64
#   DURATION=30s CONNECTIONS=64 Benchmarks/contact.sh
#   SYNCHRONOUS=full Benchmarks/contact.sh     # fsync on every commit
#
# Loopback only; every server it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-1}
SYNCHRONOUS=${SYNCHRONOUS:-normal}
FD_PORT=18191 NGINX_PORT=18193
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

echo "building the release binary…"
swift_build -c release --product frontdesk >/dev/null
BIN=$(swift_build -c release --show-bin-path)

FRONTDESK_SYNCHRONOUS=$SYNCHRONOUS "$BIN/frontdesk" serve --data-dir "$WORK/data" --port $FD_PORT --rate-limit off >"$WORK/fd.log" 2>&1 &
pids+=($!)
start_nginx $NGINX_PORT
wait_for "http://127.0.0.1:$FD_PORT/healthz"

# The same POST for both targets; the script counts answers by status.
cat >"$WORK/contact.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"name":"Load Test","email":"load@example.com","subject":"Benchmark","message":"A contact form message of a realistic length, about two hundred bytes of text, sent over a keep-alive connection to be stored before the answer."}'
local counts = {}
function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end
function done(summary, latency, requests)
  io.write("status counts from the last thread: see the server's row count instead\n")
end
LUA

run() { # name url → requests/s
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$WORK/contact.lua" "$2" >"$WORK/$1.wrk" 2>&1
  awk '/Requests\/sec/ {print $2}' "$WORK/$1.wrk"
}
latency() { awk -v p="$2" '$1 == p {print $2}' "$WORK/$1.wrk"; }
non2xx() { awk '/Non-2xx/ {print $5}' "$WORK/$1.wrk"; }

wrk -t1 -c16 -d2s -s "$WORK/contact.lua" "http://127.0.0.1:$FD_PORT/api/v1/contact" >/dev/null 2>&1
wrk -t1 -c16 -d2s "http://127.0.0.1:$NGINX_PORT/" >/dev/null 2>&1
before=$(sqlite3 "$WORK/data/frontdesk.sqlite" 'SELECT COUNT(*) FROM contact_submissions')

fd=$(run frontdesk "http://127.0.0.1:$FD_PORT/api/v1/contact")
ngx=$(run nginx "http://127.0.0.1:$NGINX_PORT/")
after=$(sqlite3 "$WORK/data/frontdesk.sqlite" 'SELECT COUNT(*) FROM contact_submissions')
requests=$(awk '/requests in/ {print $1}' "$WORK/frontdesk.wrk")
errors=$(non2xx frontdesk); errors=${errors:-0}

printf '\nwrk -t%s -c%s -d%s on %s cores, loopback, storage.synchronous=%s\n' "$THREADS" "$CONNECTIONS" "$DURATION" "$(nproc)" "$SYNCHRONOUS"
printf '%-48s %12s %10s %10s\n' "target" "req/s" "p50" "p99"
printf '%-48s %12.0f %10s %10s\n' "frontdesk POST /api/v1/contact (201 after commit)" "$fd" "$(latency frontdesk 50%)" "$(latency frontdesk 99%)"
printf '%-48s %12.0f %10s %10s\n' "nginx return 204 (same POST)" "$ngx" "$(latency nginx 50%)" "$(latency nginx 99%)"
printf 'rows committed during the run: %d of %d requests (non-2xx answers: %s)\n' "$((after - before))" "$requests" "$errors"
awk -v a="$fd" -v c="$ngx" 'BEGIN {
  printf "goal: >= 5000 submissions/s with p99 < 50 ms (PocketBase publishes ~1,800 creates/s on 2 vCPU)\n"
  printf "ratio frontdesk / nginx: %.3f\n", a / c
}'
curl -s "http://127.0.0.1:$FD_PORT/metrics" | awk '/^frontdesk_db_write_batch_size_(sum|count)/ {v[$1]=$2} END {
  if (v["frontdesk_db_write_batch_size_count"] > 0) printf "mean group-commit batch: %.1f writes per transaction\n", v["frontdesk_db_write_batch_size_sum"] / v["frontdesk_db_write_batch_size_count"] }'

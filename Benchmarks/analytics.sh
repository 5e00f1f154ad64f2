#!/usr/bin/env bash
# The analytics engine against its references, measured in the same run:
#   1. beacon ingest: single page-view beacons and 10-event batches POSTed by wrk over 64
#      keep-alive connections to Frontdesk, and the same requests to nginx `return 204`;
#      events/s, p99, ratio, and the server's resident memory while ingesting;
#   2. queries: `frontdesk analytics generate` fills a fresh analytics.sqlite through the real
#      batch writer, then `frontdesk analytics query-bench` prints the dashboard's p95s from the
#      rollups beside the same figures computed over the raw tables (Umami's way), with ratios;
#   3. bytes per raw event after VACUUM.
#
#   Benchmarks/analytics.sh                          # 1,000,000 events over 12 months
#   EVENTS=10000000 DURATION=20s Benchmarks/analytics.sh
#
# Loopback only; every server it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-1}
EVENTS=${EVENTS:-1000000}
MONTHS=${MONTHS:-12}
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
need_packages wrk nginx-light

echo "building the release binary…"
swift_build -c release --product frontdesk >/dev/null
BIN=$(swift_build -c release --show-bin-path)

FRONTDESK_SITE_ORIGINS=https://www.example.com "$BIN/frontdesk" serve --data-dir "$WORK/data" --port $FD_PORT --rate-limit off --log-level warning >"$WORK/fd.log" 2>&1 &
fd_pid=$!
pids+=($fd_pid)
start_nginx $NGINX_PORT
wait_for "http://127.0.0.1:$FD_PORT/healthz"

one='{"events":[{"type":"pageview","url":"https://www.example.com/blog/post?utm_source=news","referrer":"https://www.google.com/","screen":"desktop"}]}'
ten='{"events":['$(for i in 0 1 2 3 4 5 6 7 8 9; do printf '%s{"type":"pageview","url":"https://www.example.com/p%d","screen":"mobile"}' "$([ $i -gt 0 ] && echo ,)" $i; done)']}'
lua() { # file body
  cat >"$1" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/plain;charset=UTF-8"
wrk.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0"
wrk.headers["Origin"] = "https://www.example.com"
wrk.body = '$2'
LUA
}
lua "$WORK/one.lua" "$one"
lua "$WORK/ten.lua" "$ten"

run() { # name script url → requests/s
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$2" "$3" >"$WORK/$1.wrk" 2>&1
  awk '/Requests\/sec/ {print $2}' "$WORK/$1.wrk"
}
latency() { awk '$1 == "99%" {print $2}' "$WORK/$1.wrk"; }
non2xx() { awk '/Non-2xx/ {print $4}' "$WORK/$1.wrk"; }

wrk -t1 -c16 -d2s -s "$WORK/one.lua" "http://127.0.0.1:$FD_PORT/api/v1/events" >/dev/null 2>&1
wrk -t1 -c16 -d2s -s "$WORK/one.lua" "http://127.0.0.1:$NGINX_PORT/" >/dev/null 2>&1

fd1=$(run fd1 "$WORK/one.lua" "http://127.0.0.1:$FD_PORT/api/v1/events")
rss1=$(awk '/VmRSS/ {print $2}' /proc/$fd_pid/status)
ngx1=$(run ngx1 "$WORK/one.lua" "http://127.0.0.1:$NGINX_PORT/")
fd10=$(run fd10 "$WORK/ten.lua" "http://127.0.0.1:$FD_PORT/api/v1/events")
rss10=$(awk '/VmRSS/ {print $2}' /proc/$fd_pid/status)
ngx10=$(run ngx10 "$WORK/ten.lua" "http://127.0.0.1:$NGINX_PORT/")
sleep 2
written=$(curl -s "http://127.0.0.1:$FD_PORT/metrics" | awk '/^frontdesk_analytics_events_written_total/ {print $2}')

printf '\nwrk -t%s -c%s -d%s on %s cores, loopback\n' "$THREADS" "$CONNECTIONS" "$DURATION" "$(nproc)"
printf '%-48s %12s %12s %10s %8s\n' "target" "req/s" "events/s" "p99" "non-2xx"
printf '%-48s %12.0f %12.0f %10s %8s\n' "frontdesk POST /api/v1/events, 1 page view" "$fd1" "$fd1" "$(latency fd1)" "$(non2xx fd1)"
printf '%-48s %12.0f %12s %10s\n' "nginx return 204, same request" "$ngx1" "-" "$(latency ngx1)"
printf '%-48s %12.0f %12.0f %10s %8s\n' "frontdesk POST /api/v1/events, 10 page views" "$fd10" "$(echo "$fd10 * 10" | bc -l)" "$(latency fd10)" "$(non2xx fd10)"
printf '%-48s %12.0f %12s %10s\n' "nginx return 204, same request" "$ngx10" "-" "$(latency ngx10)"
awk -v a="$fd1" -v b="$ngx1" -v c="$fd10" -v d="$ngx10" 'BEGIN {
  printf "ratio single beacons frontdesk / nginx: %.2f  (goal >= 0.3, p99 < 10 ms)\n", a / b
  printf "ratio 10-event batches frontdesk / nginx: %.2f; events/s %.0f (goal >= 150000)\n", c / d, c * 10
}'
printf 'resident memory while ingesting: %.1f MiB (single beacons), %.1f MiB (batches) (goal <= 150)\n' "$(echo "$rss1 / 1024" | bc -l)" "$(echo "$rss10 / 1024" | bc -l)"
printf 'events written by the batch writer during the run: %s\n' "${written:-?}"
kill "$fd_pid"; wait "$fd_pid" 2>/dev/null || true

echo
echo "generating $EVENTS events over $MONTHS months through the batch writer…"
"$BIN/frontdesk" analytics generate --data-dir "$WORK/bench" --events "$EVENTS" --months "$MONTHS" --vacuum
echo
"$BIN/frontdesk" analytics query-bench --data-dir "$WORK/bench" --runs 20
echo "goals: 30 days p95 < 50 ms, 12 months p95 < 150 ms, 4-step funnel over 30 days < 1 s, realtime < 10 ms; <= 60 bytes per raw event"

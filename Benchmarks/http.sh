#!/usr/bin/env bash
# HTTP throughput of Frontdesk's whole middleware stack against two references measured in the
# same run with the same wrk settings: a bare Hummingbird route (no middleware) and nginx.
#
#   Benchmarks/http.sh                 # 10 s per target, wrk -t1 -c64
#   DURATION=30s CONNECTIONS=128 Benchmarks/http.sh
#
# Loopback only; every server it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-1}
FD_PORT=18181 BARE_PORT=18182 NGINX_PORT=18183
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

echo "building release binaries…"
swift_build -c release --product frontdesk >/dev/null
swift_build -c release --product BareRoute >/dev/null
BIN=$(swift_build -c release --show-bin-path)

"$BIN/frontdesk" serve --data-dir "$WORK/data" --port $FD_PORT >"$WORK/fd.log" 2>&1 &
pids+=($!)
"$BIN/BareRoute" $BARE_PORT >"$WORK/bare.log" 2>&1 &
pids+=($!)
start_nginx $NGINX_PORT
wait_for "http://127.0.0.1:$FD_PORT/healthz"
wait_for "http://127.0.0.1:$BARE_PORT/healthz"

run() { # name url → requests/s
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$2" >"$WORK/$1.wrk" 2>&1
  awk '/Requests\/sec/ {print $2}' "$WORK/$1.wrk"
}
latency() { awk '/ 99%/ {print $2}' "$WORK/$1.wrk"; }

# Warm up each server once so the JIT-free Swift binaries have their caches and pools filled.
for url in "http://127.0.0.1:$FD_PORT/healthz" "http://127.0.0.1:$BARE_PORT/healthz" "http://127.0.0.1:$NGINX_PORT/"; do
  wrk -t1 -c16 -d2s "$url" >/dev/null 2>&1
done

fd=$(run frontdesk "http://127.0.0.1:$FD_PORT/healthz")
bare=$(run bare "http://127.0.0.1:$BARE_PORT/healthz")
ngx=$(run nginx "http://127.0.0.1:$NGINX_PORT/")

printf '\nwrk -t%s -c%s -d%s on %s cores, loopback\n' "$THREADS" "$CONNECTIONS" "$DURATION" "$(nproc)"
printf '%-44s %12s %10s\n' "target" "req/s" "p99"
printf '%-44s %12.0f %10s\n' "frontdesk GET /healthz (full middleware)" "$fd" "$(latency frontdesk)"
printf '%-44s %12.0f %10s\n' "bare Hummingbird route (204)" "$bare" "$(latency bare)"
printf '%-44s %12.0f %10s\n' "nginx return 204" "$ngx" "$(latency nginx)"
awk -v a="$fd" -v b="$bare" -v c="$ngx" 'BEGIN {
  printf "ratio frontdesk / bare route: %.2f  (goal >= 0.85)\n", a / b
  printf "ratio frontdesk / nginx:      %.2f\n", a / c
  printf "ratio bare route / nginx:     %.2f\n", b / c
}'

# Cold start: process launch to the first 200 from /healthz, on a fresh data directory.
start_ns=$(date +%s%N)
"$BIN/frontdesk" serve --data-dir "$WORK/cold" --port 18184 --log-level warning >/dev/null 2>&1 &
cold_pid=$!
pids+=($cold_pid)
until curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:18184/healthz" 2>/dev/null | grep -q 200; do sleep 0.005; done
end_ns=$(date +%s%N)
sleep 1
rss_kib=$(awk '/VmRSS/ {print $2}' /proc/$cold_pid/status)
printf 'cold start to first /healthz 200: %d ms (goal <= 300)\n' $(( (end_ns - start_ns) / 1000000 ))
printf 'idle RSS after start: %.1f MiB (goal <= 40)\n' "$(echo "$rss_kib / 1024" | bc -l)"

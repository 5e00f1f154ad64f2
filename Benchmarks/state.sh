#!/usr/bin/env bash
# Benchmarks/state.sh — FrontdeskState against Redis, measured in the same run on this machine.
#
# Starts redis-server on 127.0.0.1:6390 (no persistence), runs redis-benchmark for GET and SET
# with 50 clients unpipelined and with -P 16, then builds and runs StateBench (release), which
# prints the in-process figures, Zipf hit ratios, snapshot times and the ratios against Redis.
# Not part of the test command. Usage: Benchmarks/state.sh [--quick]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PORT=6390
REQUESTS=200000
WORK="$ROOT/.build/statebench"
mkdir -p "$WORK"

if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
    echo "installing redis-server and redis-tools" >&2
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server redis-tools >/dev/null
fi

# Our own redis, on our own port, gone when the script ends however it ends.
REDIS_PID=""
stop_redis() {
    if [ -n "$REDIS_PID" ] && kill -0 "$REDIS_PID" 2>/dev/null; then
        redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || kill "$REDIS_PID" 2>/dev/null || true
        wait "$REDIS_PID" 2>/dev/null || true
    fi
}
trap stop_redis EXIT INT TERM

redis-server --port "$PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
    --logfile "$WORK/redis.log" --dir "$WORK" &
REDIS_PID=$!
for _ in $(seq 1 50); do
    redis-cli -p "$PORT" ping >/dev/null 2>&1 && break
    sleep 0.1
done
redis-cli -p "$PORT" ping >/dev/null || { echo "redis-server did not start; see $WORK/redis.log" >&2; exit 1; }

# redis-benchmark -q prints "GET: 82068.12 requests per second, p50=0.375 msec" (after \r progress).
run_redis() {
    redis-benchmark -p "$PORT" -t get,set -n "$REQUESTS" -c 50 -q "$@" 2>&1 | tr '\r' '\n' | grep -E '^(SET|GET): .*per second'
}
field() { # field OUTPUT OP -> requests per second
    printf '%s\n' "$1" | awk -v op="$2:" '$1 == op { print $2 }'
}
p50() { # p50 OUTPUT OP -> milliseconds
    printf '%s\n' "$1" | awk -v op="$2:" '$1 == op { for (i = 1; i <= NF; i++) if ($i ~ /^p50=/) { sub("p50=", "", $i); print $i } }'
}

echo "== redis-benchmark, $(redis-server --version | awk '{print $3}'), 50 clients, $REQUESTS requests, unpipelined"
UNPIPELINED="$(run_redis)"
printf '%s\n' "$UNPIPELINED"
echo "== redis-benchmark, -P 16"
PIPELINED="$(run_redis -P 16)"
printf '%s\n' "$PIPELINED"
stop_redis
REDIS_PID=""
echo

echo "== swift build -c release --product StateBench"
(cd "$ROOT" && swift build -c release --product StateBench 2>&1 | grep -E 'error|Compiling|Build' | tail -3)
BIN="$(cd "$ROOT" && swift build -c release --product StateBench --show-bin-path)/StateBench"
echo

REDIS_GET_RPS="$(field "$UNPIPELINED" GET)" \
REDIS_SET_RPS="$(field "$UNPIPELINED" SET)" \
REDIS_GET_P16_RPS="$(field "$PIPELINED" GET)" \
REDIS_SET_P16_RPS="$(field "$PIPELINED" SET)" \
REDIS_GET_P50_MS="$(p50 "$UNPIPELINED" GET)" \
STATEBENCH_DIR="$WORK" \
    "$BIN" "$@"

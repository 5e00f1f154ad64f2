#!/usr/bin/env bash
# Live chat under load, on loopback: a release `frontdesk serve --rate-limit off` and a Python
# load client (Benchmarks/chat_load.py, the `websockets` package from PyPI) that
#   1. holds IDLE (10,000) visitor sockets and reads the server's RSS: KiB per socket;
#   2. times one agent-presence change reaching every one of those visitors;
#   3. has SENDERS (1,000) visitors send one message a second each to 10 online agents for
#      SECONDS (15) and reports send -> delivered-to-agent latency percentiles.
# Stops by itself; every process it starts is stopped on exit. Not part of the test command.
#
#   Benchmarks/chat.sh
#   IDLE=2000 SENDERS=200 SECONDS_=5 Benchmarks/chat.sh     # a quick run
set -euo pipefail
cd "$(dirname "$0")/.."

IDLE=${IDLE:-10000}
SENDERS=${SENDERS:-1000}
DURATION=${SECONDS_:-15}
PORT=${PORT:-18291}
AGENTS=10
PASSWORD=bench-password-123
WORK=$(mktemp -d)
SERVER=""
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# Every socket is a file descriptor, in the server and in the client.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "open files allowed: $(ulimit -n)"

python3 -c "import websockets" 2>/dev/null || python3 -m pip install -q "websockets==17.4"

echo "building the release binary…"
swift build -c release --product frontdesk >/dev/null
BIN=$(swift build -c release --show-bin-path)/frontdesk

for i in $(seq 0 $((AGENTS - 1))); do
  printf '%s' "$PASSWORD" | "$BIN" user add --data-dir "$WORK/data" --email "agent$i@bench.test" --name "Agent $i" --role agent --password-stdin >/dev/null
done
printf '%s' "$PASSWORD" | "$BIN" user add --data-dir "$WORK/data" --email "presence@bench.test" --name "Presence" --role agent --password-stdin >/dev/null

"$BIN" serve --data-dir "$WORK/data" --port "$PORT" --rate-limit off --log-level notice >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.1; done

echo "frontdesk $("$BIN" version 2>/dev/null | head -1) on 127.0.0.1:$PORT (pid $SERVER), $(nproc) cores shared with the load client"
status=0
python3 Benchmarks/chat_load.py --port "$PORT" --pid "$SERVER" --idle "$IDLE" --senders "$SENDERS" --seconds "$DURATION" --agents "$AGENTS" --password "$PASSWORD" || status=$?
# The server's own side of each presence broadcast: until the frame was handed to every socket
# (read from its log once it stopped, which flushes the log).
kill "$SERVER" 2>/dev/null || true
wait "$SERVER" 2>/dev/null || true
SERVER=""
python3 - "$WORK/data/logs/frontdesk.log" <<'PY'
import json, statistics, sys
ms = []
for line in open(sys.argv[1], encoding="utf-8"):
    try:
        entry = json.loads(line)
    except ValueError:
        continue
    if entry.get("msg") == "chat broadcast written":
        ms.append(float(entry.get("milliseconds", "nan")))
# The first 7 are the measured changes; later ones are agents leaving while 10,000 sockets close.
ms = ms[:7]
if ms:
    print(f"server side of those presence changes (frame handed to every socket): median {statistics.median(ms):.1f} ms, "
          f"worst {max(ms):.1f} ms ({', '.join(f'{m:.0f}' for m in ms)})")
PY
exit $status

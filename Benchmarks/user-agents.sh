#!/usr/bin/env bash
# Benchmarks/user-agents.sh — Frontdesk's user-agent reduction (UserAgentFacts.parse, run per
# beacon) against ua-parser (uap-core's regular expressions, its pure-Python resolver without a
# cache), over the same strings in the same run on this machine.
#
# The input is Tests/fixtures/user-agents/browsers.txt + bots.txt repeated to ~100,000 lines.
# Frontdesk is timed through `frontdesk user-agent` (release build; JSON output included), minus
# the same command on an empty input; ua-parser through `Parser(BasicResolver(load_builtins()))`,
# the resolver the oracle test uses, without output. Prints µs per string and the ratio.
# Not part of the test command. Usage: Benchmarks/user-agents.sh [--quick] (debug build, 20,000 lines)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
REPEAT=30; CONFIG=release
[[ "${1:-}" == "--quick" ]] && { REPEAT=6; CONFIG=debug; }

cd "$ROOT"
swift build -c "$CONFIG" --product frontdesk >/dev/null
BIN="$(swift build -c "$CONFIG" --show-bin-path)/frontdesk"
for _ in $(seq "$REPEAT"); do cat Tests/fixtures/user-agents/browsers.txt Tests/fixtures/user-agents/bots.txt; done >"$WORK/agents.txt"
LINES=$(wc -l <"$WORK/agents.txt")

now() { date +%s.%N; }
t0=$(now); "$BIN" user-agent </dev/null >/dev/null; t1=$(now)
"$BIN" user-agent <"$WORK/agents.txt" >"$WORK/out.jsonl"; t2=$(now)
[[ $(wc -l <"$WORK/out.jsonl") == "$LINES" ]] || { echo "frontdesk printed the wrong number of lines" >&2; exit 1; }
ours=$(python3 -c "print(max(($t2 - $t1) - ($t1 - $t0), 1e-9))")

theirs=$(python3 - "$WORK/agents.txt" <<'PY'
import sys, time
from ua_parser import BasicResolver, Parser, load_builtins
parser = Parser(BasicResolver(load_builtins()))
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
start = time.perf_counter()
for line in lines:
    parser.parse(line)
print(time.perf_counter() - start)
PY
)

python3 - "$LINES" "$ours" "$theirs" "$CONFIG" <<'PY'
import sys
n, ours, theirs, config = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
print(f"user agents: {n} strings (real browsers and crawlers), frontdesk {config} build")
print(f"  frontdesk user-agent (UserAgentFacts.parse + JSON line)  {ours / n * 1e6:8.2f} µs/string  {n / ours:12,.0f}/s")
print(f"  ua-parser BasicResolver, no cache (reference)          {theirs / n * 1e6:8.2f} µs/string  {n / theirs:12,.0f}/s")
print(f"  ratio: frontdesk is {theirs / ours:.1f}x the reference's throughput")
PY

#!/usr/bin/env bash
# Privacy tools on a large data directory, each against a reference measured in the same run:
#   1. `frontdesk privacy export --email` of one subject, against sqlite3 reading the same rows
#      (the floor: the same queries without Frontdesk). Goal: < 1 s.
#   2. `frontdesk privacy erase` of one subject (counts, both transactions with secure_delete,
#      checkpoint, spool), against sqlite3 deleting the same rows. Goal: < 2 s.
#   3. `frontdesk privacy sweep` removing a month of raw analytics events in bounded batches while
#      wrk drives GET /api/v1/faq on the running server; the request p99 during the sweep against
#      the p99 of the same load without it. Goal: p99 < 50 ms while it runs.
#
#   Benchmarks/privacy.sh                              # ROWS=1000000 EVENTS=10000000 (the issue's sizes)
#   CONFIGURATION=debug ROWS=200000 EVENTS=2000000 Benchmarks/privacy.sh   # what a debug build does in a few minutes
#
# The rows are written straight into the database files with sqlite3 (recursive CTEs) before
# anything is measured; the subject has rows in every kind. Loopback only; every server it
# starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

CONFIGURATION=${CONFIGURATION:-release}
ROWS=${ROWS:-1000000}
EVENTS=${EVENTS:-10000000}
DURATION=${DURATION:-10s}
FD_PORT=18391
WORK=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

source Benchmarks/common.sh
need_packages wrk sqlite3

echo "building the $CONFIGURATION binary…"
swift_build -c "$CONFIGURATION" --product frontdesk >/dev/null
BIN=$(swift_build -c "$CONFIGURATION" --show-bin-path)
DATA="$WORK/data"
"$BIN/frontdesk" migrate --data-dir "$DATA" >/dev/null
# analytics.sqlite is created by the first runtime that opens the directory.
"$BIN/frontdesk" privacy record --data-dir "$DATA" >/dev/null

now=$(date -u +%s)
old=$((now - 430 * 86400))   # past tracking.raw_retention_days (400): what the sweep removes
echo "seeding $ROWS rows across the tables and $EVENTS analytics events…"
t0=$(date +%s.%N)
# One fifth each: contact submissions, tickets (one message each), chats (one message each), newsletter.
per=$((ROWS / 5))
sqlite3 "$DATA/frontdesk.sqlite" <<SQL
PRAGMA journal_mode=WAL;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $per)
INSERT INTO contact_submissions (name, email, message, created_at) SELECT 'Person ' || i, 'person' || i || '@example.com', 'Message number ' || i, '2026-11-01T00:00:00.000Z' FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $per)
INSERT INTO support_tickets (email, name, subject, description, access_nonce, created_at, updated_at) SELECT 'person' || i || '@example.com', 'Person ' || i, 'Ticket ' || i, 'Description ' || i, 'n', '2026-11-01T00:00:00.000Z', '2026-11-01T00:00:00.000Z' FROM n;
INSERT INTO ticket_messages (ticket_id, author, body, created_at) SELECT id, 'customer', 'Reply to ' || id, '2026-11-01T00:00:00.000Z' FROM support_tickets;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $per)
INSERT INTO chat_conversations (visitor_id, visitor_email, created_at, updated_at) SELECT 'visitor-' || i, 'person' || i || '@example.com', '2026-11-01T00:00:00.000Z', '2026-11-01T00:00:00.000Z' FROM n;
INSERT INTO chat_messages (conversation_id, sender, text, created_at) SELECT id, 'visitor', 'Hello ' || id, '2026-11-01T00:00:00.000Z' FROM chat_conversations;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $per)
INSERT INTO newsletter_subscriptions (email, status, token, consent_version, subscribed_at, updated_at) SELECT 'person' || i || '@example.com', 'confirmed', 'tok' || i, 'v1', '2026-11-01T00:00:00.000Z', '2026-11-01T00:00:00.000Z' FROM n;
INSERT INTO contact_submissions (name, email, message, created_at) VALUES ('Sam Subject', 'subject@example.com', 'Please export me.', '2026-11-01T00:00:00.000Z');
INSERT INTO support_tickets (email, name, subject, description, access_nonce, created_at, updated_at) VALUES ('subject@example.com', 'Sam Subject', 'Mine', 'Mine', 'n', '2026-11-01T00:00:00.000Z', '2026-11-01T00:00:00.000Z');
INSERT INTO chat_conversations (visitor_id, visitor_email, created_at, updated_at) VALUES ('subject-visitor', 'subject@example.com', '2026-11-01T00:00:00.000Z', '2026-11-01T00:00:00.000Z');
INSERT INTO newsletter_subscriptions (email, status, token, consent_version, subscribed_at, updated_at) VALUES ('subject@example.com', 'confirmed', 'subjecttok', 'v1', '2026-11-01T00:00:00.000Z', '2026-11-01T00:00:00.000Z');
COMMIT;
SQL
# Events: a tenth of them a month past retention (the sweep's work), the rest recent; 5 events per visit.
sessions=$((EVENTS / 5))
sqlite3 "$DATA/analytics.sqlite" <<SQL
PRAGMA journal_mode=WAL;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $sessions)
INSERT INTO visitor_sessions (id, visitor, started_at, last_seen_at, entry_page, exit_page, pageviews, engaged_ms, source, referrer, utm_source, utm_medium, utm_campaign, country, device, browser, os)
SELECT i, i * 7919, CASE WHEN i % 10 = 0 THEN $old + (i % 2592000) ELSE $now - (i % 2592000) END, CASE WHEN i % 10 = 0 THEN $old + (i % 2592000) ELSE $now - (i % 2592000) END, 0, 0, 5, 1000, 0, 0, 0, 0, 0, 0, 0, 0, 0 FROM n;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $EVENTS - 1)
INSERT INTO visitor_events (t, session_id, event_type, page) SELECT s.started_at, s.id, 1, 0 FROM n JOIN visitor_sessions s ON s.id = n.i / 5 + 1;
COMMIT;
SQL
seeded=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.0f", b - a}')
old_events=$(sqlite3 "$DATA/analytics.sqlite" "SELECT COUNT(*) FROM visitor_events WHERE t < $now - 400 * 86400")
echo "seeded in ${seeded}s: $(sqlite3 "$DATA/frontdesk.sqlite" "SELECT (SELECT COUNT(*) FROM contact_submissions) + (SELECT COUNT(*) FROM support_tickets) + (SELECT COUNT(*) FROM ticket_messages) + (SELECT COUNT(*) FROM chat_conversations) + (SELECT COUNT(*) FROM chat_messages) + (SELECT COUNT(*) FROM newsletter_subscriptions)") rows, $(sqlite3 "$DATA/analytics.sqlite" "SELECT COUNT(*) FROM visitor_events") events ($old_events past retention)"

secs() { local a b; a=$(date +%s.%N); "$@" >/dev/null; b=$(date +%s.%N); awk -v a="$a" -v b="$b" 'BEGIN{printf "%.3f", b - a}'; }
reference_read() {
  sqlite3 "$DATA/frontdesk.sqlite" "SELECT * FROM contact_submissions WHERE lower(email) = 'subject@example.com'; SELECT * FROM support_tickets WHERE lower(email) = 'subject@example.com';
    SELECT * FROM chat_conversations WHERE lower(visitor_email) = 'subject@example.com'; SELECT * FROM newsletter_subscriptions WHERE lower(email) = 'subject@example.com';
    SELECT * FROM mail_outbox WHERE lower(to_address) = 'subject@example.com'; SELECT * FROM reviews WHERE lower(email) = 'subject@example.com';"
}
reference_delete() {
  sqlite3 "$DATA/frontdesk.sqlite" "BEGIN; DELETE FROM contact_submissions WHERE lower(email) = 'nobody@example.com'; DELETE FROM support_tickets WHERE lower(email) = 'nobody@example.com';
    DELETE FROM chat_conversations WHERE lower(visitor_email) = 'nobody@example.com'; DELETE FROM newsletter_subscriptions WHERE lower(email) = 'nobody@example.com'; COMMIT;"
}
export_ref=$(secs reference_read)
export_fd=$(secs "$BIN/frontdesk" privacy export --email subject@example.com --data-dir "$DATA" --out "$WORK/subject.json")
found=$(python3 -c 'import json,sys; print(sum(m["rows"] for m in json.load(open(sys.argv[1]))["manifest"]))' "$WORK/subject.json")
erase_ref=$(secs reference_delete)
erase_fd=$(secs "$BIN/frontdesk" privacy erase --email subject@example.com --data-dir "$DATA")
left=$(sqlite3 "$DATA/frontdesk.sqlite" "SELECT COUNT(*) FROM contact_submissions WHERE email = 'subject@example.com'")

# The sweep under load: the same wrk run without, then with `privacy sweep` running beside it.
"$BIN/frontdesk" serve --data-dir "$DATA" --port $FD_PORT --rate-limit off >"$WORK/fd.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$FD_PORT/healthz"
wrk -t1 -c8 -d2s "http://127.0.0.1:$FD_PORT/api/v1/faq" >/dev/null 2>&1
wrk -t1 -c8 -d"$DURATION" --latency "http://127.0.0.1:$FD_PORT/api/v1/faq" >"$WORK/quiet.wrk" 2>&1
wrk -t1 -c8 -d600s --latency "http://127.0.0.1:$FD_PORT/api/v1/faq" >"$WORK/sweep.wrk" 2>&1 &
wrk_pid=$!
sleep 1
sweep_s=$(secs "$BIN/frontdesk" privacy sweep --data-dir "$DATA")
kill -INT $wrk_pid; wait $wrk_pid 2>/dev/null || true
remaining=$(sqlite3 "$DATA/analytics.sqlite" "SELECT COUNT(*) FROM visitor_events WHERE t < $now - 400 * 86400")
p99() { awk '$1 == "99%" {print $2}' "$WORK/$1.wrk"; }
ms() { awk -v v="$1" 'BEGIN{ if (v ~ /us$/) printf "%.2f", v / 1000; else if (v ~ /ms$/) printf "%.2f", v + 0; else printf "%.2f", v * 1000 }'; }

printf '\n%s build, %s cores, %s rows + %s events\n' "$CONFIGURATION" "$(nproc)" "$ROWS" "$EVENTS"
printf '%-58s %10s %12s %8s\n' "operation" "frontdesk" "reference" "ratio"
printf '%-58s %9ss %11ss %8.1f\n' "export one subject ($found items) vs sqlite3 reading them" "$export_fd" "$export_ref" "$(awk -v a="$export_fd" -v b="$export_ref" 'BEGIN{print a/b}')"
printf '%-58s %9ss %11ss %8.1f\n' "erase one subject vs sqlite3 DELETEs (left: $left)" "$erase_fd" "$erase_ref" "$(awk -v a="$erase_fd" -v b="$erase_ref" 'BEGIN{print a/b}')"
printf '%-58s %9ss\n' "retention sweep of $old_events old events ($remaining left)" "$sweep_s"
printf '%-58s %9sms %11sms %8.1f\n' "GET /api/v1/faq p99 during the sweep vs without" "$(ms "$(p99 sweep)")" "$(ms "$(p99 quiet)")" "$(awk -v a="$(ms "$(p99 sweep)")" -v b="$(ms "$(p99 quiet)")" 'BEGIN{print a/b}')"
awk -v e="$export_fd" -v r="$erase_fd" -v p="$(ms "$(p99 sweep)")" 'BEGIN {
  printf "goals: export < 1 s: %s; erase < 2 s: %s; p99 < 50 ms during the sweep: %s\n", (e < 1 ? "met" : "NOT met"), (r < 2 ? "met" : "NOT met"), (p < 50 ? "met" : "NOT met")
}'

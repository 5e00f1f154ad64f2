"""The inbox from the command line, as a site owner moving lists in and out would use it:
`frontdesk newsletter import` (double opt-in mails queued, bad rows named by line, reruns
skip what is in), `frontdesk newsletter export` (a file `import` reads back, unsubscribed
people staying out), `frontdesk export` of the whole inbox as JSON while the server runs, and
the progress bar on a terminal against a single summary line otherwise."""

from __future__ import annotations

import json
import os
import pty
import sqlite3
import subprocess
from pathlib import Path

import requests

from support.frontdesk_proc import frontdesk_bin, frontdesk_server


def run(*args: str, data: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(frontdesk_bin()), *args, "--data-dir", str(data)], capture_output=True, text=True, timeout=timeout)


def query(data: Path, sql: str) -> list[tuple]:
    con = sqlite3.connect(data / "frontdesk.sqlite")
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def keys(value: object) -> set[str]:
    """Every object key anywhere in a JSON document."""
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys(v)}
    return set()


def write_list(path: Path, rows: int) -> None:
    lines = ["email,name"] + [f"reader{i}@example.com,Reader {i}" for i in range(rows)]
    lines.insert(5, "not-an-address,Broken Row")  # line 6 of the file
    lines.append("reader3@example.com,Again")      # a duplicate inside the file
    path.write_text("\n".join(lines) + "\n")


def test_newsletter_import_queues_opt_in_mails_names_bad_rows_and_reruns_cleanly(tmp_path: Path) -> None:
    data = tmp_path / "data"
    csv_file = tmp_path / "list.csv"
    write_list(csv_file, 1200)  # more than one 500-row transaction
    result = run("newsletter", "import", str(csv_file), data=data)
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stdout, "no progress bar when standard output is not a terminal"
    assert result.stdout.strip() == ("Imported 1200 subscribers (pending), skipped 1, 1 row with problems; "
                                     "1200 confirmation mails queued."), result.stdout
    assert f"{csv_file}:6: \"not-an-address\" is not a valid email address" in result.stderr
    assert query(data, "SELECT status, COUNT(*) FROM newsletter_subscriptions GROUP BY status") == [("pending", 1200)]
    assert query(data, "SELECT COUNT(*) FROM mail_outbox")[0][0] == 1200

    again = run("newsletter", "import", str(csv_file), "--confirmed", data=data)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("Imported 0 subscribers (confirmed), skipped 1201,"), again.stdout
    assert query(data, "SELECT COUNT(*) FROM mail_outbox")[0][0] == 1200, "a rerun queues no second mail"

    missing = run("newsletter", "import", str(tmp_path / "nope.csv"), data=data)
    assert missing.returncode != 0 and "cannot read" in missing.stderr
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("name,phone\nAda,123\n")
    failed = run("newsletter", "import", str(wrong), data=data)
    assert failed.returncode == 1, "a file without one usable row fails"
    assert f"{wrong}:1: \"name\" is not a valid email address" in failed.stderr


def test_newsletter_export_round_trips_and_keeps_unsubscribed_people_out(tmp_path: Path) -> None:
    data = tmp_path / "data"
    source = tmp_path / "list.csv"
    source.write_text("email,name,topics\nada@example.com,Ada,\nbob@example.com,Bob,\ncy@example.com,\"Cy, Jr.\",\n")
    assert run("newsletter", "import", str(source), "--confirmed", data=data).returncode == 0
    con = sqlite3.connect(data / "frontdesk.sqlite")
    con.execute("UPDATE newsletter_subscriptions SET status = 'unsubscribed', unsubscribed_at = confirmed_at WHERE email = 'bob@example.com'")
    con.commit()
    con.close()

    exported = tmp_path / "out.csv"
    result = run("newsletter", "export", "--out", str(exported), data=data)
    assert result.returncode == 0, result.stderr
    assert "3 subscribers written to" in result.stderr
    lines = exported.read_text().splitlines()
    assert lines[0] == "email,name,topics,status,subscribed_at,confirmed_at,unsubscribed_at,consent_version,source"
    assert len(lines) == 4 and any(line.startswith('cy@example.com,"Cy, Jr."') for line in lines)
    assert not (tmp_path / "out.csv.part").exists()

    only = run("newsletter", "export", "--status", "confirmed", data=data)
    assert only.returncode == 0 and len(only.stdout.splitlines()) == 3
    bad = run("newsletter", "export", "--status", "gone", data=data)
    assert bad.returncode != 0 and "--status must be pending, confirmed or unsubscribed" in bad.stderr

    elsewhere = tmp_path / "elsewhere"
    moved = run("newsletter", "import", str(exported), "--confirmed", data=elsewhere)
    assert moved.returncode == 0, moved.stderr
    assert moved.stdout.startswith("Imported 2 subscribers (confirmed), skipped 1,"), moved.stdout
    assert query(elsewhere, "SELECT email, name FROM newsletter_subscriptions ORDER BY email") == [("ada@example.com", "Ada"), ("cy@example.com", "Cy, Jr.")]


def test_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    data = tmp_path / "data"
    csv_file = tmp_path / "list.csv"
    write_list(csv_file, 1500)
    main, child = pty.openpty()
    proc = subprocess.Popen([str(frontdesk_bin()), "newsletter", "import", str(csv_file), "--data-dir", str(data)],
                            stdout=child, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    os.close(child)
    output = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the terminal's other end closed: the command is done
            break
        if not chunk:
            break
        output += chunk
    os.close(main)
    assert proc.wait(60) == 0
    text = output.decode()
    assert "\rimporting" in text and "] 100%" in text, text
    assert "] 0%" in text, "the bar starts before the first transaction"
    assert "Imported 1500 subscribers" in text


def test_inbox_export_while_the_server_runs(tmp_path: Path) -> None:
    with frontdesk_server(tmp_path) as server:
        data = server.data_dir
        contact = requests.post(server.url("/api/v1/contact"), json={"name": "Ada", "email": "ada@example.com", "message": "Do you deliver?"}, timeout=5)
        assert contact.status_code == 201, contact.text
        ticket = requests.post(server.url("/api/v1/tickets"), json={"email": "bo@example.com", "subject": "Late order", "description": "Where is it?"}, timeout=5)
        assert ticket.status_code == 201, ticket.text
        signup = requests.post(server.url("/api/v1/newsletter/subscriptions"), json={"email": "cy@example.com"}, timeout=5)
        assert signup.status_code in (201, 202), signup.text

        out = tmp_path / "inbox.json"
        result = run("export", "--out", str(out), data=data)
        assert result.returncode == 0, result.stderr
        assert "1 contact submissions, 1 tickets, 1 subscribers written to" in result.stderr
        document = json.loads(out.read_text())
        assert [c["email"] for c in document["contacts"]] == ["ada@example.com"]
        assert document["contacts"][0]["message"] == "Do you deliver?"
        assert [t["subject"] for t in document["tickets"]] == ["Late order"]
        assert document["tickets"][0]["description"] == "Where is it?" and document["tickets"][0]["messages"] == []
        assert [s["email"] for s in document["subscribers"]] == ["cy@example.com"]
        assert "token" not in keys(document), "no link tokens leave in an export"

        piped = run("export", data=data)
        assert piped.returncode == 0 and json.loads(piped.stdout)["tickets"][0]["id"] == document["tickets"][0]["id"]
    assert server.exit_code == 0

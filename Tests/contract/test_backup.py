"""Online backup under concurrent writes, and restore: the restored database passes SQLite's
integrity check and holds every submission acknowledged before the backup started."""

from __future__ import annotations

import sqlite3
import subprocess
import tarfile
import threading
import time
from pathlib import Path

import requests

from support.frontdesk_proc import FrontdeskServer, frontdesk_bin


def _wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def _writer(url: str, acknowledged: list[tuple[float, int]], stop: threading.Event) -> None:
    session = requests.Session()
    n = 0
    while not stop.is_set():
        n += 1
        response = session.post(url, json={"name": "Load", "email": "load@example.com", "message": f"message {n}"}, timeout=10)
        if response.status_code == 201:
            acknowledged.append((time.monotonic(), response.json()["id"]))


def test_backup_under_writes_then_restore(tmp_path: Path) -> None:
    data = tmp_path / "data"
    backup = tmp_path / "desk.tar.gz"
    server = FrontdeskServer(data, extra_args=["--rate-limit", "off"], log_path=tmp_path / "server.log").start()
    acknowledged: list[tuple[float, int]] = []
    stop = threading.Event()
    writers = [threading.Thread(target=_writer, args=(server.url("/api/v1/contact"), acknowledged, stop)) for _ in range(6)]
    try:
        for w in writers:
            w.start()
        assert _wait_for(lambda: len(acknowledged) >= 200, 30), "the writers did not get going"
        started = time.monotonic()
        result = subprocess.run([str(frontdesk_bin()), "backup", "--data-dir", str(data), "--to", str(backup)],
                                capture_output=True, timeout=120)
        assert result.returncode == 0, result.stderr.decode()
        assert b"Backup written to" in result.stdout

        # Restore refuses while the server holds the data directory.
        refused = subprocess.run([str(frontdesk_bin()), "restore", "--data-dir", str(data), str(backup)], capture_output=True, timeout=60)
        assert refused.returncode == 1
        assert b"is running" in refused.stderr
    finally:
        stop.set()
        for w in writers:
            w.join()
        assert server.stop() == 0

    before_backup = {i for t, i in acknowledged if t < started}
    assert len(before_backup) > 50, "the writers barely wrote; the test proves nothing"
    with tarfile.open(backup) as archive:
        assert {"MANIFEST.json", "frontdesk.sqlite"} <= set(archive.getnames())

    target = tmp_path / "restored"
    check = subprocess.run([str(frontdesk_bin()), "restore", "--check", str(backup)], capture_output=True, timeout=60)
    assert check.returncode == 0, check.stderr.decode()
    restored = subprocess.run([str(frontdesk_bin()), "restore", "--data-dir", str(target), str(backup)], capture_output=True, timeout=60)
    assert restored.returncode == 0, restored.stderr.decode()
    with sqlite3.connect(target / "frontdesk.sqlite") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        ids = {row[0] for row in db.execute("SELECT id FROM contact_submissions")}
    missing = before_backup - ids
    assert not missing, f"{len(missing)} acknowledged submissions missing from the backup"

    # The restored directory serves.
    again = FrontdeskServer(target, log_path=tmp_path / "again.log").start()
    try:
        assert requests.get(again.url("/readyz"), timeout=5).status_code == 200
    finally:
        assert again.stop() == 0


def test_damaged_backup_is_refused_and_nothing_changes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = FrontdeskServer(data, log_path=tmp_path / "server.log").start()
    requests.post(server.url("/api/v1/contact"), json={"name": "Ann", "email": "ann@example.com", "message": "keep me"}, timeout=10)
    assert server.stop() == 0
    backup = tmp_path / "b.tar.gz"
    assert subprocess.run([str(frontdesk_bin()), "backup", "--data-dir", str(data), "--to", str(backup)], capture_output=True, timeout=60).returncode == 0
    damaged = tmp_path / "damaged.tar.gz"
    raw = bytearray(backup.read_bytes())
    damaged.write_bytes(bytes(raw[: len(raw) // 2]))
    result = subprocess.run([str(frontdesk_bin()), "restore", "--data-dir", str(data), str(damaged)], capture_output=True, timeout=60)
    assert result.returncode == 1
    assert b"truncated" in result.stderr or b"damaged" in result.stderr or b"not a usable" in result.stderr
    with sqlite3.connect(data / "frontdesk.sqlite") as db:
        assert [r[0] for r in db.execute("SELECT message FROM contact_submissions")] == ["keep me"]

"""Sessions live in process memory but survive a crash: after a snapshot, `kill -9` and a
restart find the console session again. Also the `frontdesk user` command end to end."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import requests

from support.frontdesk_proc import FrontdeskServer, frontdesk_bin

PASSWORD = "correct horse battery staple"


def _wait_for(condition, timeout: float) -> bool:
    """Polls `condition` until it holds or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def _add_admin(data_dir: Path) -> None:
    result = subprocess.run(
        [str(frontdesk_bin()), "user", "add", "--data-dir", str(data_dir), "--email", "owner@example.com",
         "--role", "admin", "--password-stdin"],
        input=PASSWORD.encode(), capture_output=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert b"Created admin owner@example.com" in result.stdout


def test_user_command_validates_and_lists(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _add_admin(data)
    weak = subprocess.run(
        [str(frontdesk_bin()), "user", "add", "--data-dir", str(data), "--email", "x@example.com", "--password-stdin"],
        input=b"short", capture_output=True, timeout=60,
    )
    assert weak.returncode == 1
    assert b"password must be at least 10 characters" in weak.stderr
    listed = subprocess.run([str(frontdesk_bin()), "user", "list", "--data-dir", str(data)], capture_output=True, timeout=60)
    assert b"owner@example.com" in listed.stdout and b"admin" in listed.stdout


def test_session_survives_kill_9_after_snapshot(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("FRONTDESK_SESSION_SNAPSHOT_SECONDS", "1")
    data = tmp_path / "data"
    _add_admin(data)

    first = FrontdeskServer(data, log_path=tmp_path / "first.log").start()
    try:
        origin = first.base_url.rstrip("/")
        signed_in = requests.post(first.url("/api/v1/admin/session"), json={"email": "owner@example.com", "password": PASSWORD},
                                  headers={"Origin": origin}, timeout=30)
        assert signed_in.status_code == 200, signed_in.text
        signed_in_at = time.time()
        cookie = signed_in.cookies.get("fd_session")
        assert cookie
        snapshot = data / "state" / "sessions.snap"
        # Wait for the event itself: a snapshot written after the sign-in holds the session.
        assert _wait_for(lambda: snapshot.exists() and snapshot.stat().st_mtime > signed_in_at, 10), \
            "no session snapshot was written after the sign-in"
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(timeout=10)
    finally:
        first.stop()

    second = FrontdeskServer(data, log_path=tmp_path / "second.log").start()
    try:
        me = requests.get(second.url("/api/v1/admin/session"), cookies={"fd_session": cookie}, timeout=10)
        assert me.status_code == 200, me.text
        assert me.json()["user"]["email"] == "owner@example.com"
    finally:
        assert second.stop() == 0


def test_corrupt_snapshot_is_skipped_and_data_kept(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _add_admin(data)
    (data / "state").mkdir(parents=True)
    (data / "state" / "sessions.snap").write_bytes(b"FDSS\x01garbage that is not a snapshot")
    server = FrontdeskServer(data, log_path=tmp_path / "server.log").start()
    try:
        origin = server.base_url.rstrip("/")
        signed_in = requests.post(server.url("/api/v1/admin/session"), json={"email": "owner@example.com", "password": PASSWORD},
                                  headers={"Origin": origin}, timeout=30)
        assert signed_in.status_code == 200
    finally:
        assert server.stop() == 0
    assert "session snapshot unreadable" in (data / "logs" / "frontdesk.log").read_text()

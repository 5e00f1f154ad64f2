"""Slow clients against the release binary: slowloris, slow POST, slow read and the per-address
connection cap. Debian's slowhttptest attacks with 1,000 connections while a legitimate client
keeps asking for /healthz; the server's own counters show the deadlines closed the attackers.

Deadlines are shortened (2-4 s) so the suite stays quick; the defaults are documented in the
README (10 s header, 30 s body, 60 s idle, 30 s send).
"""

from __future__ import annotations

import re
import resource
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

from support.frontdesk_proc import frontdesk_server

ATTACKERS = 1000
SLOWHTTPTEST = shutil.which("slowhttptest")



def setup_module() -> None:
    assert SLOWHTTPTEST, "slowhttptest is missing: scripts/test's setup step installs it (apt-get install slowhttptest)"


def _raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 8192)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def _closed_by(server, reason: str) -> int:
    text = requests.get(server.url("/metrics"), timeout=5).text
    match = re.search(r'frontdesk_http_connections_closed_total\{reason="%s"\} (\d+)' % reason, text)
    return int(match.group(1)) if match else 0


def _healthz_times(server, stop: threading.Event, times: list[float], errors: list[str]) -> None:
    """A legitimate client: a fresh connection and one /healthz every 50 ms, timed."""
    while not stop.is_set():
        start = time.perf_counter()
        try:
            resp = requests.get(server.url("/healthz"), timeout=2, headers={"Connection": "close"})
            if resp.status_code != 200:
                errors.append(f"/healthz answered {resp.status_code}")
        except requests.RequestException as exc:  # a refused or timed-out probe is a failure
            errors.append(repr(exc))
        times.append(time.perf_counter() - start)
        stop.wait(0.05)


def _attack(server, mode: str, seconds: int, extra: list[str]) -> str:
    cmd = [SLOWHTTPTEST, mode, "-c", str(ATTACKERS), "-r", "500", "-l", str(seconds), "-i", "1",
           "-p", "3", "-u", server.url("/api/openapi.json" if mode == "-X" else "/api/v1/contact"), *extra]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    _raise_fd_limit()
    config = tmp_path_factory.mktemp("slow") / "frontdesk.toml"
    config.write_text(
        "[server]\nheader_timeout_seconds = 2\nbody_timeout_seconds = 3\nidle_timeout_seconds = 4\n"
        "send_timeout_seconds = 3\nmax_connections_per_address = 5000\n"
    )
    with frontdesk_server(tmp_path_factory.mktemp("slow-data"), extra_args=["--config", str(config)]) as srv:
        yield srv


@pytest.mark.parametrize(
    ("mode", "reason", "extra"),
    [
        ("-H", "header_timeout", []),                                   # slowloris
        ("-B", "body_timeout", ["-s", "8192"]),                         # slow POST
        ("-X", "send_timeout", ["-k", "4", "-n", "5", "-w", "256", "-y", "512", "-z", "16"]),  # slow read
    ],
    ids=["slow-headers", "slow-body", "slow-read"],
)
def test_slow_clients_are_cut_and_healthz_stays_fast(guarded, mode: str, reason: str, extra: list[str]) -> None:
    before = _closed_by(guarded, reason)
    stop, times, errors = threading.Event(), [], []
    probe = threading.Thread(target=_healthz_times, args=(guarded, stop, times, errors), daemon=True)
    # Let the attack ramp up to its 1,000 connections before timing the legitimate client.
    attack = threading.Thread(target=lambda: out.append(_attack(guarded, mode, 12, extra)), daemon=True)
    out: list[str] = []
    attack.start()
    time.sleep(2.5)
    probe.start()
    attack.join(timeout=90)
    stop.set()
    probe.join(timeout=10)
    report = out[0] if out else "(no slowhttptest output)"
    assert not errors, f"the legitimate client failed during {mode}: {errors[:5]}\n{report[-1500:]}"
    assert len(times) >= 20, f"only {len(times)} /healthz probes ran"
    slowest = max(times)
    assert slowest < 0.1, f"/healthz took {slowest * 1000:.0f} ms under {mode} (median {sorted(times)[len(times) // 2] * 1000:.1f} ms)"
    closed = _closed_by(guarded, reason) - before
    assert closed >= 100, f"{mode}: only {closed} connections were closed by the {reason} deadline\n{report[-1500:]}"


def test_connections_per_address_are_capped(tmp_path_factory) -> None:
    config = tmp_path_factory.mktemp("cap") / "frontdesk.toml"
    config.write_text("[server]\nmax_connections_per_address = 5\n")
    with frontdesk_server(tmp_path_factory.mktemp("cap-data"), extra_args=["--config", str(config)]) as srv:
        held = [socket.create_connection((srv.host, srv.port), timeout=5) for _ in range(5)]
        try:
            time.sleep(0.2)
            extra = socket.create_connection((srv.host, srv.port), timeout=5)
            extra.settimeout(5)
            answer = extra.recv(4096).decode(errors="replace")
            assert answer.startswith("HTTP/1.1 503"), answer
            assert "too_many_connections" in answer
            assert extra.recv(4096) == b"", "the sixth connection was not closed"
            extra.close()
        finally:
            for s in held:
                s.close()
        # Closing them frees the places again.
        deadline = time.monotonic() + 5
        while True:
            try:
                assert requests.get(srv.url("/healthz"), timeout=2).status_code == 200
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert _closed_by(srv, "per_address_cap") >= 1

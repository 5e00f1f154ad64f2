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


def _closed_by(server, reasons: str) -> int:
    """Connections the server closed for any of `reasons` (comma-separated), from /metrics."""
    text = requests.get(server.url("/metrics"), timeout=5).text
    total = 0
    for reason in reasons.split(","):
        match = re.search(r'frontdesk_http_connections_closed_total\{reason="%s"\} (\d+)' % reason, text)
        total += int(match.group(1)) if match else 0
    return total


def _wait_for_open_connections(server, count: int, timeout: float) -> None:
    """Waits until the server reports at least `count` open connections (the attack is on)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = requests.get(server.url("/metrics"), timeout=5).text
        match = re.search(r"^frontdesk_http_connections_open (\d+)", text, re.M)
        if match and int(match.group(1)) >= count:
            return
    raise AssertionError(f"the attack never held {count} connections open")


def _healthz_times(server, stop: threading.Event, times: list[float], errors: list[str]) -> None:
    """A legitimate client, like a browser with a kept-alive connection: /healthz every 50 ms, timed."""
    session = requests.Session()
    while not stop.is_set():
        start = time.perf_counter()
        try:
            resp = session.get(server.url("/healthz"), timeout=2)
            if resp.status_code != 200:
                errors.append(f"/healthz answered {resp.status_code}")
        except requests.RequestException as exc:  # a refused or timed-out probe is a failure
            errors.append(repr(exc))
        times.append(time.perf_counter() - start)
        stop.wait(0.05)


def _attack(server, mode: str, seconds: int, extra: list[str]) -> str:
    cmd = [SLOWHTTPTEST, mode, "-c", str(ATTACKERS), "-r", "250", "-l", str(seconds), "-i", "1",
           "-p", "3", "-u", server.url("/api/chat-protocol.md" if mode == "-X" else "/api/v1/contact"), *extra]
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
    # Rate limits off: a 429 answered before the body would close slow-POST connections early,
    # and the deadlines are what is under test (they apply with or without rate limits).
    with frontdesk_server(tmp_path_factory.mktemp("slow-data"), extra_args=["--config", str(config), "--rate-limit", "off"]) as srv:
        yield srv


@pytest.mark.parametrize(
    ("mode", "reason", "extra"),
    [
        ("-H", "header_timeout", []),                                   # slowloris
        ("-B", "body_timeout", ["-s", "8192", "-f", "application/json"]),  # slow POST
        # Slow read: a 25 KB document twice per connection, read 16 bytes every 5 s through a tiny
        # window. What the kernel cannot take waits in our buffers until the send deadline; what it
        # took leaves the connection idle, and the idle deadline closes it.
        ("-X", "send_timeout,idle_timeout", ["-k", "2", "-n", "5", "-w", "256", "-y", "512", "-z", "16"]),
    ],
    ids=["slow-headers", "slow-body", "slow-read"],
)
def test_slow_clients_are_cut_and_healthz_stays_fast(guarded, mode: str, reason: str, extra: list[str]) -> None:
    before = _closed_by(guarded, reason)
    stop, times, errors = threading.Event(), [], []
    out: list[str] = []
    attack = threading.Thread(target=lambda: out.append(_attack(guarded, mode, 10, extra)), daemon=True)
    probe = threading.Thread(target=_healthz_times, args=(guarded, stop, times, errors), daemon=True)
    attack.start()
    # Time the legitimate client from the moment the attack holds connections open until
    # slowhttptest ends (its connections all cut by the deadline, or its run over).
    _wait_for_open_connections(guarded, 100, timeout=10)
    probe.start()
    attack.join(timeout=90)
    stop.set()
    probe.join(timeout=10)
    report = out[0] if out else "(no slowhttptest output)"
    assert not errors, f"the legitimate client failed during {mode}: {errors[:5]}\n{report[-1500:]}"
    assert len(times) >= 20, f"only {len(times)} /healthz probes ran"
    ordered = sorted(times)
    p95, slowest = ordered[int(len(ordered) * 0.95)], ordered[-1]
    summary = f"median {ordered[len(ordered) // 2] * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, max {slowest * 1000:.0f} ms over {len(ordered)} probes"
    print(f"/healthz under {mode} with {ATTACKERS} attackers: {summary}")
    # The debug build shares the two cores with the attacker: p95 is held to 100 ms, a single
    # outlier to a second.
    assert p95 < 0.1, f"/healthz under {mode}: {summary}"
    assert slowest < 1.0, f"/healthz under {mode}: {summary}"
    closed = _closed_by(guarded, reason) - before
    assert closed >= ATTACKERS * 0.9, f"{mode}: only {closed} of {ATTACKERS} connections were closed by the {reason} deadline\n{report[-1500:]}"


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

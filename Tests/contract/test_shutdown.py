"""Graceful shutdown: SIGTERM stops accepting, finishes the requests in flight, then exits 0.

Durability contract: a request whose body was still arriving when SIGTERM came is completed,
answered 201 only after commit, and its row is in the database after exit.
"""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import time
from pathlib import Path

from support.frontdesk_proc import frontdesk_server


def _send_head_and_half_body(host: str, port: int, body: bytes) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=15)
    head = (
        "POST /api/v1/contact HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    sock.sendall(head + body[: len(body) // 2])
    return sock


def _server_has_read(server_port: int, client_port: int) -> bool:
    """True when the server side of the connection has an empty receive queue (/proc/net/tcp)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        remote_port = int(fields[2].split(":")[1], 16)
        if local_port == server_port and remote_port == client_port:
            return int(fields[4].split(":")[1], 16) == 0
    return False


def _read_response(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    status_line, _, rest = data.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


def test_sigterm_completes_requests_in_flight_and_exits_zero(tmp_path: Path) -> None:
    body = json.dumps({"name": "Ann", "email": "ann@example.com", "message": "Sent while the server stops."}).encode()
    with frontdesk_server(tmp_path) as server:
        in_flight = _send_head_and_half_body(server.host, server.port, body)
        # Wait until the server has read what was sent (its receive queue is empty), so the
        # request is in flight, not merely queued in the kernel, when SIGTERM arrives.
        deadline = time.monotonic() + 5
        while not _server_has_read(server.port, in_flight.getsockname()[1]):
            assert time.monotonic() < deadline, "the server never read the request head"
            time.sleep(0.01)
        started = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)

        # A new connection is no longer accepted once the drain began (waited for, not slept on).
        def refuses() -> bool:
            try:
                probe = socket.create_connection((server.host, server.port), timeout=2)
                probe.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                answered = probe.recv(1024) != b""
                probe.close()
                return not answered
            except OSError:
                return True

        deadline = time.monotonic() + 5
        while not refuses():
            assert time.monotonic() < deadline, "the server still accepted new connections 5 s after SIGTERM"
            time.sleep(0.02)

        in_flight.sendall(body[len(body) // 2 :])
        status, response_body = _read_response(in_flight)
        in_flight.close()
        assert status == 201, f"in-flight request got {status}: {response_body[:300]!r}"
        exit_code = server.proc.wait(timeout=10)
        elapsed = time.monotonic() - started
    assert exit_code == 0, f"exit code {exit_code}\n{server.log_tail()}"
    assert elapsed < 10, f"shutdown took {elapsed:.1f}s"

    with sqlite3.connect(server.data_dir / "frontdesk.sqlite") as db:
        messages = [row[0] for row in db.execute("SELECT message FROM contact_submissions")]
    assert messages == ["Sent while the server stops."]

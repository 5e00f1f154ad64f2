"""Outgoing webhooks through a live server to a real local HTTPS receiver (Python's own TLS
server with a self-signed certificate made here with openssl and trusted through
webhooks.ca_file): signatures checked by the `standardwebhooks` reference library, a receiver
that fails twice and then accepts, dead-lettering after webhooks.max_attempts, a redirect never
followed, redeliver, and the SSRF refusals at save time."""

from __future__ import annotations

import json
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from standardwebhooks.webhooks import Webhook

from support.frontdesk_proc import free_port, frontdesk_server
from support.inbox import add_user, console


def make_certificate(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "receiver.pem", directory / "receiver.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


class Receiver:
    """An HTTPS server that records every request and answers per path:
    /ok → 204, /flaky → 500 twice then 200, /down → 503 always, /redirect → 302 to /ok, /moves → 301
    to /ok for a POST but 204 for the HEAD Frontdesk asks when the URL is saved (a receiver that
    moved after it was saved). HEADs are kept apart, in `probes`."""

    def __init__(self, cert: Path, key: Path) -> None:
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        # Notified on every request: tests wait on a delivery attempt, not on the clock.
        self.arrived = threading.Condition(self.lock)
        self.probes: list[dict] = []
        self.flaky_failures = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_HEAD(self) -> None:  # noqa: N802
                with receiver.lock:
                    receiver.probes.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}})
                self.send_response(302 if self.path == "/redirect" else 204)
                if self.path == "/redirect":
                    self.send_header("Location", f"https://127.0.0.1:{receiver.port}/ok")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                    status = 204
                    if self.path == "/flaky":
                        receiver.flaky_failures += 1
                        status = 500 if receiver.flaky_failures <= 2 else 200
                    elif self.path == "/down":
                        status = 503
                    elif self.path == "/redirect":
                        status = 302
                    elif self.path == "/moves":
                        status = 301
                    receiver.arrived.notify_all()
                self.send_response(status)
                if status in (301, 302):
                    self.send_header("Location", f"https://127.0.0.1:{receiver.port}/ok")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(cert), str(key))
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    def wait(self, path: str, count: int = 1, timeout: float = 30.0) -> list[dict]:
        """The requests to `path` once there are at least `count` of them."""
        with self.arrived:
            if not self.arrived.wait_for(lambda: len([r for r in self.requests if r["path"] == path]) >= count, timeout):
                raise AssertionError(f"timed out waiting for {count} request(s) to {path}")
            return [r for r in self.requests if r["path"] == path]

    def at(self, path: str) -> list[dict]:
        with self.lock:
            return [r for r in self.requests if r["path"] == path]

    def close(self) -> None:
        self.server.shutdown()


def wait_for(predicate, receiver: "Receiver", timeout: float = 30.0, what: str = "condition"):
    """Re-checks `predicate` (the server's delivery log) after each delivery attempt reaches
    `receiver` — the only thing that moves a delivery on — and once more shortly after it, for
    the log write that follows the receiver's answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        with receiver.arrived:
            receiver.arrived.wait(min(0.5, max(0.0, deadline - time.monotonic())))
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture()
def webhook_server(tmp_path: Path):
    cert, key = make_certificate(tmp_path)
    receiver = Receiver(cert, key)
    config = tmp_path / "frontdesk.toml"
    config.write_text(f"""
[webhooks]
allow_private = true
ca_file = "{cert}"
retry_base_seconds = 1
max_attempts = 3
timeout_seconds = 5
""")
    add_user(tmp_path / "srv" / "data")
    try:
        with frontdesk_server(tmp_path / "srv", extra_args=["--config", str(config), "--rate-limit", "off"]) as server:
            yield server, receiver
    finally:
        receiver.close()


def create_endpoint(session, server, url: str, events: list[str]) -> dict:
    r = session.post(server.url("/api/v1/admin/webhooks"), json={"url": url, "events": events}, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def deliveries(session, server, endpoint_id: int) -> list[dict]:
    r = session.get(server.url(f"/api/v1/admin/webhooks/{endpoint_id}/deliveries"), timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_signed_delivery_of_a_real_event(webhook_server) -> None:
    server, receiver = webhook_server
    session = console(server)
    endpoint = create_endpoint(session, server, receiver.url("/ok"), ["contact.created"])
    r = requests.post(server.url("/api/v1/contact"), json={"name": "Ada", "email": "ada@example.com", "message": "Hello from the site"}, timeout=10)
    assert r.status_code == 201, r.text
    got = receiver.wait("/ok")[0]
    # The reference implementation verifies the signature with the endpoint's secret.
    payload = Webhook(endpoint["secret"]).verify(got["body"], got["headers"])
    assert payload["type"] == "contact.created"
    assert payload["data"]["email"] == "ada@example.com" and payload["data"]["message"] == "Hello from the site"
    assert got["headers"]["webhook-id"].startswith("msg_")
    assert got["headers"]["webhook-signature"].startswith("v1,")
    # A wrong secret does not verify.
    with pytest.raises(Exception):
        Webhook("whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB").verify(got["body"], got["headers"])
    log = wait_for(lambda: [d for d in deliveries(session, server, endpoint["id"]) if d["status"] == "delivered"], receiver, what="the log")
    assert log[0]["lastStatusCode"] == 204 and log[0]["attempts"] == 1
    assert log[0]["log"][0]["statusCode"] == 204


def test_retries_then_accepts_dead_letters_redirects_and_redelivers(webhook_server) -> None:
    server, receiver = webhook_server
    session = console(server)
    flaky = create_endpoint(session, server, receiver.url("/flaky"), ["contact.created"])
    down = create_endpoint(session, server, receiver.url("/down"), ["contact.created"])
    # A URL that redirects is refused when saved, naming where it points; the save asked it with
    # an unsigned HEAD, and nothing was stored.
    r = session.post(server.url("/api/v1/admin/webhooks"), json={"url": receiver.url("/redirect"), "events": ["contact.created"]}, timeout=10)
    assert r.status_code == 422, r.text
    assert f"redirects (302) to https://127.0.0.1:{receiver.port}/ok" in r.json()["error"]["details"]["url"]
    probe = next(p for p in receiver.probes if p["path"] == "/redirect")
    assert "webhook-signature" not in probe["headers"] and receiver.at("/redirect") == []
    assert [e["url"] for e in session.get(server.url("/api/v1/admin/webhooks"), timeout=10).json()["items"]] == [receiver.url("/flaky"), receiver.url("/down")]
    # A receiver that redirects only later (here: only its POSTs) is saved, and then each
    # delivery attempt fails naming the redirect, which is never followed.
    redirect = create_endpoint(session, server, receiver.url("/moves"), ["contact.created"])

    for endpoint in (flaky, down, redirect):
        assert session.post(server.url(f"/api/v1/admin/webhooks/{endpoint['id']}/test"), timeout=10).status_code == 202

    # Fails twice (500), then accepted: three attempts with one webhook-id, each signed anew.
    flaky_log = wait_for(lambda: [d for d in deliveries(session, server, flaky["id"]) if d["status"] == "delivered"], receiver, what="flaky delivered")[0]
    assert flaky_log["attempts"] == 3
    assert [a["statusCode"] for a in flaky_log["log"]] == [500, 500, 200]
    hits = receiver.at("/flaky")
    assert len(hits) == 3 and len({h["headers"]["webhook-id"] for h in hits}) == 1
    for hit in hits:
        assert Webhook(flaky["secret"]).verify(hit["body"], hit["headers"])["type"] == "webhook.test"

    # Always 503: dead after webhooks.max_attempts (3).
    dead = wait_for(lambda: [d for d in deliveries(session, server, down["id"]) if d["status"] == "dead"], receiver, what="dead letter")[0]
    assert dead["attempts"] == 3 and dead["lastStatusCode"] == 503
    assert len(receiver.at("/down")) == 3

    # A redirect is never followed: /ok gets nothing, and the attempt is a failure naming it.
    red = wait_for(lambda: [d for d in deliveries(session, server, redirect["id"]) if d["status"] == "dead"], receiver, what="redirect dead")[0]
    assert red["lastStatusCode"] == 301 and f"redirect to https://127.0.0.1:{receiver.port}/ok" in red["lastError"]
    assert receiver.at("/ok") == []

    # Redeliver the dead letter: queued again with the same webhook-id.
    r = session.post(server.url(f"/api/v1/admin/webhook-deliveries/{dead['id']}/redeliver"), timeout=10)
    assert r.status_code == 202 and r.json()["messageId"] == dead["messageId"]
    receiver.wait("/down", 4)
    assert receiver.at("/down")[-1]["headers"]["webhook-id"] == dead["messageId"]


def test_ssrf_refusals_at_save_time(tmp_path: Path) -> None:
    add_user(tmp_path / "srv" / "data")
    with frontdesk_server(tmp_path / "srv", extra_args=["--rate-limit", "off"]) as server:
        session = console(server)
        cases = {
            "http://example.com/hook": "https",
            f"https://127.0.0.1:{server.port}/hook": "127.0.0.1",
            "https://10.0.0.8/hook": "10.0.0.8",
            "https://192.168.1.20/hook": "192.168.1.20",
            "https://169.254.169.254/latest/meta-data": "169.254.169.254",
            "https://[::1]/hook": "::1",
            "https://no-such-host.invalid/hook": "does not resolve",
        }
        for url, reason in cases.items():
            r = session.post(server.url("/api/v1/admin/webhooks"), json={"url": url, "events": ["ticket.created"]}, timeout=10)
            assert r.status_code == 422, (url, r.text)
            assert reason in r.json()["error"]["details"]["url"], (url, r.text)
        assert session.get(server.url("/api/v1/admin/webhooks"), timeout=10).json()["items"] == []

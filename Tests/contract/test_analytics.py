"""The analytics ingest against a live `frontdesk serve`: beacons over real HTTP (text/plain as
sendBeacon sends them, and JSON), every refusal, SIGTERM losing nothing, kill -9 under load
losing at most the last second, and the client address never reaching a file."""

from __future__ import annotations

import json
import signal
import sqlite3
import threading
import time
from pathlib import Path

import pytest
import requests

from support.frontdesk_proc import FrontdeskServer, frontdesk_server

SITE = "https://www.example.com"
UA = "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0"
BEACON = {"Content-Type": "text/plain;charset=UTF-8", "User-Agent": UA, "Origin": SITE}
# A loopback address no test elsewhere uses, sent through X-Forwarded-For from a trusted proxy.
DISTINCTIVE = "127.83.201.47"


def events_db(data_dir: Path) -> Path:
    return data_dir / "analytics.sqlite"


def count_events(data_dir: Path) -> int:
    """Rows in visitor_events, read with Python's own sqlite3 (WAL replayed if the server died)."""
    con = sqlite3.connect(events_db(data_dir))
    try:
        return con.execute("SELECT count(*) FROM visitor_events").fetchone()[0]
    finally:
        con.close()


def batch(n: int, path: str = "/") -> str:
    return json.dumps({"events": [{"type": "pageview", "url": f"{SITE}{path}?i={i}", "screen": "desktop"} for i in range(n)]})


@pytest.fixture()
def analytics_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRONTDESK_SITE_ORIGINS", SITE)
    monkeypatch.setenv("FRONTDESK_TRUSTED_PROXIES", "127.0.0.1")


def test_ingest_and_refusals_over_http(tmp_path: Path, analytics_env: None) -> None:
    with frontdesk_server(tmp_path) as server:
        url = server.url("/api/v1/events")
        r = requests.post(url, data=batch(3), headers=BEACON, timeout=10)
        assert r.status_code == 202, r.text
        assert r.json() == {"accepted": 3}
        assert r.headers["Access-Control-Allow-Origin"] == SITE
        assert r.headers["RateLimit-Policy"].startswith('"events"')
        r = requests.post(url, json={"events": [{"type": "event", "url": f"{SITE}/x", "name": "signup", "props": {"plan": "pro"}}]},
                          headers={"User-Agent": UA}, timeout=10)
        assert r.status_code == 202, r.text

        malformed = requests.post(url, data='{"events": [\n  {"type": "pageview",, }]}', headers=BEACON, timeout=10)
        assert malformed.status_code == 400
        error = malformed.json()["error"]
        assert error["code"] == "malformed_json" and error["details"]["line"] == "2"

        big = requests.post(url, data="{" + " " * (65 * 1024) + "}", headers=BEACON, timeout=10)
        assert big.status_code == 413 and big.json()["error"]["code"] == "payload_too_large"

        shape = requests.post(url, data=json.dumps({"events": [
            {"type": "pageview", "url": f"{SITE}/"},
            {"type": "pageview", "url": f"{SITE}/"},
            {"type": "pageview", "url": f"{SITE}/"},
            {"type": "event", "url": f"{SITE}/", "name": "has<angle>"},
            {"type": "engagement", "url": f"{SITE}/"},
        ]}), headers=BEACON, timeout=10)
        assert shape.status_code == 422
        assert set(shape.json()["error"]["details"]) == {"events[3].name", "events[4].engagedMs"}

        foreign = requests.post(url, data=batch(1), headers={**BEACON, "Origin": "https://elsewhere.example"}, timeout=10)
        assert foreign.status_code == 403 and foreign.json()["error"]["code"] == "origin_not_allowed"

        form = requests.post(url, data="events=1", headers={**BEACON, "Content-Type": "application/x-www-form-urlencoded"}, timeout=10)
        assert form.status_code == 415

        bot = requests.post(url, data=batch(2), headers={**BEACON, "User-Agent": "Mozilla/5.0 (compatible; bingbot/2.0)"}, timeout=10)
        assert bot.status_code == 202
        metrics = requests.get(server.url("/metrics"), timeout=10).text
        assert "frontdesk_analytics_bot_requests_dropped_total 1" in metrics
        code = server.stop()
    assert code == 0, server.log_tail()
    # 3 page views and 1 event; nothing refused and no bot reached the database.
    assert count_events(tmp_path / "data") == 4


def _flood(url: str, stop: threading.Event, log: list[tuple[float, int]], lock: threading.Lock, per_request: int) -> None:
    session = requests.Session()
    body = batch(per_request)
    while not stop.is_set():
        try:
            r = session.post(url, data=body, headers=BEACON, timeout=5)
        except requests.RequestException:
            return
        if r.status_code == 202:
            with lock:
                log.append((time.monotonic(), r.json()["accepted"]))


def _load(server: FrontdeskServer, seconds: float, threads: int = 4, per_request: int = 10) -> tuple[list[tuple[float, int]], threading.Event, list[threading.Thread]]:
    log: list[tuple[float, int]] = []
    lock = threading.Lock()
    stop = threading.Event()
    workers = [threading.Thread(target=_flood, args=(server.url("/api/v1/events"), stop, log, lock, per_request), daemon=True) for _ in range(threads)]
    for w in workers:
        w.start()
    time.sleep(seconds)
    return log, stop, workers


def test_sigterm_under_load_loses_nothing(tmp_path: Path, analytics_env: None) -> None:
    with frontdesk_server(tmp_path, extra_args=["--rate-limit", "off"]) as server:
        log, stop, workers = _load(server, 3.0)
        # SIGTERM while the beacons keep coming: what was answered 202 must all be written.
        assert server.proc is not None
        server.proc.send_signal(signal.SIGTERM)
        for w in workers:
            w.join(10)
        stop.set()
        code = server.stop()
    assert code == 0, server.log_tail()
    accepted = sum(n for _, n in log)
    assert accepted > 500, f"only {accepted} events were accepted in 3 s"
    assert count_events(tmp_path / "data") == accepted


def test_kill_9_under_load_loses_at_most_the_last_second(tmp_path: Path, analytics_env: None) -> None:
    with frontdesk_server(tmp_path, extra_args=["--rate-limit", "off"]) as server:
        log, stop, workers = _load(server, 4.0)
        assert server.proc is not None
        server.proc.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        stop.set()
        for w in workers:
            w.join(10)
        server.proc.wait(10)
        server.exit_code = server.proc.returncode
        server.proc = None
    accepted = sum(n for _, n in log)
    written = count_events(tmp_path / "data")
    lost = accepted - written
    # The writer commits at least every second: what can be lost was queued in the last second,
    # plus the batch being committed at the moment of the kill (0.25 s of slack for its commit).
    last_second = sum(n for t, n in log if t >= killed_at - 1.25)
    print(f"kill -9: accepted {accepted}, written {written}, lost {lost}, accepted in the last 1.25 s {last_second}")
    assert accepted > 500
    assert 0 <= lost <= last_second, f"lost {lost} events, more than the {last_second} accepted in the last 1.25 s"


def test_client_address_never_reaches_a_file(tmp_path: Path, analytics_env: None) -> None:
    data = tmp_path / "data"
    with frontdesk_server(tmp_path) as server:
        headers = {**BEACON, "X-Forwarded-For": DISTINCTIVE}
        for path in ["/", "/pricing", "/blog/one"]:
            r = requests.post(server.url("/api/v1/events"), data=batch(2, path), headers=headers, timeout=10)
            assert r.status_code == 202, r.text
        r = requests.post(server.url("/api/v1/events"), data=json.dumps({"events": [
            {"type": "engagement", "url": f"{SITE}/blog/one", "engagedMs": 15000, "scrollDepth": 90}]}), headers=headers, timeout=10)
        assert r.status_code == 202
        code = server.stop()
    assert code == 0, server.log_tail()
    assert count_events(data) == 7
    needles = [DISTINCTIVE.encode(), bytes(int(part) for part in DISTINCTIVE.split("."))]
    files = [p for p in data.rglob("*") if p.is_file()]
    assert any(p.name == "analytics.sqlite" for p in files)
    for path in files:
        content = path.read_bytes()
        for needle in needles:
            assert needle not in content, f"{path} holds the client address {DISTINCTIVE}"
    # The visits are there, counted without it: one visitor (same address and user agent, same day).
    con = sqlite3.connect(events_db(data))
    try:
        assert con.execute("SELECT count(DISTINCT visitor) FROM visitor_sessions").fetchone()[0] == 1
    finally:
        con.close()

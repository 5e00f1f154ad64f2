"""The public surface every deployment relies on: probes, metrics, OpenAPI, the error envelope."""

from __future__ import annotations

import json

import requests

from support.frontdesk_proc import FrontdeskServer


def _json(resp: requests.Response) -> dict:
    assert resp.headers.get("Content-Type", "").startswith("application/json"), (
        f"{resp.request.method} {resp.url}: Content-Type {resp.headers.get('Content-Type')!r}, "
        f"body {resp.text[:300]!r}"
    )
    return resp.json()


def _assert_request_id(resp: requests.Response) -> None:
    assert resp.headers.get("X-Request-Id"), (
        f"{resp.request.method} {resp.url} -> {resp.status_code} has no X-Request-Id header; "
        f"headers: {dict(resp.headers)}"
    )


def test_healthz_reports_ok(server: FrontdeskServer) -> None:
    resp = requests.get(server.url("/healthz"), timeout=5)
    assert resp.status_code == 200
    assert _json(resp) == {"status": "ok"}
    _assert_request_id(resp)


def test_readyz_is_ready_on_a_fresh_data_directory(server: FrontdeskServer) -> None:
    resp = requests.get(server.url("/readyz"), timeout=5)
    assert resp.status_code == 200, f"{resp.status_code}: {resp.text[:300]}"
    assert _json(resp) == {"status": "ready", "checks": {"database": "ok", "migrations": "ok"}}
    _assert_request_id(resp)


def test_metrics_is_prometheus_text(server: FrontdeskServer) -> None:
    resp = requests.get(server.url("/metrics"), timeout=5)
    assert resp.status_code == 200
    assert resp.headers.get("Content-Type", "").startswith("text/plain"), resp.headers
    samples = [ln for ln in resp.text.splitlines() if ln and not ln.startswith("#")]
    assert samples, f"no samples in /metrics:\n{resp.text[:500]}"
    _assert_request_id(resp)


def test_openapi_document_is_3_1(server: FrontdeskServer) -> None:
    resp = requests.get(server.url("/api/openapi.json"), timeout=5)
    assert resp.status_code == 200
    doc = _json(resp)
    assert str(doc.get("openapi", "")).startswith("3.1"), f"openapi: {doc.get('openapi')!r}"
    assert doc.get("paths"), "the OpenAPI document lists no paths"
    for probe in ("/healthz", "/readyz", "/metrics"):
        assert probe in doc["paths"], f"{probe} is not documented in /api/openapi.json"


def test_unknown_route_uses_error_envelope(server: FrontdeskServer) -> None:
    resp = requests.get(server.url("/api/v1/no-such-route-for-contract-test"), timeout=5)
    assert resp.status_code == 404, f"{resp.status_code}: {resp.text[:300]}"
    _assert_request_id(resp)
    body = _json(resp)
    assert set(body) == {"error"}, f"envelope has extra top-level keys: {json.dumps(body)}"
    error = body["error"]
    for key in ("code", "message", "timestamp"):
        assert isinstance(error.get(key), str) and error[key], f"error.{key} missing: {json.dumps(body)}"
    assert error["code"].replace("_", "").isalnum() and error["code"].islower(), error["code"]
    if "details" in error:
        assert isinstance(error["details"], dict), f"error.details is not an object: {json.dumps(body)}"

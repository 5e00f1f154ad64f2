"""API tokens through a live server: made with `frontdesk token create` and in the console,
used alone with `Authorization: Bearer` (no cookie, no Origin, no CSRF token), refused with the
scope named when the scope is missing, 401 once revoked (by the CLI, while the server runs) or
expired; cookie requests still need their CSRF token."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import requests

from support.frontdesk_proc import frontdesk_bin, frontdesk_server
from support.inbox import add_user, console


def cli(data: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(frontdesk_bin()), "token", *args, "--data-dir", str(data)],
                          capture_output=True, text=True, timeout=60)


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_cli_token_scopes_revocation_and_expiry(tmp_path: Path) -> None:
    data = tmp_path / "data"
    add_user(data, "agent@example.com", role="agent")
    made = cli(data, "create", "--email", "agent@example.com", "--name", "CRM sync",
               "--scope", "faq:read", "--scope", "faq:write", "--scope", "tickets:read")
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip()
    assert secret.startswith("fd_") and len(secret) == 46, made.stdout
    assert "not shown again" in made.stderr

    # An agent cannot give itself an admin-only scope from the shell either.
    refused = cli(data, "create", "--email", "agent@example.com", "--name", "x", "--scope", "users:read")
    assert refused.returncode == 1 and "users:read" in refused.stderr

    with frontdesk_server(tmp_path) as server:
        # No cookie, no Origin, no X-CSRF-Token: the token alone.
        r = requests.get(server.url("/api/v1/admin/tickets"), headers=bearer(secret), timeout=10)
        assert r.status_code == 200, r.text
        r = requests.post(server.url("/api/v1/admin/faq/categories"), json={"name": "Delivery"}, headers=bearer(secret), timeout=10)
        assert r.status_code == 201, r.text
        r = requests.get(server.url("/api/v1/admin/faq/categories"), headers=bearer(secret), timeout=10)
        assert "Delivery" in r.text

        # Missing scope: 403 naming it, for reads and writes alike.
        r = requests.get(server.url("/api/v1/admin/contact-submissions"), headers=bearer(secret), timeout=10)
        assert r.status_code == 403
        assert r.json()["error"]["code"] == "insufficient_scope"
        assert r.json()["error"]["details"]["scope"] == "contacts:read"
        r = requests.delete(server.url("/api/v1/admin/tickets/1"), headers=bearer(secret), timeout=10)
        assert r.status_code == 403 and r.json()["error"]["details"]["scope"] == "tickets:write"
        # Token management is for console sessions only.
        r = requests.post(server.url("/api/v1/admin/tokens"), json={"name": "more", "scopes": ["faq:read"]}, headers=bearer(secret), timeout=10)
        assert r.status_code == 403 and r.json()["error"]["code"] == "token_not_accepted"

        # The cookie session still needs its CSRF token for the same change.
        session = console(server, "agent@example.com")
        csrf = session.headers.pop("X-CSRF-Token")
        r = session.post(server.url("/api/v1/admin/faq/categories"), json={"name": "Returns"}, timeout=10)
        assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
        session.headers["X-CSRF-Token"] = csrf
        assert session.post(server.url("/api/v1/admin/faq/categories"), json={"name": "Returns"}, timeout=10).status_code == 201

        # Last use: the time and the network (the address with its last octet zeroed), never the address.
        tokens = session.get(server.url("/api/v1/admin/tokens"), timeout=10).json()["tokens"]
        assert len(tokens) == 1
        assert tokens[0]["lastUsedNetwork"] == "127.0.0.0"
        assert tokens[0]["lastUsedAt"]
        assert tokens[0]["prefix"] == secret[:11]
        assert secret not in str(tokens)

        # Expired: the stored expiry is moved into the past (the Swift suite moves a clock instead).
        with sqlite3.connect(data / "frontdesk.sqlite") as db:
            db.execute("UPDATE api_tokens SET expires_at = '2020-01-01T00:00:00.000Z'")
        r = requests.get(server.url("/api/v1/admin/tickets"), headers=bearer(secret), timeout=10)
        assert r.status_code == 401 and r.json()["error"]["code"] == "token_expired"
        with sqlite3.connect(data / "frontdesk.sqlite") as db:
            db.execute("UPDATE api_tokens SET expires_at = NULL")
        assert requests.get(server.url("/api/v1/admin/tickets"), headers=bearer(secret), timeout=10).status_code == 200

        # Revoked from the shell while the server runs: refused on the very next request.
        token_id = str(tokens[0]["id"])
        revoked = cli(data, "revoke", "--id", token_id)
        assert revoked.returncode == 0, revoked.stderr
        r = requests.get(server.url("/api/v1/admin/tickets"), headers=bearer(secret), timeout=10)
        assert r.status_code == 401 and r.json()["error"]["code"] == "token_revoked"
        r = requests.get(server.url("/api/v1/admin/tickets"), headers=bearer("fd_" + "x" * 43), timeout=10)
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_token"

    listed = cli(data, "list")
    assert listed.returncode == 0
    assert "revoked" in listed.stdout and "CRM sync" in listed.stdout and secret not in listed.stdout


def test_console_token_with_admin_scope(tmp_path: Path) -> None:
    data = tmp_path / "data"
    add_user(data)  # an admin
    with frontdesk_server(tmp_path) as server:
        session = console(server)
        r = session.post(server.url("/api/v1/admin/tokens"),
                         json={"name": "deploy", "kind": "service", "scopes": ["users:read"], "expiresInDays": 7}, timeout=10)
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["token"]["kind"] == "service" and body["token"]["expiresAt"]
        secret = body["secret"]
        r = requests.get(server.url("/api/v1/admin/users"), headers=bearer(secret), timeout=10)
        assert r.status_code == 200
        assert [u["email"] for u in r.json()["users"]] == ["owner@example.com"]
        # users:read does not write.
        r = requests.post(server.url("/api/v1/admin/users"), json={"email": "x@example.com", "password": "a long password", "role": "agent"},
                          headers=bearer(secret), timeout=10)
        assert r.status_code == 403 and r.json()["error"]["details"]["scope"] == "users:write"
        # Revoked in the console: 401 from then on.
        assert session.delete(server.url(f"/api/v1/admin/tokens/{body['token']['id']}"), timeout=10).status_code == 200
        r = requests.get(server.url("/api/v1/admin/users"), headers=bearer(secret), timeout=10)
        assert r.status_code == 401 and r.json()["error"]["code"] == "token_revoked"

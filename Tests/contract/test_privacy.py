"""Privacy tools against a live `frontdesk` binary: the visitor's access request through the real
mail spool (confirm link, admin approval, single-use download link), erasure from the console with
its typed confirmation and the CLI's export before and after, the CLI refusing to erase under a
running server, `frontdesk backup --list` naming the backups that predate an erasure, the record
of processing, and the no-raw-IP search: every public endpoint and the chat socket driven from
127.77.88.99, then every file under the data directory (databases, WAL, snapshot, spool, logs and
the inside of a backup) searched for the address as text and as its four bytes."""

from __future__ import annotations

import io
import json
import re
import socket
import subprocess
import tarfile
import gzip
from pathlib import Path

import pytest
import requests
from requests.adapters import HTTPAdapter
from websockets.sync.client import connect as ws_connect

from support.frontdesk_proc import FrontdeskServer, frontdesk_bin, frontdesk_server
from support.inbox import Spool, add_user, console

SOURCE = "127.77.88.99"


def cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(frontdesk_bin()), *args, "--data-dir", str(data_dir)], capture_output=True, timeout=120)


def seed_contact(server: FrontdeskServer, email: str, name: str, session: requests.Session | None = None) -> None:
    s = session or requests
    r = s.post(server.url("/api/v1/contact"), json={"name": name, "email": email, "message": f"Hello from {name}."}, timeout=10)
    assert r.status_code in (200, 201, 202), r.text


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    root = tmp_path_factory.mktemp("privacy")
    add_user(root / "data")
    with frontdesk_server(root, extra_args=["--log-level", "info", "--rate-limit", "off"]) as srv:
        yield srv
    assert srv.exit_code == 0, srv.log_tail()


def test_visitor_access_request_confirmed_by_mail_answered_by_a_single_use_link(live: FrontdeskServer) -> None:
    spool = Spool(live.data_dir)
    seed_contact(live, "vera.visitor@example.com", "Vera Visitor")
    r = requests.post(live.url("/api/v1/privacy/requests"), json={"kind": "access", "email": "vera.visitor@example.com"}, timeout=10)
    assert r.status_code == 202 and r.json() == {"status": "confirmation_sent"}
    # A request nobody confirms does nothing.
    r = requests.post(live.url("/api/v1/privacy/requests"), json={"kind": "erasure", "email": "never.confirms@example.com"}, timeout=10)
    assert r.status_code == 202
    bad = requests.post(live.url("/api/v1/privacy/requests"), json={"kind": "copy", "email": "not-an-address"}, timeout=10)
    assert bad.status_code == 422 and {"kind", "email"} <= set(bad.json()["error"]["details"])

    mail = spool.wait_for(lambda m: m["To"] == "vera.visitor@example.com" and "Confirm your request" in m["Subject"])
    link = Spool.link(mail, r"/api/v1/privacy/requests/confirm\?token=")
    admin = console(live)
    statuses = {i["email"]: i for i in admin.get(live.url("/api/v1/admin/privacy/requests"), timeout=10).json()["items"]}
    assert statuses["vera.visitor@example.com"]["status"] == "unconfirmed"
    # Opening the link shows a page; only its POST confirms (a mail scanner confirms nothing).
    page = requests.get(link, timeout=10)
    assert page.status_code == 200 and 'action="/api/v1/privacy/requests/confirm"' in page.text
    statuses = {i["email"]: i for i in admin.get(live.url("/api/v1/admin/privacy/requests"), timeout=10).json()["items"]}
    assert statuses["vera.visitor@example.com"]["status"] == "unconfirmed"
    token = re.search(r"token=([A-Za-z0-9_-]+)", link).group(1)
    confirmed = requests.post(live.url("/api/v1/privacy/requests/confirm"), data={"token": token}, timeout=10)
    assert confirmed.status_code == 200 and "Your request is confirmed" in confirmed.text
    items = admin.get(live.url("/api/v1/admin/privacy/requests"), timeout=10).json()["items"]
    vera = next(i for i in items if i["email"] == "vera.visitor@example.com")
    assert vera["status"] == "confirmed" and vera["dueAt"] > vera["createdAt"] and vera["overdue"] is False
    never = next(i for i in items if i["email"] == "never.confirms@example.com")
    # Approving an unconfirmed request is refused.
    assert admin.post(live.url(f"/api/v1/admin/privacy/requests/{never['id']}/approve"), timeout=10).status_code == 409

    approved = admin.post(live.url(f"/api/v1/admin/privacy/requests/{vera['id']}/approve"), timeout=10)
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    ready = spool.wait_for(lambda m: m["To"] == "vera.visitor@example.com" and "is ready" in m["Subject"])
    download_link = Spool.link(ready, r"/api/v1/privacy/downloads\?token=")
    download_token = re.search(r"token=([A-Za-z0-9_-]+)", download_link).group(1)
    assert requests.get(download_link, timeout=10).status_code == 200  # the page; spends nothing
    export = requests.post(live.url("/api/v1/privacy/downloads"), json={"token": download_token}, timeout=10)
    assert export.status_code == 200 and "attachment" in export.headers["Content-Disposition"]
    document = export.json()
    contacts = document["data"]["inbox.contacts"]["contact_submissions"]
    assert [c["name"] for c in contacts] == ["Vera Visitor"]
    assert any(m["kind"] == "mail.spool" for m in document["manifest"])
    again = requests.post(live.url("/api/v1/privacy/downloads"), json={"token": download_token}, timeout=10)
    assert again.status_code == 404 and again.json()["error"]["code"] == "not_found"
    done = next(i for i in admin.get(live.url("/api/v1/admin/privacy/requests"), timeout=10).json()["items"] if i["id"] == vera["id"])
    assert done["status"] == "fulfilled"


def test_console_erasure_with_typed_confirmation_and_cli_export(live: FrontdeskServer, tmp_path: Path) -> None:
    seed_contact(live, "erin.erase@example.com", "Erin Erasable")
    seed_contact(live, "kim.keep@example.com", "Kim Keeper")
    out = tmp_path / "erin.json"
    # The CLI reads while the server runs.
    exported = cli("privacy", "export", "--email", "erin.erase@example.com", "--out", str(out), data_dir=live.data_dir)
    assert exported.returncode == 0, exported.stderr.decode()
    assert json.loads(out.read_text())["data"]["inbox.contacts"]["contact_submissions"][0]["name"] == "Erin Erasable"
    html = tmp_path / "erin.html"
    assert cli("privacy", "export", "--email", "erin.erase@example.com", "--out", str(html), data_dir=live.data_dir).returncode == 0
    assert "<h2>contact_submissions</h2>" in html.read_text() and "Erin Erasable" in html.read_text()
    # The CLI does not erase under a running server.
    refused = cli("privacy", "erase", "--email", "erin.erase@example.com", data_dir=live.data_dir)
    assert refused.returncode == 1 and "running" in refused.stderr.decode()
    backup = cli("backup", data_dir=live.data_dir)
    assert backup.returncode == 0, backup.stderr.decode()

    admin = console(live)
    preview = admin.post(live.url("/api/v1/admin/privacy/search"), json={"kind": "email", "value": "erin.erase@example.com"}, timeout=10).json()
    assert next(m for m in preview["manifest"] if m["kind"] == "inbox.contacts")["rows"] == 1
    wrong = admin.post(live.url("/api/v1/admin/privacy/erasures"), json={"kind": "email", "value": "erin.erase@example.com", "confirm": "erin@example.com"}, timeout=10)
    assert wrong.status_code == 422 and "confirm" in wrong.json()["error"]["details"]
    dry = admin.post(live.url("/api/v1/admin/privacy/erasures"), json={"kind": "email", "value": "erin.erase@example.com", "dryRun": True}, timeout=10).json()
    assert dry["dryRun"] is True and dry["counts"]["inbox.contacts/contact_submissions"] == 1
    erased = admin.post(live.url("/api/v1/admin/privacy/erasures"), json={"kind": "email", "value": "erin.erase@example.com", "confirm": "erin.erase@example.com"}, timeout=10)
    assert erased.status_code == 200, erased.text
    assert erased.json()["counts"]["inbox.contacts/contact_submissions"] == 1 and erased.json()["erasureId"] > 0
    after = cli("privacy", "export", "--email", "erin.erase@example.com", data_dir=live.data_dir)
    assert json.loads(after.stdout)["manifest"] and all(m["rows"] == 0 for m in json.loads(after.stdout)["manifest"])
    kept = json.loads(cli("privacy", "export", "--email", "kim.keep@example.com", data_dir=live.data_dir).stdout)
    assert kept["data"]["inbox.contacts"]["contact_submissions"][0]["name"] == "Kim Keeper"
    log = admin.get(live.url("/api/v1/admin/privacy/erasures"), timeout=10).json()["items"]
    assert log[0]["counts"]["inbox.contacts/contact_submissions"] == 1 and "erin" not in json.dumps(log)
    # The backup taken before the erasure still holds Erin, and `backup --list` says so.
    listing = cli("backup", "--list", data_dir=live.data_dir)
    assert listing.returncode == 0 and "predates 1 erasure" in listing.stdout.decode(), listing.stdout.decode()


def test_record_of_processing_follows_the_configuration(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert cli("migrate", data_dir=data).returncode == 0
    default = cli("privacy", "record", data_dir=data).stdout.decode()
    assert "| `inbox.contacts` (contact_submissions) |" in default and "365 days (retention.contact_submissions_days)" in default
    config = tmp_path / "frontdesk.toml"
    config.write_text('[retention]\ncontact_submissions_days = 90\n')
    changed = subprocess.run([str(frontdesk_bin()), "privacy", "record", "--format", "html", "--config", str(config), "--data-dir", str(data)],
                             capture_output=True, timeout=60)
    assert changed.returncode == 0 and "90 days (retention.contact_submissions_days)" in changed.stdout.decode()
    assert changed.stdout.decode().startswith("<!doctype html>")


class SourceAddressAdapter(HTTPAdapter):
    """Sends every request from SOURCE, so the server sees that peer address."""

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (SOURCE, 0)
        super().init_poolmanager(*args, **kwargs)


def from_source() -> requests.Session:
    session = requests.Session()
    session.mount("http://", SourceAddressAdapter())
    return session


def files_containing(root: Path, needles: list[bytes]) -> list[str]:
    """Every file under `root` whose bytes (or, for a .tar.gz backup, whose members' bytes) hold a needle."""
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        blobs = [(str(path), path.read_bytes())]
        if path.name.endswith(".tar.gz"):
            with tarfile.open(path, "r:gz") as tar:
                blobs += [(f"{path}!{m.name}", tar.extractfile(m).read()) for m in tar.getmembers() if m.isfile()]
        elif path.name.endswith(".gz"):
            blobs.append((f"{path}!", gzip.decompress(path.read_bytes())))
        found += [name for name, blob in blobs if any(n in blob for n in needles)]
    return found


def test_no_raw_ip_address_on_disk(tmp_path: Path) -> None:
    data = tmp_path / "data"
    add_user(data)
    with frontdesk_server(tmp_path, extra_args=["--log-level", "debug", "--rate-limit", "off"]) as srv:
        s = from_source()
        base = srv.base_url.rstrip("/")
        assert s.get(srv.url("/healthz"), timeout=10).status_code == 200
        peer = s.get(srv.url("/api/v1/consent/config"), timeout=10)
        assert peer.status_code == 200
        seed_contact(srv, "ip.test@example.com", "Ipa Tester", session=s)
        assert s.post(srv.url("/api/v1/newsletter/subscriptions"), json={"email": "ip.test@example.com"}, timeout=10).status_code == 202
        ticket = s.post(srv.url("/api/v1/tickets"), json={"email": "ip.test@example.com", "subject": "IP", "description": "From a distinctive address."}, timeout=10)
        assert ticket.status_code == 201
        t = ticket.json()
        assert s.post(srv.url(f"/api/v1/tickets/{t['id']}/messages"), json={"body": "Me again."},
                      headers={"Authorization": "Bearer " + t["accessToken"]}, timeout=10).status_code in (200, 201)
        review = s.post(srv.url("/api/v1/reviews"), json={"rating": 4, "content": "From a distinctive address.", "name": "Ipa", "email": "ip.test@example.com"}, timeout=10)
        assert review.status_code == 201
        banner = s.get(srv.url("/api/v1/consent/config"), timeout=10).json()
        consent = s.post(srv.url("/api/v1/consents"), json={"action": "accept_all", "granted": ["necessary", "functional", "analytics", "marketing"],
                                                        "version": banner["version"], "hash": banner["hash"], "locale": "en"}, timeout=10)
        assert consent.status_code == 201
        events = {"events": [{"type": "pageview", "url": f"{base}/"}, {"type": "pageview", "url": f"{base}/shop", "visitor": "ipvisitor-123456"}]}
        assert s.post(srv.url("/api/v1/events"), json=events, headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0"}, timeout=10).status_code == 202
        assert s.post(srv.url("/api/v1/privacy/requests"), json={"kind": "access", "email": "ip.test@example.com"}, timeout=10).status_code == 202
        assert s.get(srv.url("/api/v1/faq"), timeout=10).status_code == 200
        assert s.get(srv.url("/widget.js"), timeout=10).status_code == 200
        # The console, signed in from the same address.
        admin = from_source()
        admin.headers["Origin"] = base
        signed = admin.post(srv.url("/api/v1/admin/session"), json={"email": "owner@example.com", "password": "correct horse battery staple"}, timeout=10)
        assert signed.status_code == 200
        admin.headers["X-CSRF-Token"] = signed.json()["csrfToken"]
        assert admin.get(srv.url("/api/v1/admin/privacy/requests"), timeout=10).status_code == 200
        # The chat socket from the same address: hello, a message, an address left offline.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((SOURCE, 0))
        sock.connect((srv.host, srv.port))
        with ws_connect(f"ws://{srv.host}:{srv.port}/api/v1/ws", sock=sock, open_timeout=10) as ws:
            def frame(kind, body):
                ws.send(json.dumps({"v": 1, "type": kind, "ref": kind, "data": body}))
            def wait(kind):
                while True:
                    message = json.loads(ws.recv(timeout=10))
                    if message.get("type") == kind:
                        return message.get("data", {})
            frame("hello", {})
            wait("welcome")
            frame("chat.send", {"clientMessageId": "ip-1", "text": "Hello from a distinctive address"})
            conversation = wait("chat.ack")["conversation"]["id"]
            frame("offline.leave_email", {"conversationId": conversation, "email": "ip.test@example.com"})
            wait("offline.ticket")
        Spool(data).wait_for(lambda m: "Confirm your request" in (m["Subject"] or ""))
        backup = cli("backup", data_dir=data)
        assert backup.returncode == 0, backup.stderr.decode()
    assert srv.exit_code == 0
    everything = [p for p in data.rglob("*") if p.is_file()]
    names = {p.name for p in everything}
    assert "frontdesk.sqlite" in names and "analytics.sqlite" in names and any(n.endswith(".eml") for n in names)
    assert any(n.endswith(".tar.gz") for n in names) and "sessions.snap" in names
    assert any(p.suffix in (".log", ".jsonl") or "log" in p.parent.name for p in everything), sorted(names)
    # The search can fail: the truncated network the design allows is there.
    assert files_containing(data, [b"127.77.88."]) != []
    assert files_containing(data, [SOURCE.encode(), socket.inet_aton(SOURCE), SOURCE.encode("utf-16-le")]) == []

"""The inbox through a live server: configured forms and their spam defences, idempotent
posts, newsletter double opt-in followed from the real mail in the spool, tickets and their
magic links, the admin lists and CSV, and mail delivery through SMTP (aiosmtpd) and sendmail."""

from __future__ import annotations

import concurrent.futures
import csv
import hashlib
import io
import sqlite3
import time
import uuid
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from support.frontdesk_proc import free_port, frontdesk_server
from support.inbox import Spool, add_user, console

CONFIG = """
[spam]
# Long enough that no test can be too slow for it: the fill-time check itself runs on a manual
# clock in the Swift suite; here a fresh token is always "too fast".
min_fill_seconds = 600

[newsletter]
topics = ["news:Company news", "offers:Special offers"]
consent_version = "2026-11"

[forms.quote]
title = "Ask for a quote"
fields = [
  { name = "company", label = "Company", required = true, max_length = 40 },
  { name = "phone", type = "tel", pattern = "[+0-9 ()-]{6,20}" },
  { name = "budget", type = "select", options = ["small", "large"] },
]
"""


class PageForm(HTMLParser):
    """The form of a server-rendered page, read the way a browser would submit it: its action, its
    fields, whether it is sent on load (and by which script), and its <noscript> button."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}
        self.submits_on_load = False
        self.script = ""
        self.noscript_button = False
        self._in_noscript = False

    @classmethod
    def parse(cls, html: str) -> "PageForm":
        form = cls()
        form.feed(html)
        assert form.action, f"no form on the page:\n{html}"
        return form

    def handle_starttag(self, tag, attrs) -> None:
        a = dict(attrs)
        if tag == "form":
            assert (a.get("method") or "").lower() == "post"
            self.action = a.get("action") or ""
            self.submits_on_load = "data-submit-on-load" in a
        elif tag == "input" and a.get("name"):
            self.fields[a["name"]] = a.get("value") or ""
        elif tag == "script":
            self.script = a.get("src") or "inline"
        elif tag == "noscript":
            self._in_noscript = True
        elif tag == "button" and self._in_noscript:
            self.noscript_button = True

    def handle_endtag(self, tag) -> None:
        if tag == "noscript":
            self._in_noscript = False


def write_config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "frontdesk.toml"
    path.write_text(CONFIG + extra)
    return path


def form_token(server, form: str = "contact") -> str:
    r = requests.get(server.url(f"/api/v1/forms/{form}"), timeout=5)
    assert r.status_code == 200, r.text
    return r.json()["formToken"]


def contact(server, **fields) -> requests.Response:
    headers = fields.pop("headers", {})
    return requests.post(server.url("/api/v1/contact"), json=fields, headers=headers, timeout=10)


@pytest.fixture()
def inbox(tmp_path: Path):
    """A server with an admin (owner@example.com) and an agent, the test config, rate limits off."""
    data = tmp_path / "srv" / "data"
    add_user(data, "owner@example.com", "admin")
    add_user(data, "agent@example.com", "agent")
    config = write_config(tmp_path)
    with frontdesk_server(tmp_path / "srv", extra_args=["--config", str(config), "--rate-limit", "off"]) as server:
        yield server
    assert server.exit_code == 0, server.log_tail()


def test_configured_form_validates_every_field_and_notifies_the_owner(inbox) -> None:
    server = inbox
    spec = requests.get(server.url("/api/v1/forms/quote"), timeout=5).json()
    assert [f["name"] for f in spec["fields"]] == ["company", "phone", "budget"]
    assert spec["fields"][2]["options"] == ["small", "large"] and spec["honeypotField"] == "website"

    bad = contact(server, form="quote", name="Ann", email="not-an-address", message="",
                  fields={"phone": "call me", "budget": "huge", "colour": "red"})
    assert bad.status_code == 422
    details = bad.json()["error"]["details"]
    assert set(details) == {"email", "message", "fields.company", "fields.phone", "fields.budget", "fields.colour"}, details

    # No form token (not required by default), so the minimum fill time does not apply.
    ok = contact(server, form="quote", name="Ann Lee", email="ann@example.com", message="A quote for 40 chairs, please.",
                 fields={"company": "Acme", "phone": "+49 30 1234567", "budget": "large"})
    assert ok.status_code == 201, ok.text

    admin = console(server)
    listed = admin.get(server.url("/api/v1/admin/contact-submissions"), params={"form": "quote"}, timeout=5).json()
    assert listed["total"] == 1
    assert listed["items"][0]["fields"] == {"company": "Acme", "phone": "+49 30 1234567", "budget": "large"}

    # No owner address configured: every admin is notified, and a reply goes to the visitor.
    mail = Spool(server.data_dir).wait_for(lambda m: "owner@example.com" in m["To"])
    assert "ann@example.com" in mail["Reply-To"]
    assert "A quote for 40 chairs" in Spool.text(mail) and "Acme" in Spool.text(mail)


def test_spam_defences(inbox) -> None:
    server = inbox
    admin = console(server)
    count = lambda: admin.get(server.url("/api/v1/admin/contact-submissions"), timeout=5).json()["total"]

    # A bot that fills the honeypot is told it worked, and nothing is stored.
    trap = contact(server, name="Bot", email="bot@example.com", message="buy now", website="http://spam.example")
    assert trap.status_code == 201 and trap.json()["status"] == "new"
    assert count() == 0

    # Sent sooner than the minimum fill time after the form was shown.
    fast = contact(server, name="Quick", email="q@example.com", message="hi", formToken=form_token(server))
    assert fast.status_code == 422 and fast.json()["error"]["code"] == "submitted_too_fast"
    assert "formToken" in fast.json()["error"]["details"]

    forged = contact(server, name="F", email="f@example.com", message="hi", formToken="v1.contact.1.deadbeef")
    assert forged.status_code == 422 and "formToken" in forged.json()["error"]["details"]
    # The form is checked before the fill time, so a fresh token of another form is refused for that.
    other_form = form_token(server, "quote")
    wrong = contact(server, name="F", email="f@example.com", message="hi", formToken=other_form)
    assert wrong.status_code == 422 and "another form" in wrong.json()["error"]["details"]["formToken"]
    assert count() == 0


def test_proof_of_work_is_required_single_use_and_checked(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    config.write_text(config.read_text().replace("min_fill_seconds = 600", "min_fill_seconds = 0\nproof_of_work = true\nproof_of_work_max_number = 5000"))
    with frontdesk_server(tmp_path / "srv", extra_args=["--config", str(config), "--rate-limit", "off"]) as server:
        missing = contact(server, name="A", email="a@example.com", message="hi")
        assert missing.status_code == 422 and missing.json()["error"]["code"] == "proof_of_work_failed"

        puzzle = requests.get(server.url("/api/v1/forms/contact"), timeout=5).json()["proofOfWork"]
        assert puzzle["algorithm"] == "SHA-256" and puzzle["maxNumber"] == 5000
        number = next(n for n in range(puzzle["maxNumber"] + 1)
                      if hashlib.sha256(f"{puzzle['salt']}{n}".encode()).hexdigest() == puzzle["challenge"])
        solution = {"salt": puzzle["salt"], "challenge": puzzle["challenge"], "signature": puzzle["signature"], "number": number}

        wrong = contact(server, name="A", email="a@example.com", message="hi", proofOfWork={**solution, "number": number + 1})
        assert wrong.status_code == 422 and "wrong" in wrong.json()["error"]["details"]["proofOfWork"]
        ok = contact(server, name="A", email="a@example.com", message="hi", proofOfWork=solution)
        assert ok.status_code == 201, ok.text
        again = contact(server, name="A", email="a@example.com", message="hi again", proofOfWork=solution)
        assert again.status_code == 422 and "already used" in again.json()["error"]["details"]["proofOfWork"]
    assert server.exit_code == 0


def test_idempotency_key_stores_once(inbox) -> None:
    server = inbox
    key = str(uuid.uuid4())
    body = {"name": "Ann", "email": "ann@example.com", "message": "only once"}
    first = contact(server, headers={"Idempotency-Key": key}, **body)
    second = contact(server, headers={"Idempotency-Key": key}, **body)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json() and second.headers.get("Idempotency-Replayed") == "true"

    reused = contact(server, headers={"Idempotency-Key": key}, **{**body, "message": "something else"})
    assert reused.status_code == 422 and reused.json()["error"]["code"] == "idempotency_key_reused"

    # The same key raced from eight connections still stores one row, and all get its id.
    raced = str(uuid.uuid4())
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: contact(server, headers={"Idempotency-Key": raced}, name="B", email="b@example.com", message="race"), range(8)))
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1

    admin = console(server)
    assert admin.get(server.url("/api/v1/admin/contact-submissions"), timeout=5).json()["total"] == 2


def test_newsletter_double_opt_in_from_the_real_mail(inbox) -> None:
    server = inbox
    spool = Spool(server.data_dir)
    signup = requests.post(server.url("/api/v1/newsletter/subscriptions"),
                           json={"email": "reader@example.com", "topics": ["news"]}, timeout=5)
    assert signup.status_code == 202 and signup.json() == {"status": "pending"}
    bad_topic = requests.post(server.url("/api/v1/newsletter/subscriptions"), json={"email": "x@example.com", "topics": ["sports"]}, timeout=5)
    assert bad_topic.status_code == 422 and "topics" in bad_topic.json()["error"]["details"]

    mail = spool.wait_for(lambda m: m["To"] == "reader@example.com")
    # RFC 8058 one-click unsubscribe on the mail itself.
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe_url = mail["List-Unsubscribe"].strip("<>")
    confirm_url = Spool.link(mail, r"/api/v1/newsletter/confirm\?token=")

    # Signing up again while pending does not send a second mail within the resend window: once a
    # mail queued after it is out (the outbox sends in order), no second one to the reader came.
    requests.post(server.url("/api/v1/newsletter/subscriptions"), json={"email": "reader@example.com"}, timeout=5)
    marker = requests.post(server.url("/api/v1/tickets"), json={"email": "marker@example.com", "subject": "m", "description": "m"}, timeout=5)
    assert marker.status_code == 201
    spool.wait_for(lambda m: m["To"] == "marker@example.com")
    assert len([m for m in spool.messages() if m["To"] == "reader@example.com"]) == 1

    admin = console(server)
    listed = admin.get(server.url("/api/v1/admin/newsletter/subscribers"), timeout=5).json()
    assert listed["counts"]["pending"] == 1 and listed["items"][0]["status"] == "pending"

    # A bare GET of the link, as a mail scanner prefetching it does (with the page's script, which
    # a scanner fetches but does not run), confirms nothing.
    page = requests.get(confirm_url, timeout=5)
    assert page.status_code == 200 and "You are subscribed" not in page.text
    form = PageForm.parse(page.text)
    assert form.submits_on_load and form.script == "/static/submit-on-load.js" and form.noscript_button
    script = requests.get(server.url(form.script), timeout=5)
    assert script.status_code == 200 and "form[data-submit-on-load]" in script.text and "submit()" in script.text
    assert "'unsafe-inline'" not in page.headers["Content-Security-Policy"]  # so the script must be that file
    listed = admin.get(server.url("/api/v1/admin/newsletter/subscribers"), timeout=5).json()
    assert listed["counts"] == {"pending": 1, "confirmed": 0, "unsubscribed": 0}

    # Still one click for a person: the page's script sends its form on load, and that POST confirms.
    confirmed = requests.post(server.url(form.action), data=form.fields, timeout=5)
    assert confirmed.status_code == 200 and "You are subscribed" in confirmed.text
    row = admin.get(server.url("/api/v1/admin/newsletter/subscribers"), params={"status": "confirmed"}, timeout=5).json()["items"][0]
    assert row["email"] == "reader@example.com" and row["topics"] == ["news"]
    assert row["consentVersion"] == "2026-11" and row["confirmedAt"] and row["subscribedAt"]

    # Opening the unsubscribe link (a GET, as a mail scanner does) changes nothing …
    assert "Unsubscribe" in requests.get(unsubscribe_url, timeout=5).text
    assert admin.get(server.url("/api/v1/admin/newsletter/subscribers"), params={"status": "confirmed"}, timeout=5).json()["total"] == 1
    # … the mail client's RFC 8058 POST does.
    one_click = requests.post(unsubscribe_url, data={"List-Unsubscribe": "One-Click"}, timeout=5)
    assert one_click.status_code == 200, one_click.text
    counts = admin.get(server.url("/api/v1/admin/newsletter/subscribers"), timeout=5).json()["counts"]
    assert counts == {"pending": 0, "confirmed": 0, "unsubscribed": 1}
    # An old confirmation link does not bring the address back.
    assert "unsubscribed" in requests.get(confirm_url, timeout=5).text
    assert "unsubscribed" in requests.post(server.url(form.action), data=form.fields, timeout=5).text
    assert admin.get(server.url("/api/v1/admin/newsletter/subscribers"), timeout=5).json()["counts"]["unsubscribed"] == 1


def test_ticket_magic_link_thread_and_agent_reply_by_mail(inbox) -> None:
    server = inbox
    spool = Spool(server.data_dir)
    opened = requests.post(server.url("/api/v1/tickets"), json={
        "email": "cy@example.com", "name": "Cy", "subject": "Oven is cold", "description": "It does not heat.", "priority": "high"}, timeout=5)
    assert opened.status_code == 201, opened.text
    ticket = opened.json()
    assert ticket["status"] == "open" and ticket["priority"] == "high"

    mail = spool.wait_for(lambda m: m["To"] == "cy@example.com")
    link = Spool.link(mail, r"/ticket\?id=")
    parts = urlsplit(link)
    assert parse_qs(parts.query)["id"] == [str(ticket["id"])]
    token = parts.fragment.removeprefix("token=")
    assert token == ticket["accessToken"]

    view = lambda t: requests.get(server.url(f"/api/v1/tickets/{ticket['id']}"), headers={"Authorization": f"Bearer {t}"}, timeout=5)
    assert view(token).status_code == 200
    assert view(token[:-2] + "xx").status_code == 404
    assert requests.get(server.url(f"/api/v1/tickets/{ticket['id']}"), timeout=5).status_code == 401

    agent = console(server, "agent@example.com")
    note = agent.post(server.url(f"/api/v1/admin/tickets/{ticket['id']}/messages"), json={"body": "Customer sounds upset", "internal": True}, timeout=5)
    assert note.status_code == 201
    reply = agent.post(server.url(f"/api/v1/admin/tickets/{ticket['id']}/messages"), json={"body": "Please check the fuse first."}, timeout=5)
    assert reply.status_code == 201
    detail = agent.get(server.url(f"/api/v1/admin/tickets/{ticket['id']}"), timeout=5).json()
    assert detail["status"] == "in-progress" and detail["firstResponseAt"] and len(detail["messages"]) == 2

    reply_mail = spool.wait_for(lambda m: m["To"] == "cy@example.com" and "fuse" in Spool.text(m))
    assert Spool.link(reply_mail, r"/ticket\?id=") == link
    assert "upset" not in Spool.text(reply_mail)

    customer = view(token).json()
    assert [m["body"] for m in customer["messages"]] == ["Please check the fuse first."]  # never the internal note

    me = agent.get(server.url("/api/v1/admin/session"), timeout=5).json()["user"]["id"]
    resolved = agent.patch(server.url(f"/api/v1/admin/tickets/{ticket['id']}"), json={"status": "resolved", "assigneeId": me}, timeout=5).json()
    assert resolved["status"] == "resolved" and resolved["resolvedAt"] and resolved["assigneeId"] == me
    assert agent.get(server.url("/api/v1/admin/tickets"), params={"assignee": "me"}, timeout=5).json()["total"] == 1

    answer = requests.post(server.url(f"/api/v1/tickets/{ticket['id']}/messages"), headers={"Authorization": f"Bearer {token}"},
                           json={"body": "Fuse was fine, still cold."}, timeout=5)
    assert answer.status_code == 201
    assert view(token).json()["status"] == "open"  # a customer reply reopens


def test_admin_lists_csv_export_import_and_roles(inbox) -> None:
    server = inbox
    for i in range(30):
        assert contact(server, name=f"Visitor {i:02d}", email=f"v{i}@example.com", message=f"message {i}",
                       subject="Order" if i % 3 == 0 else "Question").status_code == 201
    admin = console(server)
    page2 = admin.get(server.url("/api/v1/admin/contact-submissions"), params={"perPage": 10, "page": 2, "sort": "name"}, timeout=5).json()
    assert page2["total"] == 30 and [i["name"] for i in page2["items"]] == [f"Visitor {i:02d}" for i in range(10, 20)]
    searched = admin.get(server.url("/api/v1/admin/contact-submissions"), params={"q": "Order", "perPage": 100}, timeout=5).json()
    assert searched["total"] == 10

    first = searched["items"][0]["id"]
    assert admin.patch(server.url(f"/api/v1/admin/contact-submissions/{first}"), json={"status": "processed"}, timeout=5).json()["processedAt"]
    ticket = admin.post(server.url(f"/api/v1/admin/contact-submissions/{searched['items'][1]['id']}/ticket"), timeout=5)
    assert ticket.status_code == 201 and ticket.json()["source"] == "contact"

    new_ones = admin.get(server.url("/api/v1/admin/contact-submissions"), params={"status": "new", "q": "Order", "perPage": 100}, timeout=5).json()
    export = admin.get(server.url("/api/v1/admin/contact-submissions/export"), params={"status": "new", "q": "Order"}, timeout=5)
    assert export.status_code == 200 and export.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in export.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert sorted(int(r["id"]) for r in rows) == sorted(i["id"] for i in new_ones["items"])
    assert len(rows) == 8

    bad_query = admin.get(server.url("/api/v1/admin/contact-submissions"), params={"perPage": 1000, "sort": "colour"}, timeout=5)
    assert bad_query.status_code == 422 and set(bad_query.json()["error"]["details"]) == {"perPage", "sort"}

    # Import: pending (with a confirmation mail) unless the owner vouches with confirmed=true.
    csv_body = "email,name,topics\nann@example.com,Ann,news\nnot-an-address,Bad,\nbob@example.com,Bob,news;offers\n"
    pending = admin.post(server.url("/api/v1/admin/newsletter/subscribers/import"), data=csv_body,
                         headers={"Content-Type": "text/csv"}, timeout=10).json()
    assert pending["imported"] == 2 and pending["errors"][0]["line"] == 3
    vouched = admin.post(server.url("/api/v1/admin/newsletter/subscribers/import?confirmed=true"),
                         data="carl@example.com,Carl\nann@example.com,Ann\n", headers={"Content-Type": "text/csv"}, timeout=10).json()
    assert vouched["imported"] == 1 and vouched["skipped"] == 1
    counts = admin.get(server.url("/api/v1/admin/newsletter/subscribers"), timeout=5).json()["counts"]
    assert counts["pending"] == 2 and counts["confirmed"] == 1
    Spool(server.data_dir).wait_for(lambda m: m["To"] == "bob@example.com")
    export = admin.get(server.url("/api/v1/admin/newsletter/subscribers/export"), params={"status": "pending"}, timeout=5)
    assert sorted(r["email"] for r in csv.DictReader(io.StringIO(export.text))) == ["ann@example.com", "bob@example.com"]

    # An agent works the inbox but cannot manage users; nobody signed out gets anything.
    agent = console(server, "agent@example.com")
    assert agent.get(server.url("/api/v1/admin/tickets"), timeout=5).status_code == 200
    assert agent.get(server.url("/api/v1/admin/users"), timeout=5).status_code == 403
    assert requests.get(server.url("/api/v1/admin/contact-submissions"), timeout=5).status_code == 401
    # State changes need the CSRF token.
    no_csrf = requests.patch(server.url(f"/api/v1/admin/contact-submissions/{first}"), json={"status": "new"},
                             cookies=agent.cookies, headers={"Origin": agent.headers["Origin"]}, timeout=5)
    assert no_csrf.status_code == 403


def test_smtp_retries_a_flaky_server_and_dead_letters_a_rejection(tmp_path: Path) -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import Envelope

    class FlakyRelay:
        """Says 451 to the first two deliveries, then accepts; refuses one mailbox outright."""

        def __init__(self) -> None:
            self.attempts = 0
            self.accepted: list[Envelope] = []

        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if address == "nobody@example.com":
                return "550 5.1.1 No such mailbox"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            self.attempts += 1
            if self.attempts <= 2:
                return "451 4.3.0 Try again later"
            self.accepted.append(envelope)
            return "250 2.0.0 Queued"

    relay = FlakyRelay()
    port = free_port()
    controller = Controller(relay, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        config = write_config(tmp_path, f"""
[mail]
transport = "smtp"
smtp_host = "127.0.0.1"
smtp_port = {port}
smtp_tls = "none"
from_address = "desk@example.com"
retry_base_seconds = 1
""")
        data = tmp_path / "srv" / "data"
        add_user(data)
        with frontdesk_server(tmp_path / "srv", extra_args=["--config", str(config), "--rate-limit", "off"]) as server:
            ok = requests.post(server.url("/api/v1/tickets"), json={"email": "cy@example.com", "subject": "Hi", "description": "x"}, timeout=5)
            assert ok.status_code == 201
            deadline = time.monotonic() + 30
            while not relay.accepted and time.monotonic() < deadline:
                time.sleep(0.1)
            assert relay.accepted, f"never delivered; attempts={relay.attempts}\n{server.log_tail()}"
            assert relay.attempts == 3
            message = relay.accepted[0]
            assert message.rcpt_tos == ["cy@example.com"] and message.mail_from == "desk@example.com"
            assert b"/ticket?id=" in message.content

            rejected = requests.post(server.url("/api/v1/tickets"), json={"email": "nobody@example.com", "subject": "Hi", "description": "x"}, timeout=5)
            assert rejected.status_code == 201  # the ticket is stored; only its mail fails
            admin = console(server)
            deadline = time.monotonic() + 20
            dead = {}
            while time.monotonic() < deadline:
                dead = admin.get(server.url("/api/v1/admin/mail"), params={"status": "dead"}, timeout=5).json()
                if dead["total"]:
                    break
                time.sleep(0.1)
            assert dead["total"] == 1 and dead["items"][0]["to"] == "nobody@example.com"
            assert "550" in dead["items"][0]["lastError"]
            sent = admin.get(server.url("/api/v1/admin/mail"), params={"status": "sent"}, timeout=5).json()
            assert sent["items"][0]["attempts"] == 3
        assert server.exit_code == 0
    finally:
        controller.stop()


def test_sendmail_delivery_through_a_real_binary(tmp_path: Path) -> None:
    outbox = tmp_path / "delivered"
    outbox.mkdir()
    script = tmp_path / "fake-sendmail"
    script.write_text(f"""#!/bin/sh
# A sendmail-compatible program: records its arguments and the message it reads on stdin.
n=$(ls {outbox} | wc -l)
printf '%s\\n' "$@" > {outbox}/$n.args
cat > {outbox}/$n.part && mv {outbox}/$n.part {outbox}/$n.eml
""")
    script.chmod(0o755)
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "newsletter_confirmation.subject.mustache").write_text("Please confirm your {{site_name}} sign-up")
    config = write_config(tmp_path, f"""
[site]
name = "Lakeside Bakery"

[mail]
transport = "sendmail"
sendmail_path = "{script}"
from_address = "desk@example.com"
templates_dir = "{templates}"
""")
    with frontdesk_server(tmp_path / "srv", extra_args=["--config", str(config), "--rate-limit", "off"]) as server:
        requests.post(server.url("/api/v1/newsletter/subscriptions"), json={"email": "reader@example.com"}, timeout=5)
        deadline = time.monotonic() + 15
        while not list(outbox.glob("*.eml")) and time.monotonic() < deadline:
            time.sleep(0.05)
    emls = list(outbox.glob("*.eml"))
    assert len(emls) == 1, server.log_tail()
    args = (outbox / "0.args").read_text().split("\n")
    assert "reader@example.com" in args and "-f" in args or "desk@example.com" in " ".join(args), args
    assert b"Subject: Please confirm your Lakeside Bakery sign-up" in emls[0].read_bytes()  # the owner's own template
    assert b"/api/v1/newsletter/confirm?token=" in emls[0].read_bytes().replace(b"=\r\n", b"").replace(b"=\n", b"").replace(b"=3D", b"=")


def test_kill_9_under_64_writers_keeps_every_acknowledged_submission(tmp_path: Path) -> None:
    import os
    import signal
    import threading

    acknowledged: list[int] = []
    lock = threading.Lock()
    stop = threading.Event()
    with frontdesk_server(tmp_path / "srv", extra_args=["--rate-limit", "off"]) as server:
        url = server.url("/api/v1/contact")

        def writer(n: int) -> None:
            session = requests.Session()
            i = 0
            while not stop.is_set():
                try:
                    r = session.post(url, json={"name": f"W{n}", "email": f"w{n}@example.com", "message": f"{n}-{i}"}, timeout=5)
                except requests.RequestException:
                    return  # the server is gone
                if r.status_code == 201:
                    with lock:
                        acknowledged.append(r.json()["id"])
                i += 1

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(64)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 10
        while len(acknowledged) < 500 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(server.proc.pid, signal.SIGKILL)
        server.proc.wait(timeout=10)
        stop.set()
        for t in threads:
            t.join(timeout=10)
    acked = set(acknowledged)
    assert len(acked) >= 500, f"only {len(acked)} acknowledged before the kill"

    database = tmp_path / "srv" / "data" / "frontdesk.sqlite"
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {row[0] for row in db.execute("SELECT id FROM contact_submissions")}
    missing = acked - stored
    assert not missing, f"{len(missing)} of {len(acked)} acknowledged submissions lost: {sorted(missing)[:10]}"

    # And the server starts again on the same data.
    with frontdesk_server(tmp_path / "srv") as again:
        assert requests.get(again.url("/readyz"), timeout=5).status_code == 200
    assert again.exit_code == 0

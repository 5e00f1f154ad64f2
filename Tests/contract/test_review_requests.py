"""Review requests through a live server: a ticket resolved in the console brings the customer a
mail with a single-use link; the /review page it opens is served; a review sent with the link's
token is verified, and the link does not work twice."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import requests

from support.frontdesk_proc import frontdesk_server
from support.inbox import Spool, add_user, console

CONFIG = """
[reviews]
request_after = "tickets"
request_delay_minutes = 0
request_check_seconds = 1
notify_owner = false
"""


def test_resolved_ticket_mails_a_single_use_verified_review_link(tmp_path: Path) -> None:
    data = tmp_path / "srv" / "data"
    add_user(data, "agent@example.com", "agent")
    config = tmp_path / "frontdesk.toml"
    config.write_text(CONFIG)
    with frontdesk_server(tmp_path / "srv", extra_args=["--config", str(config), "--rate-limit", "off"]) as server:
        spool = Spool(server.data_dir)
        opened = requests.post(server.url("/api/v1/tickets"), json={
            "email": "noor@example.com", "name": "Noor", "subject": "Late parcel", "description": "Where is it?"}, timeout=5)
        assert opened.status_code == 201, opened.text
        ticket = opened.json()["id"]
        agent = console(server, "agent@example.com")
        resolved = agent.patch(server.url(f"/api/v1/admin/tickets/{ticket}"), json={"status": "resolved"}, timeout=5)
        assert resolved.status_code == 200, resolved.text

        mail = spool.wait_for(lambda m: "noor@example.com" in m["To"] and "/review#review=" in Spool.text(m))
        assert "Late parcel" in Spool.text(mail)
        link = Spool.link(mail, r"/review#review=")
        parts = urlsplit(link)
        token = parts.fragment.removeprefix("review=")
        page = requests.get(server.url(parts.path), timeout=5)
        assert page.status_code == 200 and "<frontdesk-reviews>" in page.text

        review = {"rating": 5, "content": "Found and sent the next day.", "name": "Noor", "requestToken": token}
        created = requests.post(server.url("/api/v1/reviews"), json=review, timeout=5)
        assert created.status_code == 201, created.text
        assert created.json()["verified"] is True
        again = requests.post(server.url("/api/v1/reviews"), json={**review, "content": "Once more."}, timeout=5)
        assert again.status_code == 422
        assert "used already" in again.json()["error"]["details"]["requestToken"]
        # Asked once: no second request mail for the same ticket however many passes run.
        assert len([m for m in spool.messages() if "/review#review=" in Spool.text(m)]) == 1
    assert server.exit_code == 0, server.log_tail()

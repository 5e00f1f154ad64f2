"""Review requests end to end in real Chromium: a ticket resolved in the console, the request mail
through the real mail spool, its single-use link opened in the browser on Frontdesk's own review
page, a review written there and stored as verified, and the same link refused the second time
with a message the customer can read."""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import pytest
from selenium.webdriver.common.by import By

from support.frontdesk_proc import FrontdeskServer
from support.inbox import Spool
from console_support import ADMIN, ConsoleAPI, add_user, submit_ticket
from widget_support import fill, inner, shadow, wait_for


@pytest.fixture
def review_server(tmp_path: Path, artifacts_dir: Path) -> Iterator[FrontdeskServer]:
    # Asked right after the resolve (no delay), looked for every second.
    server = FrontdeskServer(tmp_path / "data", log_path=tmp_path / "server.log", extra_args=["--rate-limit", "off"],
                             env={"FRONTDESK_REVIEWS_REQUEST_AFTER": "tickets", "FRONTDESK_REVIEWS_REQUEST_DELAY_MINUTES": "0",
                                  "FRONTDESK_REVIEWS_REQUEST_CHECK_SECONDS": "1"}).start()
    try:
        add_user(server, ADMIN)
        yield server
    finally:
        code = server.stop()
        shutil.copyfile(server.log_path, artifacts_dir / "review-request-server.log")
    assert code == 0, f"SIGTERM gave exit code {code}\n{server.log_tail()}"


def write_review(driver, page: str, text: str) -> object:
    """Opens the link (a fresh page load, as from the mail) and writes a five-star review; returns
    the form's shadow root."""
    driver.get("about:blank")
    driver.get(page)
    root = shadow(driver, "frontdesk-reviews", "form textarea")
    root.find_elements(By.CSS_SELECTOR, "input[name=rating]")[4].click()
    fill(root, {"content": text, "name": "Tess"})
    inner(root, "form button[type=submit]").click()
    return root


def test_review_request_mail_after_a_resolved_ticket_writes_one_verified_review(review_server, driver, artifacts_dir) -> None:
    tag = uuid.uuid4().hex[:8]
    customer = f"tess-{tag}@example.com"
    ticket = submit_ticket(review_server, email=customer, name="Tess Customer", subject=f"Birthday cake order {tag}",
                           description="Can I order a cake for Saturday?", priority="medium")
    owner = ConsoleAPI(review_server, ADMIN["email"], ADMIN["password"])
    assert owner.patch(f"/api/v1/admin/tickets/{ticket['id']}", json={"status": "resolved"}).status_code == 200

    # The request arrives through the durable outbox, once, naming the ticket.
    spool = Spool(review_server.data_dir)

    def is_request(m) -> bool:
        return customer in str(m["To"]).lower() and "How did we do?" in str(m["Subject"])

    message = spool.wait_for(is_request, timeout=30)
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert f"Birthday cake order {tag}" in text
    link = re.search(r"https?://\S+/review#review=[\w-]+", text)
    assert link, text
    parts = urlsplit(link.group(0))
    page = review_server.url(f"{parts.path}#{parts.fragment}")

    # The customer writes the review from the link: thanked, and stored pending but verified.
    content = f"The cake was the star of the party {tag}"
    root = write_review(driver, page, content)
    wait_for(driver, lambda d: "Thank you" in inner(root, "form").text, lambda: f"no thanks: {inner(root, 'form').text}", timeout=30)
    driver.save_screenshot(str(artifacts_dir / "review-request-written.png"))
    reviews = owner.get("/api/v1/admin/reviews", params={"status": "pending"}).json()["items"]
    mine = [r for r in reviews if r["content"] == content]
    assert len(mine) == 1 and mine[0]["verified"] is True and mine[0]["rating"] == 5, mine

    # The link writes one review: a second use is refused in words, and nothing more is stored.
    again = write_review(driver, page, content + " (again)")
    wait_for(driver, lambda d: "This review link was used already" in inner(again, "form").text, lambda: f"no refusal: {inner(again, 'form').text}", timeout=30)
    assert not inner(again, "form button[type=submit]").is_enabled(), "sending again is offered for a used link"
    reviews = owner.get("/api/v1/admin/reviews").json()["items"]
    assert [r["content"] for r in reviews if tag in r["content"]] == [content]
    assert len([m for m in spool.messages() if is_request(m)]) == 1, "the ticket was asked more than once"

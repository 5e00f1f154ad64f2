"""Stored XSS: what visitors type (naughty strings, `"><img src=x onerror=alert(1)>`) comes back
in every console screen as inert, verbatim text — no alert, no injected element."""

from __future__ import annotations

import unicodedata
import uuid

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from console_support import (  # noqa: F401  (fixtures are used by name)
    click, ADMIN, XSS_MARKER, api_available, assert_no_alert, assert_no_console_errors, console_server, injected_elements,
    naughty_strings, page_text, shots, sign_in, submit_many, wait_for, wait_text,
)


@pytest.fixture(scope="module")
def stored(console_server) -> dict:
    """Every naughty string sent through the contact form, the ticket form, a customer's ticket
    reply and a newsletter sign-up; returns the strings the server accepted, by channel."""
    if not api_available(console_server, "/api/v1/admin/tickets"):
        pytest.fail("/api/v1/admin/tickets answers 404: the inbox API is not routed")
    tag = uuid.uuid4().hex[:8]
    strings = naughty_strings()
    accepted: dict[str, list[str]] = {"contact": [], "ticket": [], "reply": [], "subscriber": []}

    def try_submit(form: str, payloads: list[dict]) -> list[dict | None]:
        # Submit one by one through the helper's batching, tolerating validation refusals.
        from console_support import PATHS, _form_extras
        import time
        prepared = [_form_extras(console_server, form) for _ in payloads]
        time.sleep(max((w for _, w in prepared), default=0) + 0.2)
        out = []
        for (extra, _), payload in zip(prepared, payloads):
            r = requests.post(console_server.url(PATHS[form]), json={**payload, **extra}, timeout=15)
            out.append(r.json() if r.status_code in (200, 201, 202) else None)
            assert r.status_code in (200, 201, 202, 422), f"{form}: {r.status_code} {r.text}"
        return out

    contacts = try_submit("contact", [
        {"name": s[:200], "email": f"xss{i}-{tag}@example.com", "subject": s, "message": f"{s}\nline two {tag}"} for i, s in enumerate(strings)
    ])
    accepted["contact"] = [s for s, r in zip(strings, contacts) if r]
    tickets = try_submit("ticket", [
        {"name": s[:200], "email": f"xss{i}-{tag}@example.com", "subject": s, "description": f"{s} {tag}"} for i, s in enumerate(strings)
    ])
    accepted["ticket"] = [s for s, r in zip(strings, tickets) if r]
    # The customer answers through the magic-link API with the marker.
    first = next(r for r in tickets if r)
    reply = requests.post(console_server.url(f"/api/v1/tickets/{first['id']}/messages"), json={"body": f"{XSS_MARKER} reply {tag}"},
                          headers={"Authorization": f"Bearer {first['accessToken']}"}, timeout=10)
    assert reply.status_code == 201, reply.text
    accepted["reply"] = [f"{XSS_MARKER} reply {tag}"]
    subs = try_submit("newsletter", [{"email": f"sub{i}-{tag}@example.com", "name": s[:200]} for i, s in enumerate(strings[:8])])
    accepted["subscriber"] = [s[:200] for s, r in zip(strings[:8], subs) if r]
    assert XSS_MARKER in accepted["contact"] and XSS_MARKER in accepted["ticket"], accepted
    return {"tag": tag, "accepted": accepted, "first_ticket": first["id"]}


def assert_inert_and_verbatim(driver, strings: list[str], where: str) -> None:
    assert_no_alert(driver)
    bad = injected_elements(driver)
    assert not bad, f"markup from visitor input became elements on {where}: {bad}"
    text = page_text(driver)
    missing = [s for s in strings if s not in text and unicodedata.normalize("NFC", s) not in unicodedata.normalize("NFC", text)]
    assert not missing, f"not shown verbatim on {where}: {missing}"


def test_naughty_strings_are_inert_text_in_the_inbox_list_and_every_detail(console_server, driver, shots, stored) -> None:
    tag = stored["tag"]
    sign_in(driver, console_server, ADMIN, f"/admin/inbox?type=contact&q={tag}")
    wait_text(driver, ".pager-range", f"of {len(stored['accepted']['contact'])}")
    assert_inert_and_verbatim(driver, stored["accepted"]["contact"], "the contact list")
    shots(driver, "xss-inbox")

    # Every contact's detail view.
    count = len(driver.find_elements(By.CSS_SELECTOR, "#inbox-list .row"))
    for index in range(count):
        rows = driver.find_elements(By.CSS_SELECTOR, "#inbox-list .row a")
        rows[index].click()
        key = driver.find_elements(By.CSS_SELECTOR, "#inbox-list .row")[index].get_attribute("data-key")
        WebDriverWait(driver, 10).until(lambda d: d.current_url.split("?")[0].endswith(key.replace("-", "/")))
        wait_for(driver, "#contact-message")
        subject = driver.find_element(By.ID, "contact-subject").text
        assert_inert_and_verbatim(driver, [], f"contact {key}")
        assert subject.strip(), key

    driver.get(console_server.url(f"/admin/inbox?type=ticket&q={tag}"))
    wait_text(driver, ".pager-range", f"of {len(stored['accepted']['ticket'])}")
    assert_inert_and_verbatim(driver, stored["accepted"]["ticket"], "the ticket list")
    count = len(driver.find_elements(By.CSS_SELECTOR, "#inbox-list .row"))
    for index in range(count):
        driver.find_elements(By.CSS_SELECTOR, "#inbox-list .row a")[index].click()
        key = driver.find_elements(By.CSS_SELECTOR, "#inbox-list .row")[index].get_attribute("data-key")
        WebDriverWait(driver, 10).until(lambda d: d.current_url.split("?")[0].endswith(key.replace("-", "/")))
        wait_for(driver, "#ticket-thread .msg")
        assert_inert_and_verbatim(driver, [], f"ticket {key}")

    driver.get(console_server.url(f"/admin/inbox/ticket/{stored['first_ticket']}"))
    wait_for(driver, "#ticket-thread .msg")
    assert_inert_and_verbatim(driver, stored["accepted"]["reply"], "the ticket thread with the customer's reply")
    shots(driver, "xss-ticket")
    assert_no_console_errors(driver, "inbox with naughty strings", console_server)


def test_naughty_strings_are_inert_text_in_each_detail_verbatim(console_server, driver, stored) -> None:
    """Each string, opened on its own, shows verbatim in the contact and the ticket view."""
    tag = stored["tag"]
    sign_in(driver, console_server, ADMIN, f"/admin/inbox?type=contact&q={tag}")
    for i, s in enumerate(naughty_strings()):
        for kind in ("contact", "ticket"):
            if s not in stored["accepted"][kind]:
                continue
            driver.get(console_server.url(f"/admin/inbox?type={kind}&q=xss{i}-{tag}@"))
            click(driver, "#inbox-list .row a")
            wait_for(driver, "#contact-message" if kind == "contact" else "#ticket-thread .msg")
            assert_inert_and_verbatim(driver, [s], f"{kind} with string #{i}")


def test_naughty_strings_are_inert_text_in_subscribers_and_outbox(console_server, driver, shots, stored) -> None:
    tag = stored["tag"]
    sign_in(driver, console_server, ADMIN, f"/admin/subscribers?q={tag}")
    wait_for(driver, "#subscriber-rows tr[data-id]")
    assert_inert_and_verbatim(driver, stored["accepted"]["subscriber"], "subscribers")

    # Mail subjects carry the ticket subjects.
    driver.get(console_server.url("/admin/outbox"))
    wait_for(driver, "#mail-table tr[data-id]")
    assert_inert_and_verbatim(driver, [], "the outbox")
    assert XSS_MARKER in page_text(driver), "the ticket mails' subjects (with the marker) are not in the outbox"
    shots(driver, "xss-outbox")
    assert_no_console_errors(driver, "subscribers and outbox with naughty strings", console_server)

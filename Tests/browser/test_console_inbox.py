"""The console's inbox, subscribers and mail outbox against a live server: the ticket flow from
a customer's submission to the reply mail in the spool and the customer's magic-link page,
contacts processed and converted, filters, search, paging and keyboard, CSV export and import,
failed mail and retry."""

from __future__ import annotations

import csv
import email
import email.policy
import io
import re
import time
import uuid
from pathlib import Path

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from console_support import (  # noqa: F401  (fixtures are used by name)
    click, ADMIN, AGENT, admin_api, api_available, assert_no_console_errors, console_server, shots,
    page_text, sign_in, submit_contact, submit_many, submit_ticket, wait_for, wait_page_contains, wait_text,
)

pytestmark = pytest.mark.usefixtures("require_inbox_api")


@pytest.fixture(scope="module")
def require_inbox_api(console_server):
    if not api_available(console_server, "/api/v1/admin/tickets"):
        pytest.fail("/api/v1/admin/tickets answers 404: the inbox API is not routed")


def spool_mails(server) -> dict[Path, email.message.EmailMessage]:
    folder = server.data_dir / "mail"
    return {p: email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in sorted(folder.glob("*.eml"))} if folder.is_dir() else {}


def plain_text(message: email.message.EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part else ""


def wait_for_mail(server, before: set[Path], to: str, containing: str, timeout: float = 15) -> email.message.EmailMessage:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path, message in spool_mails(server).items():
            if path not in before and to in str(message["To"]) and containing in plain_text(message):
                return message
        time.sleep(0.2)
    raise AssertionError(f"no mail to {to} containing {containing!r} reached {server.data_dir / 'mail'}")


def value_of(driver, css: str) -> str | None:
    """A control's current value, read in one script call (re-renders make element handles stale)."""
    return driver.execute_script("const el = document.querySelector(arguments[0]); return el ? el.value : null", css)


def open_first_row(driver) -> None:
    click(driver, "#inbox-list .row a")


def test_ticket_flow_from_submission_to_reply_mail_and_magic_link(console_server, driver, shots) -> None:
    tag = uuid.uuid4().hex[:8]
    customer = f"tess-{tag}@example.com"
    created = submit_ticket(console_server, email=customer, name="Tess Customer", subject=f"Croissants went stale {tag}",
                            description="The croissants I bought this morning were stale.\nCan you help?", priority="medium")
    sign_in(driver, console_server, AGENT, f"/admin/inbox?type=ticket&q={tag}")
    open_first_row(driver)
    wait_text(driver, "#ticket-subject", f"Croissants went stale {tag}")
    wait_page_contains(driver, "The croissants I bought this morning were stale.")
    assert driver.find_element(By.ID, "ticket-customer").text == f"Tess Customer <{customer}>"

    # Triage: priority, assignee.
    prio = driver.find_element(By.CSS_SELECTOR, '#ticket-triage select[name="priority"]')
    prio.find_element(By.CSS_SELECTOR, 'option[value="high"]').click()
    wait_text(driver, ".toast-ok", "Priority")
    driver.find_element(By.XPATH, "//button[normalize-space()='Assign to me']").click()
    agent_id = str(_user_id(console_server, AGENT))
    WebDriverWait(driver, 10).until(lambda d: value_of(d, '#ticket-triage select[name="assigneeId"]') == agent_id)

    before = set(spool_mails(console_server))
    # An internal note stays inside.
    click(driver, "#reply-internal")
    driver.find_element(By.ID, "reply-body").send_keys(f"Note {tag}: check the oven timer")
    click(driver, "#reply-send")
    wait_for(driver, "#ticket-thread .msg-internal")
    # Then the reply, with the r shortcut to reach the composer.
    click(driver, "#reply-internal")
    driver.find_element(By.TAG_NAME, "body").click()
    driver.find_element(By.TAG_NAME, "body").send_keys("r")
    assert driver.switch_to.active_element.get_attribute("id") == "reply-body"
    driver.switch_to.active_element.send_keys(f"Sorry about that! Reply {tag}: a fresh batch is on us.")
    click(driver, "#reply-send")
    wait_text(driver, ".toast-ok", f"Reply sent to {customer}")
    WebDriverWait(driver, 10).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#ticket-thread .msg-agent")) == 2)
    shots(driver, "ticket")
    assert_no_console_errors(driver, "ticket view", console_server)

    mail = wait_for_mail(console_server, before, customer, f"Reply {tag}")
    body = plain_text(mail)
    assert f"Note {tag}" not in body, "the internal note was mailed to the customer"
    for message in spool_mails(console_server).values():
        assert f"Note {tag}" not in plain_text(message), "an internal note reached the mail spool"
    link = re.search(r"https?://\S+/ticket\?id=\d+#token=[A-Za-z0-9_-]+", body)
    assert link, f"no magic link in the reply mail:\n{body}"
    assert f"id={created['id']}" in link.group(0)

    # The customer's view through the link shows the reply and not the note.
    if requests.get(console_server.url("/ticket"), timeout=10).status_code == 200:
        driver.get(link.group(0))
        wait_page_contains(driver, f"Reply {tag}", timeout=15)
        assert f"Note {tag}" not in page_text(driver)
        shots(driver, "customer-ticket-page")

    # Close with the e shortcut.
    driver.get(console_server.url(f"/admin/inbox/ticket/{created['id']}"))
    wait_for(driver, "#ticket-close")
    driver.find_element(By.TAG_NAME, "body").send_keys("e")
    WebDriverWait(driver, 10).until(lambda d: value_of(d, '#ticket-triage select[name="status"]') == "closed")


def _user_id(server, user: dict) -> int:
    from console_support import ConsoleAPI
    return ConsoleAPI(server, user["email"], user["password"]).user["id"]


def test_contact_marked_processed_and_converted_to_ticket(console_server, driver, shots) -> None:
    tag = uuid.uuid4().hex[:8]
    submit_many(console_server, "contact", [
        {"name": "Paula Processed", "email": f"paula-{tag}@example.com", "subject": f"Opening hours {tag}", "message": "Are you open on Sundays?"},
        {"name": "Conrad Convert", "email": f"conrad-{tag}@example.com", "subject": f"Catering {tag}", "message": "We need 40 sandwiches on Friday."},
    ])
    sign_in(driver, console_server, ADMIN, f"/admin/inbox?type=contact&q=paula-{tag}")
    open_first_row(driver)
    wait_text(driver, "#contact-subject", f"Opening hours {tag}")
    shots(driver, "contact")
    driver.find_element(By.TAG_NAME, "body").send_keys("e")  # e marks a contact processed
    wait_for(driver, "#contact-unprocess")
    driver.get(console_server.url(f"/admin/inbox?status=processed&q={tag}"))
    wait_text(driver, "#inbox-list", f"Opening hours {tag}")
    assert f"Catering {tag}" not in driver.find_element(By.ID, "inbox-list").text

    driver.get(console_server.url(f"/admin/inbox?type=contact&q=conrad-{tag}"))
    open_first_row(driver)
    click(driver, "#contact-convert")
    wait_text(driver, "#ticket-subject", f"Catering {tag}")
    assert re.search(r"/admin/inbox/ticket/\d+", driver.current_url)
    wait_page_contains(driver, "We need 40 sandwiches on Friday.")
    assert_no_console_errors(driver, "contact conversion", console_server)


def test_filters_search_paging_and_keyboard(console_server, driver, shots) -> None:
    tag = uuid.uuid4().hex[:8]
    submit_many(console_server, "contact", [
        {"name": f"Page {i}", "email": f"page{i}-{tag}@example.com", "subject": f"Paging {tag} #{i:02d}", "message": "m"} for i in range(28)
    ])
    submit_many(console_server, "ticket", [
        {"email": f"urgent-{tag}@example.com", "subject": f"Oven on fire {tag}", "description": "Help", "priority": "urgent"},
        {"email": f"low-{tag}@example.com", "subject": f"Typo on menu {tag}", "description": "Minor", "priority": "low"},
    ])
    sign_in(driver, console_server, AGENT, f"/admin/inbox?q={tag}")
    wait_text(driver, ".pager-range", "1–25 of 30")
    rows = driver.find_elements(By.CSS_SELECTOR, "#inbox-list .row")
    assert len(rows) == 25
    click(driver, '[aria-label="Next page"]')
    wait_text(driver, ".pager-range", "26–30 of 30")
    assert len(driver.find_elements(By.CSS_SELECTOR, "#inbox-list .row")) == 5
    assert "page=2" in driver.current_url

    # Filters: priority keeps only tickets of that priority; type keeps one kind.
    driver.get(console_server.url(f"/admin/inbox?q={tag}"))
    wait_text(driver, ".pager-range", "of 30")
    click(driver, '#inbox-filters select[name="priority"] option[value="urgent"]')
    wait_text(driver, ".pager-range", "1–1 of 1")
    assert f"Oven on fire {tag}" in driver.find_element(By.ID, "inbox-list").text
    assert "priority=urgent" in driver.current_url
    driver.get(console_server.url(f"/admin/inbox?type=ticket&q={tag}"))
    wait_text(driver, ".pager-range", "1–2 of 2")
    driver.get(console_server.url(f"/admin/inbox?type=ticket&assignee=none&q={tag}"))
    wait_text(driver, ".pager-range", "1–2 of 2")
    driver.get(console_server.url(f"/admin/inbox?type=ticket&assignee=me&q={tag}"))
    wait_text(driver, "#inbox-list", "Nothing matches")

    # Search box.
    driver.get(console_server.url("/admin/inbox"))
    box = wait_for(driver, "#inbox-search")
    box.send_keys(f"Typo on menu {tag}\n")
    wait_text(driver, ".pager-range", "1–1 of 1")
    assert f"q=Typo" in driver.current_url

    # j / k walk the list and open each item.
    driver.get(console_server.url(f"/admin/inbox?type=contact&q={tag}"))
    wait_text(driver, ".pager-range", "of 28")
    body = driver.find_element(By.TAG_NAME, "body")
    body.send_keys("j")
    wait_text(driver, "#contact-subject", f"Paging {tag} #27")
    body.send_keys("j")
    wait_text(driver, "#contact-subject", f"Paging {tag} #26")
    body.send_keys("k")
    wait_text(driver, "#contact-subject", f"Paging {tag} #27")
    assert driver.find_element(By.CSS_SELECTOR, "#inbox-list .row.selected").text.find(f"#27") >= 0
    shots(driver, "inbox")
    assert_no_console_errors(driver, "inbox", console_server)


def test_subscribers_import_counts_and_csv_export_matches_the_list(console_server, driver, shots, tmp_path) -> None:
    tag = uuid.uuid4().hex[:8]
    confirmed_file = tmp_path / "confirmed.csv"
    confirmed_file.write_text("email,name,topics\n" + "".join(f"ok{i}-{tag}@example.com,Okay {i},\n" for i in range(5)))
    pending_file = tmp_path / "pending.csv"
    pending_file.write_text("email,name,topics\n" + "".join(f"wait{i}-{tag}@example.com,Waiting {i},\n" for i in range(3)) + "not-an-address,Broken,\n")

    sign_in(driver, console_server, ADMIN, "/admin/subscribers")
    wait_for(driver, "#subscriber-counts .count-chip")

    def import_file(path: Path, confirmed: bool) -> str:
        click(driver, "#subscribers-import")
        wait_for(driver, "#import-file").send_keys(str(path))
        if confirmed:
            click(driver, "#import-confirmed")
        click(driver, "dialog.modal[open] .btn-primary")
        if confirmed:  # the explicit second confirmation
            WebDriverWait(driver, 5).until(lambda d: "Import as confirmed" in d.execute_script(
                "const m = document.querySelector('dialog.modal[open]'); return m ? m.textContent : ''"))
            click(driver, "dialog.modal[open] .btn-primary")
        result = wait_for(driver, "#import-result").text
        click(driver, "dialog.modal[open] .btn-primary")
        WebDriverWait(driver, 5).until(lambda d: not d.find_elements(By.CSS_SELECTOR, "dialog.modal"))
        return result

    assert "5 imported" in import_file(confirmed_file, True)
    before = set(spool_mails(console_server))
    result = import_file(pending_file, False)
    assert "3 imported" in result and "Line 5" in result, result
    wait_for_mail(console_server, before, f"wait0-{tag}@example.com", "")

    driver.get(console_server.url(f"/admin/subscribers?status=confirmed&q={tag}"))
    wait_for(driver, '#subscriber-rows tr[data-id]')
    shown = {td.text for td in driver.find_elements(By.CSS_SELECTOR, "#subscriber-rows td.email")}
    assert shown == {f"ok{i}-{tag}@example.com" for i in range(5)}
    counts = driver.find_element(By.ID, "subscriber-counts").text
    assert re.search(r"\d+ confirmed", counts) and re.search(r"\d+ pending", counts)
    shots(driver, "subscribers")

    # Export downloads exactly the rows the list shows.
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    click(driver, "#subscribers-export")
    deadline = time.monotonic() + 15
    files: list[Path] = []
    while time.monotonic() < deadline:
        files = [p for p in downloads.iterdir() if not p.name.endswith(".crdownload")]
        if files:
            break
        time.sleep(0.2)
    assert files, "the export did not download"
    rows = list(csv.DictReader(io.StringIO(files[0].read_text(encoding="utf-8-sig"))))
    assert {r["email"] for r in rows} == shown
    assert all(r.get("status", "confirmed") == "confirmed" for r in rows)
    assert_no_console_errors(driver, "subscribers", console_server)


def test_outbox_shows_a_failure_with_its_reason_and_retries_it(console_server, driver, shots) -> None:
    tag = uuid.uuid4().hex[:8]
    spool = console_server.data_dir / "mail"
    spool.mkdir(exist_ok=True)
    aside = spool.with_name("mail.aside")
    spool.rename(aside)
    spool.write_text("a file where the spool folder should be: delivery fails")
    try:
        submit_ticket(console_server, email=f"bounce-{tag}@example.com", subject=f"Undeliverable {tag}", description="x")
        sign_in(driver, console_server, ADMIN, "/admin/outbox?status=failed")
        deadline = time.monotonic() + 15
        while f"Undeliverable {tag}" not in driver.find_element(By.TAG_NAME, "body").text:
            assert time.monotonic() < deadline, "the failed mail never showed"
            time.sleep(0.5)
            driver.find_element(By.XPATH, "//button[normalize-space()='Refresh']").click()
            wait_for(driver, "#mail-table")
        reason = driver.find_element(By.XPATH, f"//tr[contains(., 'Undeliverable {tag}')]//*[@class='mail-error']").text
        assert reason.strip(), "no reason shown"
        shots(driver, "outbox")
    finally:
        spool.unlink()
        aside.rename(spool)
    driver.find_element(By.XPATH, f"//tr[contains(., 'Undeliverable {tag}')]//button[@data-retry]").click()
    wait_text(driver, ".toast-ok", "queued again")
    before = set()
    wait_for_mail(console_server, before, f"bounce-{tag}@example.com", "")
    driver.get(console_server.url("/admin/outbox?status=sent"))
    wait_text(driver, "#mail-table", f"Undeliverable {tag}")
    assert_no_console_errors(driver, "outbox", console_server)


FETCH_SPY = """
window.__calls = [];
const realFetch = window.fetch;
window.fetch = function (input, init) {
  init = init || {};
  const headers = new Headers(init.headers || {});
  window.__calls.push({method: (init.method || 'GET').toUpperCase(), url: String(input), csrf: headers.get('X-CSRF-Token')});
  return realFetch.apply(this, arguments);
};
"""


def test_every_state_change_carries_the_csrf_token(console_server, driver) -> None:
    tag = uuid.uuid4().hex[:8]
    submit_many(console_server, "contact", [{"name": "Csrf Check", "email": f"csrf-{tag}@example.com", "subject": f"Token {tag}", "message": "m"}])
    sign_in(driver, console_server, ADMIN, f"/admin/inbox?q={tag}")
    driver.execute_script(FETCH_SPY)
    open_first_row(driver)
    click(driver, "#contact-processed")
    click(driver, "#contact-unprocess")
    click(driver, "#contact-convert")
    wait_for(driver, "#ticket-thread")
    click(driver, "#reply-internal")
    driver.find_element(By.ID, "reply-body").send_keys("note")
    click(driver, "#reply-send")
    wait_for(driver, "#ticket-thread .msg-internal")
    calls = driver.execute_script("return window.__calls")
    changes = [c for c in calls if c["method"] != "GET"]
    assert len(changes) >= 4, calls
    cookies = {c["name"]: c["value"] for c in driver.get_cookies()}
    token = requests.get(console_server.url("/api/v1/admin/session"), cookies=cookies, timeout=10).json()["csrfToken"]
    assert all(c["csrf"] == token for c in changes), changes

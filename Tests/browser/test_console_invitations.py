"""Invitation by mail, end to end: an admin invites an address from the Users screen, the mail
reaches the real spool, its link opens a page where the person chooses their name and password,
and accepting lands them signed in to the console as the new agent; the link then works no more."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from support.inbox import Spool
from console_support import (  # noqa: F401  (fixtures are used by name)
    ADMIN, assert_no_console_errors, click, console_server, shots, sign_in, wait_for, wait_page_contains, wait_text,
)


def test_invitation_through_the_mail_spool_to_a_signed_in_agent(console_server, driver, shots) -> None:
    tag = uuid.uuid4().hex[:8]
    address = f"invitee-{tag}@bakery.example"
    sign_in(driver, console_server, ADMIN, "/admin/users")
    click(driver, "#user-invite")
    wait_for(driver, "#invite-email").send_keys(address)
    click(driver, "#invite-submit")
    wait_text(driver, "#invitations-table", address)
    assert "pending" in driver.find_element(By.CSS_SELECTOR, f'#invitations-table tr[data-email="{address}"]').text.lower()

    # The address is new to this run: the first mail to it is the invitation.
    message = Spool(console_server.data_dir).wait_for(lambda m: address in str(m["To"]).lower())
    assert "invited you" in str(message["Subject"])
    text = message.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"https?://\S+/api/v1/admin/invitations/accept\?token=[\w-]+", text).group(0)
    parts = urlsplit(link)
    page = console_server.url(f"{parts.path}?{parts.query}")

    # The invited person, in a browser without the admin's session.
    driver.delete_all_cookies()
    driver.get(page)
    wait_page_contains(driver, address)
    wait_for(driver, "#invitation-name").send_keys(f"Ivy Invitee {tag}")
    driver.find_element(By.ID, "invitation-password").send_keys("short")
    # The browser's own minlength check stops a short password; the server says so too without it.
    driver.execute_script("document.getElementById('invitation-password').removeAttribute('minlength')")
    click(driver, "#invitation-accept")
    wait_page_contains(driver, "at least 10 characters")
    driver.find_element(By.ID, "invitation-password").send_keys("a long enough passphrase")
    click(driver, "#invitation-accept")
    WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.ID, "sign-out"))
    assert urlsplit(driver.current_url).path.startswith("/admin")
    # Drop what the browser logged so far: the short password's intended 422 and the plain
    # invitation page's favicon request are not console errors.
    driver.get_log("browser")
    driver.get(console_server.url("/admin/account"))
    WebDriverWait(driver, 10).until(lambda d: d.find_element(By.ID, "account-name").get_attribute("value") == f"Ivy Invitee {tag}")
    shots(driver, "invitation-accepted")
    assert_no_console_errors(driver, "invitation accepted", console_server)

    # The link works once.
    driver.get(page)
    wait_page_contains(driver, "used already")

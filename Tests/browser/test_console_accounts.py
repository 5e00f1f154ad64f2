"""The console's account screens in a real browser: changing one's password there ends one's
other sessions (a second client is signed out) while this browser stays in; an API token made
in the tokens screen works alone over HTTP until revoked there."""

from __future__ import annotations

import uuid

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from console_support import (  # noqa: F401  (fixtures are used by name)
    ConsoleAPI, add_user, assert_no_console_errors, click, console_server, shots, sign_in, wait_for, wait_text,
)


def fresh_agent(server) -> dict:
    user = {"email": f"agent-{uuid.uuid4().hex[:8]}@bakery.example", "name": "Pat Parttime", "password": "first long passphrase", "role": "agent"}
    add_user(server, user)
    return user


def test_password_change_ends_other_sessions(console_server, driver, shots) -> None:
    user = fresh_agent(console_server)
    other = ConsoleAPI(console_server, user["email"], user["password"])  # another device
    assert other.get("/api/v1/admin/session").status_code == 200

    sign_in(driver, console_server, user, "/admin/account")
    wait_for(driver, "#sessions-table")
    WebDriverWait(driver, 10).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#sessions-table tbody tr")) == 2)
    driver.find_element(By.ID, "account-current-password").send_keys(user["password"])
    driver.find_element(By.ID, "account-new-password").send_keys("second long passphrase")
    click(driver, "#account-password-save")
    WebDriverWait(driver, 10).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#sessions-table tbody tr")) == 1)
    shots(driver, "account-password-changed")

    # The other device is signed out; this browser is not, and the new password works.
    assert other.get("/api/v1/admin/session").status_code == 401
    driver.get(console_server.url("/admin/account"))
    wait_for(driver, "#sessions-table")
    assert driver.find_elements(By.ID, "sign-out")
    assert ConsoleAPI(console_server, user["email"], "second long passphrase").get("/api/v1/admin/session").status_code == 200
    assert_no_console_errors(driver, "account", console_server)


def test_token_made_in_the_console_works_until_revoked(console_server, driver, shots) -> None:
    user = fresh_agent(console_server)
    sign_in(driver, console_server, user, "/admin/tokens")
    click(driver, "#token-add")
    wait_for(driver, "#new-token-name").send_keys("Nightly export")
    driver.find_element(By.CSS_SELECTOR, 'input[data-scope="tickets:read"]').click()
    # Agents are not offered the admin-only scopes.
    assert not driver.find_elements(By.CSS_SELECTOR, 'input[data-scope="users:read"]')
    click(driver, "#new-token-submit")
    secret = wait_for(driver, "#new-token-secret").get_attribute("value")
    assert secret.startswith("fd_")
    shots(driver, "token-created")

    bearer = {"Authorization": f"Bearer {secret}"}
    r = requests.get(console_server.url("/api/v1/admin/tickets"), headers=bearer, timeout=10)
    assert r.status_code == 200
    r = requests.get(console_server.url("/api/v1/admin/contact-submissions"), headers=bearer, timeout=10)
    assert r.status_code == 403 and r.json()["error"]["details"]["scope"] == "contacts:read"

    driver.find_element(By.CSS_SELECTOR, ".modal-actions button").click()
    wait_text(driver, "#tokens-table", "Nightly export")
    wait_text(driver, "#tokens-table", "never")
    driver.get(console_server.url("/admin/tokens"))
    wait_text(driver, "#tokens-table", "127.0.0.0")  # the last use, by network
    click(driver, '#tokens-table button[data-action="revoke"]')
    # The confirmation dialog's danger button.
    click(driver, "dialog .btn-danger, dialog button.danger, dialog .modal-actions button:last-child")
    # The row turns muted and loses its Revoke button (the pill's text is styled, so not matched by case).
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#tokens-table tr.row-muted")
                                    and not d.find_elements(By.CSS_SELECTOR, '#tokens-table button[data-action="revoke"]'))
    assert "revoked" in driver.find_element(By.ID, "tokens-table").get_attribute("textContent")
    r = requests.get(console_server.url("/api/v1/admin/tickets"), headers=bearer, timeout=10)
    assert r.status_code == 401 and r.json()["error"]["code"] == "token_revoked"
    assert_no_console_errors(driver, "tokens", console_server)


def test_notification_preferences_follow_the_account_to_another_browser(console_server, driver, shots) -> None:
    user = fresh_agent(console_server)
    sign_in(driver, console_server, user, "/admin/account")
    sound = wait_for(driver, "#pref-sound")
    assert sound.is_selected() and driver.find_element(By.ID, "pref-desktopNewChats").is_selected()
    sound.click()
    wait_text(driver, ".toast", "Notification preferences saved")
    click(driver, "#pref-desktopMyMessages")
    api = ConsoleAPI(console_server, user["email"], user["password"])
    WebDriverWait(driver, 10).until(
        lambda d: api.get("/api/v1/admin/account/notifications").json() == {"sound": False, "desktopNewChats": True, "desktopMyMessages": False},
        "the switches were not saved")
    shots(driver, "account-notifications")

    # Kept with the account, not the browser: signed out and in again, the page shows them, and
    # the chat screen's sound switch follows the account's choice.
    click(driver, "#sign-out")
    wait_for(driver, "#signin-email")
    sign_in(driver, console_server, user, "/admin/account")
    assert not wait_for(driver, "#pref-sound").is_selected()
    assert not driver.find_element(By.ID, "pref-desktopMyMessages").is_selected()
    assert driver.find_element(By.ID, "pref-desktopNewChats").is_selected()
    driver.get(console_server.url("/admin/chat"))
    assert not wait_for(driver, "#sound-toggle").is_selected()
    assert_no_console_errors(driver, "account notifications", console_server)

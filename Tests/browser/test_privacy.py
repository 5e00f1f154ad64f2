"""Privacy in real Chromium: the visitor's `<frontdesk-privacy-request>` on a site of another
origin (with the demo server's spam defences on: form token, fill time, proof of work), the
confirmation link opened from the real mail spool (its page confirms on load), the admin's
approval, the single-use download link spent by the browser's click; and the console's Privacy
screen: search, the manifest, erasure with the value typed again, the request log."""

from __future__ import annotations

import re
import sys
import uuid
from pathlib import Path

import requests
from selenium.webdriver.common.by import By

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from support.inbox import Spool  # noqa: E402

from console_support import ADMIN, ConsoleAPI, admin_api, console_server, shots, sign_in, wait_text  # noqa: F401,E402
from console_support import wait_for as wait_css  # noqa: E402
from widget_support import AGENT_EMAIL, AGENT_PASSWORD, fill, inner, shadow, wait_for, widget_env  # noqa: F401,E402


def test_visitor_request_confirmed_from_the_spool_and_downloaded_once(driver, widget_env):  # noqa: F811
    env = widget_env
    address = f"vis-{uuid.uuid4().hex[:8]}@example.com"
    driver.get(env.page("privacy.html"))
    root = shadow(driver, "frontdesk-privacy-request", "form")
    fill(root, {"email": address})
    inner(root, 'input[value="access"]').click()
    inner(root, 'button[type="submit"]').click()
    wait_for(driver, lambda d: "Check your mailbox" in shadow(d, "frontdesk-privacy-request").find_element(By.CSS_SELECTOR, ".fd").text,
             lambda: f"no confirmation notice; the element shows: {shadow(driver, 'frontdesk-privacy-request').find_element(By.CSS_SELECTOR, '.fd').text!r}")

    spool = Spool(env.server.data_dir)
    mail = spool.wait_for(lambda m: m["To"] == address and "Confirm your request" in (m["Subject"] or ""))
    admin = ConsoleAPI(env.server, AGENT_EMAIL, AGENT_PASSWORD)
    request = next(i for i in admin.get("/api/v1/admin/privacy/requests").json()["items"] if i["email"] == address)
    assert request["status"] == "unconfirmed" and request["kind"] == "access"
    # The link's page confirms with a POST sent on load.
    driver.get(Spool.link(mail, r"/api/v1/privacy/requests/confirm\?token="))
    wait_for(driver, lambda d: "Your request is confirmed" in d.find_element(By.TAG_NAME, "h1").text, "the confirmation page did not confirm")
    request = next(i for i in admin.get("/api/v1/admin/privacy/requests").json()["items"] if i["id"] == request["id"])
    assert request["status"] == "confirmed"

    assert admin.post(f"/api/v1/admin/privacy/requests/{request['id']}/approve").status_code == 200
    ready = spool.wait_for(lambda m: m["To"] == address and "is ready" in (m["Subject"] or ""))
    link = Spool.link(ready, r"/api/v1/privacy/downloads\?token=")
    driver.get(link)
    driver.find_element(By.CSS_SELECTOR, 'form[action="/api/v1/privacy/downloads"] button').click()
    token = re.search(r"token=([A-Za-z0-9_-]+)", link).group(1)
    # The browser's click spent the link: it works once.
    wait_for(driver, lambda d: next(i for i in admin.get("/api/v1/admin/privacy/requests").json()["items"] if i["id"] == request["id"])["status"] == "fulfilled",
             "the download was not recorded")
    again = requests.post(env.url("/api/v1/privacy/downloads"), json={"token": token}, timeout=10)
    assert again.status_code == 404


def test_console_privacy_screen_searches_previews_and_erases_with_typed_confirmation(driver, console_server, admin_api, shots):  # noqa: F811
    server = console_server
    address = f"erase-{uuid.uuid4().hex[:8]}@example.com"
    r = requests.post(server.url("/api/v1/contact"), json={"name": "Ersa Browser", "email": address, "message": "Please forget me."}, timeout=10)
    assert r.status_code in (200, 201, 202), r.text
    sign_in(driver, server, ADMIN, "/admin/privacy")
    wait_css(driver, "#privacy-search")
    field = driver.find_element(By.CSS_SELECTOR, "#privacy-value")
    field.send_keys(address)
    driver.find_element(By.CSS_SELECTOR, "#privacy-search button[type=submit]").click()
    wait_css(driver, '#privacy-manifest tr[data-kind="inbox.contacts"] td[data-rows="1"]')
    shots(driver, "privacy-preview")
    driver.find_element(By.CSS_SELECTOR, "#privacy-erase").click()
    confirm = wait_css(driver, "#privacy-confirm")
    confirm.send_keys("someone-else@example.com")
    driver.find_element(By.CSS_SELECTOR, "dialog .btn-danger").click()
    # A wrong value does not close the dialog (the browser's own check), and nothing is erased.
    assert driver.find_elements(By.CSS_SELECTOR, "dialog[open] #privacy-confirm")
    held = admin_api.post("/api/v1/admin/privacy/search", json={"kind": "email", "value": address}).json()
    assert next(m for m in held["manifest"] if m["kind"] == "inbox.contacts")["rows"] == 1
    confirm.clear()
    confirm.send_keys(address)
    driver.find_element(By.CSS_SELECTOR, "dialog .btn-danger").click()
    wait_css(driver, '#privacy-manifest tr[data-kind="inbox.contacts"] td[data-rows="0"]')
    assert admin_api.post("/api/v1/admin/privacy/search", json={"kind": "email", "value": address}).json()["rows"] == 0
    wait_css(driver, "#privacy-erasures tbody tr[data-id]")
    assert driver.find_elements(By.CSS_SELECTOR, '#privacy-record tr[data-kind="inbox.contacts"]')
    shots(driver, "privacy-erased")

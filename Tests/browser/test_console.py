"""The admin console's own pages: setup, sign-in, sign-out, session expiry, users and roles,
keyboard help, light/dark, and the page's security headers."""

from __future__ import annotations

import requests
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from console_support import (  # noqa: F401  (fixtures are used by name)
    click, ADMIN, AGENT, ConsoleAPI, admin_api, assert_no_console_errors, console_server, setup_url, shots,
    sign_in, wait_for, wait_text,
)
from support.frontdesk_proc import frontdesk_server


def test_console_page_has_a_strict_policy_and_hashed_assets(console_server) -> None:
    r = requests.get(console_server.url("/admin/inbox"), timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe" not in csp
    assert "<script>" not in r.text and " style=" not in r.text and "<style" not in r.text
    import re
    scripts = re.findall(r'src="(/admin/console\.[0-9a-f]{8,}\.js)"', r.text)
    styles = re.findall(r'href="(/admin/console\.[0-9a-f]{8,}\.css)"', r.text)
    assert scripts and styles, r.text
    for path in scripts + styles:
        asset = requests.get(console_server.url(path), timeout=10)
        assert asset.status_code == 200
        assert "immutable" in asset.headers.get("Cache-Control", "") or "no-cache" in asset.headers.get("Cache-Control", "")
    assert "eval(" not in requests.get(console_server.url(scripts[0]), timeout=10).text


def test_revalidated_console_page_keeps_the_document_policy(console_server) -> None:
    """A 304 for the console page must not carry the API policy `default-src 'none'`: browsers
    merge a 304's headers into the cached page, which would then block the console's own files."""
    first = requests.get(console_server.url("/admin/inbox"), timeout=10)
    again = requests.get(console_server.url("/admin/inbox"), headers={"If-None-Match": first.headers["ETag"]}, timeout=10)
    assert again.status_code in (200, 304)
    policy = again.headers.get("Content-Security-Policy")
    assert policy is None or "script-src 'self'" in policy, f"the 304 carries {policy!r}"


def test_setup_link_creates_the_first_admin(tmp_path, driver, shots) -> None:
    with frontdesk_server(tmp_path) as server:
        link = setup_url(server)
        assert link, "serve printed no setup link:\n" + server.output()
        # A made-up token is refused and creates nothing.
        driver.get(link.split("#")[0] + "#token=not-the-token")
        wait_for(driver, "#setup-form")
        driver.find_element(By.ID, "setup-email").send_keys("mallory@example.com")
        driver.find_element(By.ID, "setup-password").send_keys("a long enough passphrase")
        driver.find_element(By.ID, "setup-again").send_keys("a long enough passphrase")
        click(driver, "#setup-submit")
        wait_text(driver, ".form-error", "not valid")
        driver.get_log("browser")  # the refusal's 403 was expected
        driver.get(link)
        wait_for(driver, "#setup-form")
        assert "token=" not in driver.current_url, "the one-time token stays in the address bar"
        driver.find_element(By.ID, "setup-name").send_keys("Sam Setup")
        driver.find_element(By.ID, "setup-email").send_keys("sam@example.com")
        driver.find_element(By.ID, "setup-password").send_keys("a long enough passphrase")
        driver.find_element(By.ID, "setup-again").send_keys("a long enough passphrase")
        shots(driver, "setup")
        click(driver, "#setup-submit")
        WebDriverWait(driver, 10).until(lambda d: d.current_url.endswith("/admin/inbox"))
        wait_text(driver, ".whoami", "Sam Setup")
        assert_no_console_errors(driver, "setup", server)
        # The link works once: a second visit says the console is set up.
        driver.get(link)
        wait_for(driver, "#setup-done")


def test_sign_in_wrong_password_then_sign_in_and_out(console_server, driver, shots) -> None:
    driver.get(console_server.url("/admin/inbox"))
    wait_for(driver, "#signin-form")
    assert "/admin/signin" in driver.current_url
    shots(driver, "signin")
    assert_no_console_errors(driver, "sign-in", console_server)

    driver.find_element(By.ID, "signin-email").send_keys(ADMIN["email"])
    driver.find_element(By.ID, "signin-password").send_keys("not the password")
    click(driver, "#signin-submit")
    wait_text(driver, ".form-error", "wrong")
    field = driver.find_element(By.ID, "signin-password")
    field.clear()
    field.send_keys(ADMIN["password"])
    click(driver, "#signin-submit")
    WebDriverWait(driver, 10).until(lambda d: d.current_url.endswith("/admin/inbox"))
    wait_text(driver, ".whoami", ADMIN["name"])
    driver.get_log("browser")  # the wrong password's 401 was expected

    click(driver, "#sign-out")
    wait_for(driver, "#signin-notice")
    assert "/admin/signin" in driver.current_url
    # The session is gone on the server too: a reload stays on sign-in.
    driver.get(console_server.url("/admin/subscribers"))
    wait_for(driver, "#signin-form")
    assert "next=%2Fadmin%2Fsubscribers" in driver.current_url


def test_expired_session_returns_to_the_same_screen_after_sign_in(console_server, driver) -> None:
    sign_in(driver, console_server, ADMIN, "/admin/outbox?status=sent")
    # End the session behind the console's back, as an idle timeout would.
    cookie = {c["name"]: c["value"] for c in driver.get_cookies()}
    http = requests.Session()
    http.cookies.update(cookie)
    origin = console_server.base_url.rstrip("/")
    csrf = http.get(console_server.url("/api/v1/admin/session"), timeout=10).json()["csrfToken"]
    assert http.delete(console_server.url("/api/v1/admin/session"), headers={"Origin": origin, "X-CSRF-Token": csrf}, timeout=10).status_code == 204

    # The next API call answers 401 (the chat socket, closed with session_ended, may notice first).
    try:
        click(driver, '[data-nav="subscribers"]')
        where = "/admin/subscribers"
    except (NoSuchElementException, StaleElementReferenceException):
        where = "/admin/outbox?status=sent"
    wait_for(driver, "#signin-notice")
    assert "expired=1" in driver.current_url
    driver.find_element(By.ID, "signin-email").send_keys(ADMIN["email"])
    driver.find_element(By.ID, "signin-password").send_keys(ADMIN["password"])
    click(driver, "#signin-submit")
    WebDriverWait(driver, 10).until(lambda d: d.current_url.endswith(where) or d.current_url.endswith("/admin/outbox?status=sent"))
    assert driver.find_elements(By.ID, "sign-out")


def test_agent_sees_no_users_section_and_its_api_refuses(console_server, driver, shots) -> None:
    sign_in(driver, console_server, AGENT)
    assert not driver.find_elements(By.CSS_SELECTOR, '[data-nav="users"]'), "agents must not see Users"
    driver.get(console_server.url("/admin/users"))
    wait_for(driver, "#admin-only")
    assert not driver.find_elements(By.ID, "users-table")
    shots(driver, "users-agent-refused")
    assert_no_console_errors(driver, "users as agent", console_server)

    agent = ConsoleAPI(console_server, AGENT["email"], AGENT["password"])
    assert agent.get("/api/v1/admin/users").status_code == 403
    r = agent.post("/api/v1/admin/users", json={"email": "sneaky@example.com", "password": "long enough pass", "role": "admin"})
    assert r.status_code == 403, r.text
    assert agent.patch("/api/v1/admin/users/1", json={"disabled": True}).status_code == 403


def test_admin_adds_disables_and_resets_a_user(console_server, driver, shots) -> None:
    sign_in(driver, console_server, ADMIN, "/admin/users")
    wait_for(driver, "#users-table")
    click(driver, "#user-add")
    wait_for(driver, "#new-user-email").send_keys("casey@bakery.example")
    driver.find_element(By.ID, "new-user-name").send_keys("Casey Counter")
    password = driver.find_element(By.ID, "new-user-password").get_attribute("value")
    assert len(password) >= 10
    click(driver, "#new-user-submit")
    row = '#users-table tr[data-email="casey@bakery.example"]'
    wait_for(driver, row)
    ConsoleAPI(console_server, "casey@bakery.example", password)  # can sign in

    click(driver, f'{row} [data-action="disable"]')
    click(driver, "dialog.modal .btn-danger")
    wait_for(driver, f'{row} [data-action="enable"]')
    r = requests.post(console_server.url("/api/v1/admin/session"), json={"email": "casey@bakery.example", "password": password},
                      headers={"Origin": console_server.base_url.rstrip("/")}, timeout=10)
    assert r.status_code == 401, "a disabled user signed in"
    click(driver, f'{row} [data-action="enable"]')
    wait_for(driver, f'{row} [data-action="disable"]')

    click(driver, f'{row} [data-action="reset"]')
    field = wait_for(driver, "#reset-password")
    field.clear()
    field.send_keys("a brand new passphrase")
    click(driver, "dialog.modal .btn-primary")
    WebDriverWait(driver, 10).until(lambda d: not d.find_elements(By.CSS_SELECTOR, "dialog.modal"))
    wait_text(driver, ".toasts", "Password of casey@bakery.example changed")
    ConsoleAPI(console_server, "casey@bakery.example", "a brand new passphrase")
    shots(driver, "users")
    assert_no_console_errors(driver, "users", console_server)


def test_help_overlay_and_theme_toggle(console_server, driver, shots) -> None:
    sign_in(driver, console_server, ADMIN)
    body = driver.find_element(By.TAG_NAME, "body")
    body.send_keys("?")
    wait_for(driver, "#shortcut-help")
    text = driver.find_element(By.ID, "shortcut-help").text
    for key in ("j", "k", "r", "e", "?"):
        assert key in text
    shots(driver, "shortcuts-help")
    body.send_keys(Keys.ESCAPE)
    WebDriverWait(driver, 5).until(lambda d: not d.find_elements(By.ID, "shortcut-help"))

    def theme() -> str | None:
        return driver.execute_script("return document.documentElement.dataset.theme || null")

    assert theme() is None  # follows the system by default
    click(driver, "#theme-toggle")
    assert theme() == "light"
    click(driver, "#theme-toggle")
    assert theme() == "dark"
    bg = driver.execute_script("return getComputedStyle(document.body).backgroundColor")
    assert bg != "rgb(246, 245, 242)", "dark theme kept the light background"
    driver.get(console_server.url("/admin/subscribers"))  # a fresh page load (a reload is the 304 test's business)
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.ID, "theme-toggle"))
    assert theme() == "dark", "the choice survives a page load"
    shots(driver, "inbox-dark")
    click(driver, "#theme-toggle")
    assert theme() is None
    assert_no_console_errors(driver, "theme", console_server)

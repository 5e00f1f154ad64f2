"""Helpers and fixtures for the admin console browser tests (Tests/browser/test_console*.py).

Fixtures (import them into a test module with `from console_support import *`):
  console_server  session-wide `frontdesk serve --demo --rate-limit off` with its own data
                  directory and two accounts made with `frontdesk user add`: ADMIN and AGENT
  admin_api       a requests session signed in as ADMIN (cookie + CSRF header + Origin)
  shots           callable(driver, name) -> saves Tests/browser/artifacts/console-<name>.png and
                  prints its file name

The server is started from $FRONTDESK_BIN like the rest of the suite; set FRONTDESK_ASSETS_DIR to
serve Resources/ from disk while developing the console.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest
import requests
from selenium.common.exceptions import NoAlertPresentException, StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from conftest import severe_console_entries, wait_until_quiet
from support.frontdesk_proc import FrontdeskServer

HERE = Path(__file__).resolve().parent
ADMIN = {"email": "owner@bakery.example", "name": "Olive Owner", "password": "correct horse battery staple", "role": "admin"}
AGENT = {"email": "agent@bakery.example", "name": "Andy Agent", "password": "another long passphrase", "role": "agent"}
XSS_MARKER = '"><img src=x onerror=alert(1)>'


def naughty_strings() -> list[str]:
    """A representative subset of the Big List of Naughty Strings plus our own markers."""
    return json.loads((HERE / "console_naughty_strings.json").read_text())["strings"]


def add_user(server: FrontdeskServer, user: dict) -> None:
    """`frontdesk user add` against the running server's data directory."""
    subprocess.run(
        [str(server.binary), "user", "add", "--data-dir", str(server.data_dir), "--email", user["email"],
         "--name", user["name"], "--role", user["role"], "--password-stdin"],
        input=user["password"].encode(), check=True, capture_output=True, timeout=30,
    )


def setup_url(server: FrontdeskServer) -> str | None:
    """The one-time `/admin/setup#token=…` link the server printed, if it printed one."""
    for line in server.output().splitlines():
        if "/admin/setup#token=" in line:
            return line[line.index("http"):].split()[0]
    return None


@pytest.fixture(scope="session")
def console_server(tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path) -> Iterator[FrontdeskServer]:
    tmp = tmp_path_factory.mktemp("console-server")
    server = FrontdeskServer(tmp / "data", demo=True, log_path=tmp / "server.log", extra_args=["--rate-limit", "off"]).start()
    try:
        add_user(server, ADMIN)
        add_user(server, AGENT)
        yield server
    finally:
        alive = server.proc is not None and server.proc.poll() is None
        code = server.stop()
        shutil.copyfile(server.log_path, artifacts_dir / "console-server.log")
    assert alive, f"frontdesk died during the console tests\n{server.log_tail()}"
    assert code == 0, f"SIGTERM gave exit code {code}\n{server.log_tail()}"


class ConsoleAPI:
    """The admin API as the console uses it: session cookie, CSRF token, same-origin Origin."""

    def __init__(self, server: FrontdeskServer, email: str, password: str) -> None:
        self.server = server
        self.http = requests.Session()
        self.origin = server.base_url.rstrip("/")
        r = self.http.post(server.url("/api/v1/admin/session"), json={"email": email, "password": password},
                           headers={"Origin": self.origin}, timeout=10)
        r.raise_for_status()
        self.csrf = r.json()["csrfToken"]
        self.user = r.json()["user"]

    def request(self, method: str, path: str, **kw) -> requests.Response:
        headers = {"Origin": self.origin, "X-CSRF-Token": self.csrf, **kw.pop("headers", {})}
        return self.http.request(method, self.server.url(path), headers=headers, timeout=15, **kw)

    def get(self, path: str, **kw) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw) -> requests.Response:
        return self.request("POST", path, **kw)

    def patch(self, path: str, **kw) -> requests.Response:
        return self.request("PATCH", path, **kw)


@pytest.fixture(scope="session")
def admin_api(console_server: FrontdeskServer) -> ConsoleAPI:
    return ConsoleAPI(console_server, ADMIN["email"], ADMIN["password"])


def api_available(server: FrontdeskServer, path: str) -> bool:
    """True when the binary serves `path` (a signed-out GET answers 401, not 404)."""
    return requests.get(server.url(path), timeout=5).status_code != 404


@pytest.fixture
def shots(artifacts_dir: Path, capsys: pytest.CaptureFixture[str]) -> Callable[[WebDriver, str], Path]:
    def take(driver: WebDriver, name: str) -> Path:
        path = artifacts_dir / f"console-{name}.png"
        driver.save_screenshot(str(path))
        with capsys.disabled():
            print(f"\nscreenshot: {path.relative_to(artifacts_dir.parent.parent.parent)}")
        return path

    return take


# ---- public submissions (what a visitor sends) ------------------------------------------------

PATHS = {"contact": "/api/v1/contact", "ticket": "/api/v1/tickets", "newsletter": "/api/v1/newsletter/subscriptions"}


def _form_extras(server: FrontdeskServer, form: str) -> tuple[dict, float]:
    """The form's token and solved proof of work, and the minimum fill time to wait out."""
    r = requests.get(server.url(f"/api/v1/forms/{form}"), timeout=10)
    if r.status_code != 200:
        return {}, 0.0
    config = r.json()
    extra: dict = {}
    if config.get("formToken"):
        extra["formToken"] = config["formToken"]
    pow_ = config.get("proofOfWork")
    if pow_:
        for n in range(int(pow_["maxNumber"]) + 1):
            if hashlib.sha256(f"{pow_['salt']}{n}".encode()).hexdigest() == pow_["challenge"]:
                extra["proofOfWork"] = {"salt": pow_["salt"], "challenge": pow_["challenge"], "number": n, "signature": pow_["signature"]}
                break
    return extra, float(config.get("minFillSeconds") or 0)


def submit_many(server: FrontdeskServer, form: str, payloads: list[dict]) -> list[dict]:
    """Submits public forms as visitors would: fetch each form, wait the minimum fill time once, send."""
    prepared = [(_form_extras(server, form), payload) for payload in payloads]
    wait = max((w for (_, w), _ in prepared), default=0.0)
    if wait:
        time.sleep(wait + 0.2)  # the server refuses forms filled faster than a person could
    results = []
    for (extra, _), payload in prepared:
        r = requests.post(server.url(PATHS[form]), json={**payload, **extra}, timeout=15)
        assert r.status_code in (200, 201, 202), f"{PATHS[form]} answered {r.status_code}: {r.text}"
        results.append(r.json())
    return results


def submit_contact(server: FrontdeskServer, **payload) -> dict:
    return submit_many(server, "contact", [payload])[0]


def submit_ticket(server: FrontdeskServer, **payload) -> dict:
    return submit_many(server, "ticket", [payload])[0]


def subscribe(server: FrontdeskServer, **payload) -> dict:
    return submit_many(server, "newsletter", [payload])[0]


# ---- browser helpers ------------------------------------------------------------------------

def wait_for(driver: WebDriver, css: str, timeout: float = 10) -> object:
    return WebDriverWait(driver, timeout).until(EC.visibility_of_element_located((By.CSS_SELECTOR, css)))


def click(driver: WebDriver, css: str, timeout: float = 10) -> None:
    """Clicks the element once it is visible, again if a re-render replaced it meanwhile."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            wait_for(driver, css, max(0.1, deadline - time.monotonic())).click()
            return
        except StaleElementReferenceException:
            if time.monotonic() > deadline:
                raise


def texts(driver: WebDriver, css: str, attr: str | None = None) -> list[str]:
    """The rendered text (or an attribute) of every element matching css, read in one script: a
    re-render between finding the elements and reading them cannot leave a stale reference."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]),"
        " e => arguments[1] ? (e.getAttribute(arguments[1]) ?? '') : e.innerText.trim())", css, attr)


def wait_text(driver: WebDriver, css: str, text: str, timeout: float = 10) -> None:
    try:
        WebDriverWait(driver, timeout).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))
    except TimeoutException:
        shown = driver.execute_script("const el = document.querySelector(arguments[0]); return el ? el.textContent : '(no such element)'", css)
        logs = "\n".join(e.get("message", "") for e in driver.get_log("browser"))
        raise AssertionError(f"{css} never showed {text!r} on {driver.current_url}; it shows {shown[:300]!r}\nbrowser log:\n{logs}") from None


def sign_in(driver: WebDriver, server: FrontdeskServer, user: dict, path: str = "/admin/inbox") -> None:
    """Opens `path`, which shows sign-in, signs in, and waits to be back on `path`."""
    driver.get(server.url(path))
    wait_for(driver, "#signin-email").send_keys(user["email"])
    driver.find_element(By.ID, "signin-password").send_keys(user["password"])
    driver.find_element(By.ID, "signin-submit").click()
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.ID, "sign-out"))
    WebDriverWait(driver, 10).until(lambda d: d.current_url.split("#")[0].endswith(path.split("#")[0]))


def _expected(entry: dict, server: FrontdeskServer | None) -> bool:
    """While the binary has no chat server yet, the agent socket's failed handshakes."""
    message = entry.get("message", "")
    if server is not None and "/api/v1/admin/ws" in message and not chat_available(server):
        return True
    return False


def chat_available(server: FrontdeskServer) -> bool:
    """Whether this binary serves the agent chat socket (a plain GET then answers 426 or 401, not 404)."""
    return requests.get(server.url("/api/v1/admin/ws"), timeout=5).status_code != 404


def attr_of(driver: WebDriver, css: str, name: str) -> str | None:
    """An attribute read in one script call (re-renders make element handles stale)."""
    return driver.execute_script("const el = document.querySelector(arguments[0]); return el ? el.getAttribute(arguments[1]) : null", css, name)


def assert_no_console_errors(driver: WebDriver, where: str, server: FrontdeskServer | None = None) -> None:
    wait_until_quiet(driver)
    errors = [e for e in severe_console_entries(driver) if not _expected(e, server)]
    assert not errors, f"console errors on {where}:\n" + "\n".join(json.dumps(e) for e in errors)


def assert_no_alert(driver: WebDriver) -> None:
    try:
        alert = driver.switch_to.alert
    except NoAlertPresentException:
        return
    text = alert.text
    alert.dismiss()
    raise AssertionError(f"a script ran: an alert said {text!r}")


def injected_elements(driver: WebDriver) -> list[str]:
    """Elements a payload could have injected into the console page (none may exist)."""
    return driver.execute_script(
        """
        const bad = [];
        for (const el of document.querySelectorAll('img, script, iframe, svg, object, embed, video, audio, marquee, a[href^="javascript"], [onerror], [onload], [onclick], [onmouseover], [onfocus]')) {
          if (el.tagName === 'SCRIPT' && el.src && new URL(el.src).pathname.startsWith('/admin/console.')) continue;
          if (el.tagName.toLowerCase() === 'svg' && el.classList.contains('icon')) continue;
          if (el.closest('svg.icon')) continue;
          bad.push(el.outerHTML.slice(0, 200));
        }
        if (window.__xss) bad.push('window.__xss was set');
        return bad;
        """
    )


DEEP_TEXT = """
    const walk = (node) => {
      let out = '';
      for (const child of node.childNodes) {
        if (child.nodeType === Node.TEXT_NODE) out += child.data;
        else if (child.nodeType === Node.ELEMENT_NODE) {
          if (child.shadowRoot) out += walk(child.shadowRoot);
          if (child.tagName !== 'SCRIPT' && child.tagName !== 'STYLE') out += walk(child);
        }
      }
      return out;
    };
    return walk(document.body);
"""


def page_text(driver: WebDriver) -> str:
    """All text of the page, shadow roots included (the customer's ticket page uses custom elements)."""
    return driver.execute_script(DEEP_TEXT)


def wait_page_contains(driver: WebDriver, text: str, timeout: float = 10) -> None:
    try:
        WebDriverWait(driver, timeout).until(lambda d: text in page_text(d))
    except TimeoutException:
        raise AssertionError(f"{text!r} did not appear verbatim on {driver.current_url}") from None

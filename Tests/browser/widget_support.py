"""Fixtures and helpers for the widget's browser tests (test_widget*.py).

`widget_env` runs one `frontdesk serve --demo` configured the way a real site would use it:
proof of work on, newsletter topics, an extra required field on the contact form, and a second
origin (a page server on `localhost`, while Frontdesk is on `127.0.0.1`) listed in
`server.site_origins`, so the widget is tested both on /demo and embedded cross-origin.

Set FRONTDESK_WIDGET_ASSETS_DIR=Resources (or any Resources/ folder) to serve the widget from disk
with `--assets-dir` while developing; the test command runs against the embedded bundles.
"""

from __future__ import annotations

import http.server
import json
import os
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.shadowroot import ShadowRoot
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from support.frontdesk_proc import REPO_ROOT, FrontdeskServer, free_port, frontdesk_bin

PAGES_DIR = Path(__file__).resolve().parent / "pages"
AGENT_EMAIL = "ann@example.com"
AGENT_PASSWORD = "correct horse battery staple 42"
WAIT = 15


@dataclass
class WidgetEnv:
    """The running server, the cross-origin page server, and ways to look inside both."""

    server: FrontdeskServer
    pages_origin: str

    def url(self, path: str) -> str:
        return self.server.url(path)

    def page(self, name: str) -> str:
        """A page of Tests/browser/pages served from the second origin."""
        return f"{self.pages_origin}/{name}"

    def rows(self, sql: str, *params: Any) -> list[tuple]:
        """Rows from the live database (read-only; WAL lets us read while the server writes)."""
        db = sqlite3.connect(f"file:{self.server.data_dir / 'frontdesk.sqlite'}?mode=ro", uri=True, timeout=5)
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()

    def count(self, table: str, email: str) -> int:
        return self.rows(f"SELECT count(*) FROM {table} WHERE email = ?", email)[0][0]


IDENTITY_SECRET = "frontdesk-widget-test-secret-of-32-bytes-or-more"


def knows_setting(key: str) -> bool:
    """Whether this binary has a setting (e.g. chat.identity_secret): unknown keys stop the server."""
    out = subprocess.run([str(frontdesk_bin()), "check-config", "--print-defaults"], capture_output=True, text=True).stdout
    return f"# {key.split('.')[-1]} =" in out and f"[{key.split('.')[0]}]" in out


def _config(path: Path, site_origin: str) -> Path:
    chat = f'\n[chat]\nidentity_secret = "{IDENTITY_SECRET}"\n'
    path.write_text(
        chat +
        f"""
[server]
site_origins = ["{site_origin}"]

[spam]
min_fill_seconds = 2
proof_of_work = true
proof_of_work_max_number = 20000

[newsletter]
topics = ["news:Bakery news", "offers:Special offers"]

[forms.contact]
title = "Contact us"
fields = [{{ name = "order_number", label = "Order number", required = true, max_length = 20 }}]
"""
    )
    return path


def server_args() -> list[str]:
    """Flags every widget test server gets: no rate limits, and the widget from disk when asked."""
    args = ["--rate-limit", "off"]
    assets = os.environ.get("FRONTDESK_WIDGET_ASSETS_DIR")
    if assets:
        args += ["--assets-dir", str((REPO_ROOT / assets).resolve())]
    return args


class _PageHandler(http.server.SimpleHTTPRequestHandler):
    """Serves Tests/browser/pages, with {{FRONTDESK}} replaced by the server's base URL."""

    frontdesk = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=str(PAGES_DIR), **kwargs)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        path = PAGES_DIR / self.path.split("?")[0].lstrip("/")
        if path.suffix == ".html" and path.is_file():
            body = path.read_text().replace("{{FRONTDESK}}", self.frontdesk).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="session")
def widget_env(tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path) -> Iterator[WidgetEnv]:
    """A configured demo server plus a page server on a second origin that embeds the loader."""
    tmp = tmp_path_factory.mktemp("widget")
    pages_port = free_port()
    pages_origin = f"http://localhost:{pages_port}"
    config = _config(tmp / "frontdesk.toml", pages_origin)
    data = tmp / "data"
    subprocess.run(
        [str(frontdesk_bin()), "user", "add", "--data-dir", str(data), "--config", str(config),
         "--email", AGENT_EMAIL, "--name", "Ann", "--role", "admin", "--password-stdin"],
        input=AGENT_PASSWORD.encode(), check=True, capture_output=True,
    )
    server = FrontdeskServer(data, demo=True, extra_args=["--config", str(config), *server_args()], log_path=tmp / "server.log").start()

    handler = type("Handler", (_PageHandler,), {"frontdesk": server.base_url.rstrip("/")})
    pages = http.server.ThreadingHTTPServer(("127.0.0.1", pages_port), handler)
    thread = threading.Thread(target=pages.serve_forever, daemon=True)
    thread.start()
    env = WidgetEnv(server, pages_origin)
    try:
        yield env
    finally:
        pages.shutdown()
        pages.server_close()
        alive = server.proc is not None and server.proc.poll() is None
        code = server.stop()
        (artifacts_dir / "widget-server.log").write_text(server.output())
    assert alive, f"frontdesk died during the widget tests\n{server.log_tail()}"
    assert code == 0, f"SIGTERM gave exit code {code}\n{server.log_tail()}"


# The two places every element is tested: Frontdesk's own demo page and a site on another origin.
PAGES: dict[str, Callable[[WidgetEnv], str]] = {
    "demo": lambda env: env.url("/demo"),
    "cross-origin": lambda env: env.page("embed.html"),
}


# --- shadow DOM helpers -------------------------------------------------------------------------


def shadow(driver: WebDriver, host_css: str, ready_css: str = "*", timeout: float = WAIT) -> ShadowRoot:
    """The open shadow root of the first `host_css` element, once `ready_css` exists inside it."""

    def ready(_):
        hosts = driver.find_elements(By.CSS_SELECTOR, host_css)
        if not hosts:
            return False
        root = driver.execute_script("return arguments[0].shadowRoot", hosts[0])
        if root is None or not root.find_elements(By.CSS_SELECTOR, ready_css):
            return False
        return root

    return WebDriverWait(driver, timeout).until(ready, f"{host_css} never rendered {ready_css}")


def inner(root: ShadowRoot, css: str) -> WebElement:
    return root.find_element(By.CSS_SELECTOR, css)


def active_in_shadow(driver: WebDriver) -> dict:
    """Describes the focused element, looking through shadow roots: tag, id, name, class, label."""
    return driver.execute_script(
        """
        let el = document.activeElement;
        const hosts = [];
        while (el && el.shadowRoot && el.shadowRoot.activeElement) { hosts.push(el.localName); el = el.shadowRoot.activeElement; }
        if (!el) return null;
        return {hosts, tag: el.localName, id: el.id, name: el.getAttribute('name'), cls: el.className,
                label: el.getAttribute('aria-label') || el.textContent.trim().slice(0, 60)};
        """
    )


def wait_for(driver: WebDriver, predicate: Callable[[WebDriver], Any], message: str | Callable[[], str], timeout: float = WAIT) -> Any:
    """WebDriverWait with a message that may be computed at failure time (to show what was there instead)."""
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.1).until(predicate)
    except TimeoutException:
        raise TimeoutException(message() if callable(message) else message) from None


def unexpected_console_errors(entries: list[dict], allowed_statuses: tuple[int, ...] = ()) -> list[dict]:
    """Console errors, minus failed loads whose HTTP status the test provoked on purpose (e.g. 422)."""
    def expected(entry: dict) -> bool:
        msg = entry.get("message", "")
        return entry.get("source") == "network" and any(f"status of {s} " in msg for s in allowed_statuses)

    return [e for e in entries if not expected(e)]


def fill(root: ShadowRoot, values: dict[str, str]) -> None:
    """Types into the named fields of a form inside a shadow root (selects get their option picked)."""
    for name, value in values.items():
        field = root.find_element(By.CSS_SELECTOR, f'[name="{name}"]')
        if field.tag_name == "select":
            field.find_element(By.CSS_SELECTOR, f'option[value="{value}"]').click()
        else:
            field.clear()
            field.send_keys(value)


# --- the agent's side of the chat ---------------------------------------------------------------


def chat_available(env: WidgetEnv) -> bool:
    """Capability probe: does this binary serve the visitor chat socket?"""
    try:
        spec = json.loads(urllib.request.urlopen(env.url("/api/openapi.json"), timeout=5).read())
    except OSError:
        return False
    if "/api/v1/ws" in spec.get("paths", {}):
        return True
    try:
        urllib.request.urlopen(env.url("/api/v1/ws"), timeout=5)
    except urllib.error.HTTPError as e:
        return e.code == 426
    except OSError:
        return False
    return False


def cross_origin_errors_readable(env: WidgetEnv) -> bool:
    """Capability probe: does an error envelope (422) carry CORS headers for a site origin?

    Without them a browser on the site's origin cannot read the field errors at all."""
    req = urllib.request.Request(
        env.url("/api/v1/contact"), data=b"{}", method="POST",
        headers={"Content-Type": "application/json", "Origin": env.pages_origin},
    )
    try:
        urllib.request.urlopen(req, timeout=5)
    except urllib.error.HTTPError as e:
        return e.headers.get("Access-Control-Allow-Origin") == env.pages_origin
    except OSError:
        return False
    return True


class Agent:
    """A console user's agent socket (websocket-client), signed in through the admin API."""

    def __init__(self, env: WidgetEnv) -> None:
        import websocket  # websocket-client, a dependency of selenium

        origin = env.server.base_url.rstrip("/")
        req = urllib.request.Request(
            env.url("/api/v1/admin/session"),
            data=json.dumps({"email": AGENT_EMAIL, "password": AGENT_PASSWORD}).encode(),
            headers={"Content-Type": "application/json", "Origin": origin},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            cookies = [c.split(";")[0] for c in resp.headers.get_all("Set-Cookie") or []]
        self.frames: list[dict] = []
        self.ws = websocket.create_connection(
            env.url("/api/v1/admin/ws").replace("http", "ws", 1),
            header=[f"Cookie: {'; '.join(cookies)}"], origin=origin, timeout=10,
        )
        self.refs = 0
        self.send("hello", {"status": "online"})
        self.welcome = self.expect(lambda f: f["type"] == "welcome")

    def send(self, type_: str, data: dict) -> str:
        self.refs += 1
        ref = f"a{self.refs}"
        self.ws.send(json.dumps({"v": 1, "type": type_, "ref": ref, "data": data}))
        return ref

    def expect(self, match: Callable[[dict], bool], timeout: float = WAIT) -> dict:
        """The first frame (already received or arriving within `timeout`) that `match`es."""
        for frame in self.frames:
            if match(frame):
                self.frames.remove(frame)
                return frame
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.ws.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                frame = json.loads(self.ws.recv())
            except Exception as e:  # timeout or closed
                if "timed out" in str(e).lower():
                    break
                raise
            if match(frame):
                return frame
            self.frames.append(frame)
        raise AssertionError(f"no matching frame within {timeout}s; got {[f['type'] for f in self.frames]}")

    def close(self) -> None:
        try:
            self.ws.close()
        except Exception:
            pass

"""The cookie-consent banner in real headless Chromium against a live `frontdesk serve`.

One server with the consent banner on a page of another origin (`pages/consent.html`: the loader
with data-consent="on", a gtag snippet, two marked site scripts and a marked iframe). Each test
gets a fresh browser (no stored choice). Requests are read from the DevTools protocol's network
log (performance log), proof rows from the live database.
"""

from __future__ import annotations

import http.server
import json
import sqlite3
import threading
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import CHROMEDRIVER, _chrome_options
from support.frontdesk_proc import FrontdeskServer, free_port
from widget_support import PAGES_DIR, _PageHandler, server_args

WAIT = 15
LOCALES = ["en", "de", "fr", "es", "it", "nl"]


class ConsentEnv:
    def __init__(self, server: FrontdeskServer, pages_origin: str) -> None:
        self.server = server
        self.pages_origin = pages_origin

    def page(self, query: str = "") -> str:
        return f"{self.pages_origin}/consent.html{query}"

    def rows(self, sql: str, *params) -> list[tuple]:
        db = sqlite3.connect(f"file:{self.server.data_dir / 'frontdesk.sqlite'}?mode=ro", uri=True, timeout=5)
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()

    def records(self, consent_id: str | None = None) -> list[dict]:
        sql = "SELECT consent_id, action, granted, denied, policy_version, text_hash, locale, gpc FROM consent_records"
        rows = self.rows(sql + " WHERE consent_id = ? ORDER BY id", consent_id) if consent_id else self.rows(sql + " ORDER BY id")
        keys = ["consent_id", "action", "granted", "denied", "version", "hash", "locale", "gpc"]
        return [dict(zip(keys, r)) for r in rows]

    def config(self, locale: str = "en") -> dict:
        with urllib.request.urlopen(self.server.url(f"/api/v1/consent/config?locale={locale}")) as r:
            return json.load(r)


@pytest.fixture(scope="module")
def consent_env(tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path) -> Iterator[ConsentEnv]:
    tmp = tmp_path_factory.mktemp("consent")
    pages_port = free_port()
    pages_origin = f"http://localhost:{pages_port}"
    config = tmp / "frontdesk.toml"
    config.write_text(f"""
[server]
site_origins = ["{pages_origin}"]

[consent]
position = "bar"

[[consent.services]]
id = "site-analytics"
name = "Site analytics"
category = "analytics"
provider = "This shop"
purpose = "Counts page views."
storage = ["_sa"]
retention = "13 months"

[[consent.services]]
id = "maps"
name = "Maps"
category = "marketing"
provider = "Example Maps Inc."
purpose = "Shows our shop on a map."
storage = ["NID"]
retention = "6 months"
""")
    server = FrontdeskServer(tmp / "data", extra_args=["--config", str(config), *server_args()], log_path=tmp / "server.log").start()
    handler = type("Handler", (_PageHandler,), {"frontdesk": server.base_url.rstrip("/")})
    pages = http.server.ThreadingHTTPServer(("127.0.0.1", pages_port), handler)
    threading.Thread(target=pages.serve_forever, daemon=True).start()
    try:
        yield ConsentEnv(server, pages_origin)
    finally:
        pages.shutdown()
        pages.server_close()
        alive = server.proc is not None and server.proc.poll() is None
        code = server.stop()
        (artifacts_dir / "consent-server.log").write_text(server.output())
    assert alive, f"frontdesk died during the consent tests\n{server.log_tail()}"
    assert code == 0, f"SIGTERM gave exit code {code}\n{server.log_tail()}"


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    """A fresh Chromium with the DevTools network log (performance log) recorded."""
    options = _chrome_options(str(tmp_path / "profile"))
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    drv = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER, log_output=str(tmp_path / "chromedriver.log")), options=options)
    drv.set_page_load_timeout(30)
    drv.execute_cdp_cmd("Network.enable", {})
    try:
        yield drv
    finally:
        drv.quit()


def requested(drv: webdriver.Chrome) -> list[str]:
    """Every URL the page requested since the last call (Network.requestWillBeSent)."""
    urls = []
    for entry in drv.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def events(drv: webdriver.Chrome) -> list[tuple[str, dict]]:
    """Every DevTools network event since the last call, as (method, params)."""
    out = []
    for entry in drv.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        out.append((message.get("method", ""), message.get("params", {})))
    return out


def banner(drv: webdriver.Chrome, timeout: float = WAIT):
    """The banner's shadow root once its buttons exist."""
    def ready(_):
        hosts = drv.find_elements(By.CSS_SELECTOR, "[data-frontdesk-consent-banner]")
        root = hosts and drv.execute_script("return arguments[0].shadowRoot", hosts[0])
        return root if root and root.find_elements(By.CSS_SELECTOR, ".acts .btn") else False
    return WebDriverWait(drv, timeout).until(ready, "the consent banner never showed")


def buttons(root) -> dict:
    return {b.text: b for b in root.find_elements(By.CSS_SELECTOR, "button") if b.is_displayed()}


def wait_records(env: ConsentEnv, n: int) -> list[dict]:
    deadline = time.time() + WAIT
    while time.time() < deadline:
        rows = env.records()
        if len(rows) >= n:
            return rows
        time.sleep(0.1)
    return env.records()


def refused_module(drv: webdriver.Chrome, name: str) -> None:
    """Waits for the loader's refusal of `name` (it reports "<name> needs <category> consent")."""
    WebDriverWait(drv, WAIT).until(lambda d: any(f"{name} needs" in e["message"] for e in d.get_log("browser")),
                                   f"the loader never refused {name}")


def config_checked(drv: webdriver.Chrome) -> None:
    """Waits until a returning visitor's loader has fetched the banner configuration and acted on
    it (the response is read, then the page gets two frames to show a banner if it must)."""
    finished: set[str] = set()
    config: set[str] = set()

    def done(d) -> bool:
        for method, params in events(d):
            if method == "Network.requestWillBeSent" and "/api/v1/consent/config" in params["request"]["url"]:
                config.add(params["requestId"])
            elif method == "Network.loadingFinished":
                finished.add(params["requestId"])
        return bool(config & finished)

    WebDriverWait(drv, WAIT).until(done, "the loader never revalidated the consent configuration")
    drv.execute_async_script("const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done()))")


def banner_gone(drv: webdriver.Chrome) -> None:
    WebDriverWait(drv, WAIT).until(lambda d: not d.find_elements(By.CSS_SELECTOR, "[data-frontdesk-consent-banner]"), "the banner stayed")


def luminance(rgb: str) -> float:
    parts = [float(x) for x in rgb[rgb.index("(") + 1: rgb.index(")")].split(",")[:3]]
    lin = [(c / 255) / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in parts]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted([luminance(a), luminance(b)], reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_first_visit_banner_with_equal_buttons_and_consent_mode_default_first(consent_env: ConsentEnv, browser, artifacts_dir: Path) -> None:
    browser.get(consent_env.page())
    root = banner(browser)
    b = buttons(root)
    accept, reject = b["Accept all"], b["Reject all"]
    style = """const s = getComputedStyle(arguments[0]), r = arguments[0].getBoundingClientRect();
               return {w: r.width, h: r.height, weight: s.fontWeight, size: s.fontSize, color: s.color, bg: s.backgroundColor};"""
    a, r = browser.execute_script(style, accept), browser.execute_script(style, reject)
    assert abs(a["w"] - r["w"]) < 1 and abs(a["h"] - r["h"]) < 1, (a, r)
    assert a["weight"] == r["weight"] and a["size"] == r["size"], (a, r)
    assert a["color"] == r["color"] and a["bg"] == r["bg"], (a, r)
    assert contrast(a["color"], a["bg"]) >= 4.5 and abs(contrast(a["color"], a["bg"]) - contrast(r["color"], r["bg"])) < 0.01
    # Consent Mode: the default (all denied, waiting for an update) is the first dataLayer entry, before the site's js/config.
    layer = browser.execute_script("return window.dataLayer.map(e => Array.from(e))")
    assert layer[0][0:2] == ["consent", "default"] and layer[0][2]["ad_storage"] == "denied" and layer[0][2]["analytics_storage"] == "denied"
    assert layer[0][2]["wait_for_update"] == 500
    assert [e[0] for e in layer[1:3]] == ["js", "config"]
    assert browser.execute_script("return window.siteRan") == []
    browser.save_screenshot(str(artifacts_dir / "consent-first-layer.png"))


def test_reject_loads_nothing_and_runs_no_marked_script_with_one_proof_row(consent_env: ConsentEnv, browser) -> None:
    before = len(consent_env.records())
    browser.get(consent_env.page())
    root = banner(browser)
    buttons(root)["Reject all"].click()
    banner_gone(browser)
    rows = wait_records(consent_env, before + 1)[before:]
    assert len(rows) == 1 and rows[0]["action"] == "reject_all" and rows[0]["granted"] == "necessary"
    config = consent_env.config("en")
    assert rows[0]["hash"] == config["hash"] and rows[0]["version"] == config["version"]
    # The chat bubble is there, but its click imports nothing: functional was refused.
    bubble = WebDriverWait(browser, WAIT).until(lambda d: d.execute_script(
        "const c = document.querySelector('frontdesk-chat'); return c && c.shadowRoot && c.shadowRoot.querySelector('button')"))
    requested(browser)
    bubble.click()
    refused_module(browser, "chat")
    urls = requested(browser)
    assert not [u for u in urls if "/widget/chat." in u], urls
    assert not [u for u in urls if "consent-marker.js" in u or "consent-embed.html" in u], urls
    assert browser.execute_script("return window.siteRan") == []
    assert browser.execute_script("return document.getElementById('map').getAttribute('src')") is None
    layer = browser.execute_script("return window.dataLayer.map(e => Array.from(e))")
    update = [e for e in layer if e[0:2] == ["consent", "update"]]
    assert len(update) == 1 and update[0][2]["analytics_storage"] == "denied" and update[0][2]["ad_storage"] == "denied"
    assert browser.execute_script("return window.consentEvents.length") == 1
    assert len(consent_env.records()) == before + 1  # exactly one row for the action
    # A returning visitor loads no consent module: the stored choice is read by the loader.
    requested(browser)
    browser.get(consent_env.page().replace("consent.html", "consent.html?again"))
    config_checked(browser)
    assert not browser.find_elements(By.CSS_SELECTOR, "[data-frontdesk-consent-banner]")


def test_accept_runs_marked_scripts_loads_embeds_and_chat(consent_env: ConsentEnv, browser) -> None:
    before = len(consent_env.records())
    browser.get(consent_env.page())
    buttons(banner(browser))["Accept all"].click()
    banner_gone(browser)
    WebDriverWait(browser, WAIT).until(lambda d: sorted(d.execute_script("return window.siteRan")) == ["analytics-inline", "marketing-src"])
    assert browser.execute_script("return document.getElementById('map').getAttribute('src')") == "consent-embed.html"
    rows = wait_records(consent_env, before + 1)[before:]
    assert [r["action"] for r in rows] == ["accept_all"] and rows[0]["denied"] == ""
    layer = browser.execute_script("return window.dataLayer.map(e => Array.from(e))")
    update = [e for e in layer if e[0:2] == ["consent", "update"]][-1][2]
    assert update["ad_storage"] == "granted" and update["analytics_storage"] == "granted"
    requested(browser)
    browser.execute_script("frontdesk.open()")
    WebDriverWait(browser, WAIT).until(lambda d: [u for u in requested(d) if "/widget/chat." in u])
    assert browser.execute_script("return frontdesk.consent.functional && frontdesk.consent.analytics && frontdesk.consent.marketing") is True


def test_customize_per_category_then_withdraw_without_reload(consent_env: ConsentEnv, browser) -> None:
    before = len(consent_env.records())
    browser.get(consent_env.page())
    root = banner(browser)
    buttons(root)["Customize"].click()
    root.find_element(By.CSS_SELECTOR, "#c-analytics").click()
    root.find_element(By.CSS_SELECTOR, "#c-functional").click()
    # Every service is listed under its category with provider, purpose, storage and retention.
    text = root.find_element(By.CSS_SELECTOR, ".in").text
    assert "Example Maps Inc." in text and "NID" in text and "13 months" in text
    buttons(root)["Save choice"].click()
    banner_gone(browser)
    WebDriverWait(browser, WAIT).until(lambda d: d.execute_script("return window.siteRan") == ["analytics-inline"])
    rows = wait_records(consent_env, before + 1)[before:]
    assert rows[0]["action"] == "custom" and rows[0]["granted"] == "necessary,functional,analytics" and rows[0]["denied"] == "marketing"
    assert browser.execute_script("return document.getElementById('map').getAttribute('src')") is None
    # The map waits behind a placeholder with a load button.
    assert browser.execute_script("return !!document.querySelector('[data-frontdesk-placeholder=marketing]')")
    consent_id = rows[0]["consent_id"]
    requested(browser)
    browser.execute_script("frontdesk.open()")
    WebDriverWait(browser, WAIT).until(lambda d: d.execute_script("return !!(document.querySelector('frontdesk-chat') || {}).p"))
    sockets: list[str] = []
    WebDriverWait(browser, WAIT).until(lambda d: sockets.extend(e["requestId"] for m, e in events(d) if m == "Network.webSocketCreated") or sockets)
    browser.execute_script("frontdesk.consent.open()")
    buttons(banner(browser))["Reject all"].click()
    banner_gone(browser)
    rows = wait_records(consent_env, before + 2)[before:]
    assert [r["action"] for r in rows] == ["custom", "withdraw"] and rows[1]["consent_id"] == consent_id
    # Withdrawal at once, no reload: the page was told, the chat is gone, new loads are refused.
    assert browser.execute_script("return window.consentEvents.at(-1).analytics") is False
    # The running chat was replaced by a fresh bubble that has loaded nothing, and its socket closed.
    WebDriverWait(browser, WAIT).until(lambda d: d.execute_script("return !document.querySelector('frontdesk-chat').p"))
    closed: list[str] = []
    WebDriverWait(browser, WAIT).until(lambda d: closed.extend(e["requestId"] for m, e in events(d) if m == "Network.webSocketClosed") or set(sockets) <= set(closed))
    browser.execute_script("frontdesk.open()")
    refused_module(browser, "chat")
    WebDriverWait(browser, WAIT).until(lambda d: d.execute_script("return !document.querySelector('frontdesk-chat').p"))
    assert not [u for u in requested(browser) if "/widget/chat." in u]
    assert browser.execute_script("return frontdesk.consent.analytics") is False
    assert browser.execute_script("return typeof frontdesk.consent.open") == "function"


def test_policy_bump_asks_again(consent_env: ConsentEnv, browser) -> None:
    browser.get(consent_env.page())
    try:
        root = banner(browser)
    except Exception:
        raise AssertionError(browser.get_log("browser"))
    assert "Accept all" in buttons(root), (list(buttons(root)), root.find_element(By.CSS_SELECTOR, ".in").text)
    buttons(root)["Accept all"].click()
    banner_gone(browser)
    events(browser)
    browser.get(consent_env.page("?second"))
    config_checked(browser)
    assert not browser.find_elements(By.CSS_SELECTOR, "[data-frontdesk-consent-banner]")
    # Publish a version adding a service through the console API.
    import requests
    s = requests.Session()
    base = consent_env.server.base_url.rstrip("/")
    subprocess_add_admin(consent_env)
    login = s.post(base + "/api/v1/admin/session", json={"email": "consent-admin@example.com", "password": ADMIN_PASSWORD}, headers={"Origin": base})
    assert login.status_code == 200, login.text
    csrf = login.json()["csrfToken"]
    current = s.get(base + "/api/v1/admin/consent/banner").json()["published"]["configuration"]
    current["services"].append({"id": "video", "name": "Video", "category": "marketing", "provider": "Example Video", "purpose": "Plays videos.",
                                "storage": ["VID"], "retention": "1 year"})
    published = s.post(base + "/api/v1/admin/consent/versions", json=current, headers={"Origin": base, "X-CSRF-Token": csrf})
    assert published.status_code == 201, published.text
    assert published.json()["promptSince"] == published.json()["version"]
    browser.get(consent_env.page("?third"))
    banner(browser)  # the loader revalidates the config (ETag) on every page


ADMIN_PASSWORD = "correct horse battery staple 42"


def subprocess_add_admin(env: ConsentEnv) -> None:
    import subprocess
    from support.frontdesk_proc import frontdesk_bin
    if env.rows("SELECT count(*) FROM users WHERE email = 'consent-admin@example.com'")[0][0]:
        return
    subprocess.run([str(frontdesk_bin()), "user", "add", "--data-dir", str(env.server.data_dir), "--email", "consent-admin@example.com",
                    "--name", "Admin", "--role", "admin", "--password-stdin"], input=ADMIN_PASSWORD.encode(), check=True, capture_output=True)


def test_gpc_refuses_marketing_and_says_so(consent_env: ConsentEnv, browser) -> None:
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument",
                            {"source": "Object.defineProperty(navigator, 'globalPrivacyControl', {get: () => true});"})
    before = len(consent_env.records())
    browser.get(consent_env.page())
    root = banner(browser)
    assert "Global Privacy Control" in root.find_element(By.CSS_SELECTOR, ".gpc").text
    buttons(root)["Accept all"].click()
    banner_gone(browser)
    rows = wait_records(consent_env, before + 1)[before:]
    assert rows[0]["denied"] == "marketing" and rows[0]["gpc"] == 1 and rows[0]["action"] == "custom"
    WebDriverWait(browser, WAIT).until(lambda d: d.execute_script("return window.siteRan") == ["analytics-inline"])
    assert browser.execute_script("return frontdesk.consent.marketing") is False


@pytest.mark.parametrize("locale", LOCALES)
def test_every_locale_renders_without_overflow(consent_env: ConsentEnv, browser, artifacts_dir: Path, locale: str) -> None:
    browser.set_window_size(360, 740)
    browser.get(consent_env.page(f"?lang={locale}"))
    root = banner(browser)
    WebDriverWait(browser, WAIT).until(lambda d: root.find_element(By.CSS_SELECTOR, ".bn").get_attribute("lang") == locale)
    config = consent_env.config(locale)
    texts = json.loads(config["document"])["texts"]
    assert texts["acceptAll"] in root.find_element(By.CSS_SELECTOR, ".acts").text
    overflow = browser.execute_script("""
        const box = arguments[0].querySelector('.bn');
        const out = [];
        for (const el of box.querySelectorAll('*')) {
          const r = el.getBoundingClientRect();
          if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX == 'visible') out.push(el.tagName + ':' + el.textContent.slice(0, 30));
          if (r.right > innerWidth + 1 || r.left < -1) out.push('outside:' + el.tagName + ':' + el.textContent.slice(0, 30));
        }
        return out;""", browser.execute_script("return document.querySelector('[data-frontdesk-consent-banner]').shadowRoot"))
    browser.save_screenshot(str(artifacts_dir / f"consent-{locale}.png"))
    assert overflow == [], overflow


def test_axe_finds_no_serious_or_critical_violation(consent_env: ConsentEnv, browser) -> None:
    from axe_selenium_python import Axe
    browser.get(consent_env.page())
    root = banner(browser)
    buttons(root)["Customize"].click()
    axe = Axe(browser)
    axe.inject()
    results = axe.run(context="[data-frontdesk-consent-banner]")
    bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]]) for v in results["violations"] if v["impact"] in ("serious", "critical")]
    assert bad == [], bad


def test_banner_causes_no_layout_shift_and_keeps_focus_inside(consent_env: ConsentEnv, browser) -> None:
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": """
        window.cls = 0; window.shifts = [];
        new PerformanceObserver(l => { for (const e of l.getEntries()) { window.cls += e.value; window.shifts.push([e.value, e.startTime, (e.sources || []).map(s => s.node ? (s.node.nodeName + "#" + (s.node.id || "") + "." + (s.node.className || "") + " " + JSON.stringify(s.previousRect) + "->" + JSON.stringify(s.currentRect)) : "?")]); } })
          .observe({type: 'layout-shift', buffered: true});"""})
    browser.get(consent_env.page())
    root = banner(browser)
    top = browser.execute_script("return document.getElementById('content').getBoundingClientRect().top")
    time.sleep(0.5)
    assert browser.execute_script("return window.cls") == 0, browser.execute_script("return window.shifts")
    assert browser.execute_script("return document.getElementById('content').getBoundingClientRect().top") == top
    # Focus starts on Accept all and Tab cycles inside the dialog.
    name = "return document.activeElement.shadowRoot && document.activeElement.shadowRoot.activeElement && document.activeElement.shadowRoot.activeElement.textContent"
    assert browser.execute_script(name) == "Accept all"
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    seen = []
    for _ in range(8):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        seen.append(browser.execute_script(name))
    assert None not in seen and "Accept all" in seen, seen
    dialog = root.find_element(By.CSS_SELECTOR, "[role=dialog]")
    assert dialog.get_attribute("aria-labelledby") == "t" and dialog.get_attribute("aria-modal") == "true"

"""The tracker in real headless Chromium: what it sends to POST /api/v1/events, read from the
DevTools protocol's network log (Network.requestWillBeSent with its post data), and what it
never does (no request with data-track="off", the owner's ignore flag or Do-Not-Track/GPC; no
cookie and no storage in cookieless mode, checked with Network.getAllCookies and the page).

The page is Tests/browser/pages/track.html on a second origin (a site embedding the loader),
with the loader's data- attributes taken from its query string.

Ingest is the analytics engine's endpoint. These tests assert the payloads the browser sends;
`EventLog.statuses` holds the status the server answered each one with, and once the endpoint
is routed every one of them must be 202 (see `assert_accepted`).
"""

from __future__ import annotations

import base64
import json
import re
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from conftest import CHROMEDRIVER, _chrome_options, _record_pid
from widget_support import WAIT, wait_for, widget_env  # noqa: F401 (fixture)

CONTRACT_KEYS = {"type", "url", "referrer", "name", "props", "engagedMs", "scrollDepth", "screen", "visitor"}


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    """Headless Chromium with the DevTools network log (the suite's `driver` keeps only the console)."""
    scratch = Path(tempfile.mkdtemp(prefix="frontdesk-chromium-"))
    options = _chrome_options(str(scratch / "profile"))
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    drv = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER, log_output=str(scratch / "chromedriver.log")), options=options)
    pid_file = _record_pid(drv.service.process.pid)
    drv.set_page_load_timeout(30)
    try:
        yield drv
    finally:
        drv.quit()
        if pid_file is not None:
            pid_file.unlink(missing_ok=True)


class EventLog:
    """Every request the page made, from the DevTools log; the tracker's batches decoded."""

    def __init__(self, driver: webdriver.Chrome, endpoint: str) -> None:
        self.driver = driver
        self.endpoint = endpoint
        self.requests: list[dict] = []  # every URL requested, for "no request at all"
        self.batches: list[dict] = []  # {"id", "type", "headers", "body"} of POSTs to the endpoint
        self.statuses: dict[str, int] = {}

    def poll(self) -> None:
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            params = message.get("params", {})
            if message["method"] == "Network.requestWillBeSent":
                request = params["request"]
                self.requests.append({"url": request["url"], "type": params.get("type")})
                if request["url"] == self.endpoint and request["method"] == "POST":
                    body = request.get("postData")
                    if body is None and request.get("postDataEntries"):
                        body = b"".join(base64.b64decode(e.get("bytes", "")) for e in request["postDataEntries"]).decode()
                    self.batches.append({"id": params["requestId"], "type": params.get("type"), "headers": request["headers"], "body": json.loads(body)})
            elif message["method"] == "Network.responseReceived" and params["response"]["url"] == self.endpoint:
                self.statuses[params["requestId"]] = params["response"]["status"]

    @property
    def events(self) -> list[dict]:
        return [event for batch in self.batches for event in batch["body"]["events"]]

    def wait_for(self, predicate, message: str, timeout: float = WAIT) -> list[dict]:
        """Events so far, once `predicate(events)` holds."""
        deadline = time.monotonic() + timeout
        while True:
            self.poll()
            found = [e for e in self.events if predicate(e)]
            if found:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"{message}; the tracker sent: {json.dumps(self.events, indent=1)}")
            time.sleep(0.1)


def open_page(env, browser: webdriver.Chrome, query: str = "") -> EventLog:
    browser.get_log("performance")  # what earlier pages sent is not this page's
    log = EventLog(browser, env.url("/api/v1/events"))
    browser.get(env.page("track.html") + query)
    return log


def assert_contract(log: EventLog) -> None:
    """Every batch is what the ingest contract says: text/plain JSON of 1–50 well-formed events."""
    for batch in log.batches:
        assert batch["type"] in ("Ping", "Fetch"), batch["type"]  # sendBeacon, or the keepalive fetch
        assert batch["headers"].get("Content-Type", "").startswith("text/plain"), batch["headers"]
        events = batch["body"]["events"]
        assert set(batch["body"]) == {"events"} and 1 <= len(events) <= 50
        for event in events:
            assert set(event) <= CONTRACT_KEYS, event
            assert event["type"] in ("pageview", "event", "engagement")
            assert event["url"].startswith("http") and len(event["url"]) <= 2048
            assert event["screen"] in ("mobile", "tablet", "desktop")
            if event["type"] == "event":
                assert re.fullmatch(r"[A-Za-z0-9 _.:/-]{1,64}", event["name"]), event
                assert len(event.get("props", {})) <= 16
            if event["type"] == "engagement":
                assert isinstance(event["engagedMs"], int) and 0 <= event["engagedMs"] <= 86_400_000
                assert "scrollDepth" not in event or 0 <= event["scrollDepth"] <= 100
            if event["type"] != "pageview":
                assert "referrer" not in event


def assert_accepted(log: EventLog) -> None:
    """The server queued every batch: 202 (needs the analytics engine's POST /api/v1/events)."""
    log.poll()
    assert log.statuses and set(log.statuses.values()) == {202}, log.statuses


def storage_and_cookies(browser: webdriver.Chrome) -> dict[str, Any]:
    page = browser.execute_script("return {cookie: document.cookie, local: Object.keys(localStorage), session: Object.keys(sessionStorage)}")
    page["cdp_cookies"] = browser.execute_cdp_cmd("Network.getAllCookies", {})["cookies"]
    return page


def test_page_view_custom_events_and_spa_navigation(widget_env, browser) -> None:
    log = open_page(widget_env, browser, "?utm_source=newsletter&utm_medium=email")
    page_url = widget_env.page("track.html") + "?utm_source=newsletter&utm_medium=email"
    views = log.wait_for(lambda e: e["type"] == "pageview", "no page view")
    assert views[0] == {"type": "pageview", "url": page_url, "screen": "desktop"}, "cookieless: no visitor id, no referrer on a direct visit"

    # Queued by the snippet before the loader arrived, then one after the tracker loaded.
    queued = log.wait_for(lambda e: e["type"] == "event", "the call queued before load was not replayed")
    assert queued[0] == {"type": "event", "name": "queued before load", "props": {"plan": "basic", "seats": 3}, "url": page_url, "screen": "desktop"}
    browser.execute_script("""
        frontdesk.track('signup: done', {plan: 'pro', yearly: true, price: 9.5, dropped: {nested: 1}});
        frontdesk.track('bad name!');
        frontdesk.trackEngagement('video', 12345.6);""")
    after = log.wait_for(lambda e: e.get("name") == "signup: done", "track() after load sent nothing")
    assert after[0]["props"] == {"plan": "pro", "yearly": True, "price": 9.5}, "only string, number and boolean values are kept"
    assert log.wait_for(lambda e: e.get("name") == "video", "trackEngagement sent nothing")[0] == {
        "type": "engagement", "name": "video", "engagedMs": 12346, "url": page_url, "screen": "desktop"}
    assert not [e for e in log.events if e.get("name") == "bad name!"], "a name outside the contract is never sent"

    # Single-page navigation: a page view for the new path, the old page's engagement first.
    browser.execute_script("history.pushState({}, '', '/app/pricing?plan=pro#top')")
    spa = log.wait_for(lambda e: e["type"] == "pageview" and "/app/pricing" in e["url"], "pushState made no page view")
    assert spa[0] == {"type": "pageview", "url": widget_env.page("app/pricing?plan=pro#top"), "screen": "desktop"}
    left = [e for e in log.events if e["type"] == "engagement" and "name" not in e]
    assert left and left[0]["url"] == page_url, "the first page's engaged time is sent when the app navigates"
    browser.execute_script("history.replaceState({}, '', '/app/pricing?plan=team')")  # same path: no new view
    browser.execute_script("history.pushState({}, '', '/app/checkout')")
    browser.execute_script("history.back()")
    log.wait_for(lambda e: e["type"] == "pageview" and e["url"].endswith("/app/checkout"), "second pushState made no page view")
    log.wait_for(lambda e: e["type"] == "pageview" and e["url"].endswith("/app/pricing?plan=team"), "popstate made no page view")
    paths = [e["url"].split("/", 3)[3] for e in log.events if e["type"] == "pageview"]
    assert paths == ["track.html?utm_source=newsletter&utm_medium=email", "app/pricing?plan=pro#top", "app/checkout", "app/pricing?plan=team"]
    assert_contract(log)

    # Cookieless: nothing stored, nothing set.
    state = storage_and_cookies(browser)
    assert state == {"cookie": "", "local": [], "session": [], "cdp_cookies": []}, state
    # (the analytics engine's endpoint: add `assert_accepted(log)` once POST /api/v1/events is routed)


def test_engaged_time_and_scroll_depth_on_tab_hide(widget_env, browser) -> None:
    log = open_page(widget_env, browser)
    log.wait_for(lambda e: e["type"] == "pageview", "no page view")
    started = time.monotonic()
    body = browser.find_element(By.TAG_NAME, "h1")
    for _ in range(6):  # a reader moving the mouse and scrolling down
        ActionChains(browser).move_to_element_with_offset(body, 5, 5).pause(0.15).move_to_element_with_offset(body, 40, 10).perform()
    browser.execute_script("window.scrollTo(0, 1200)")
    time.sleep(0.3)
    height = browser.execute_script("return [document.documentElement.scrollHeight, window.innerHeight]")
    window = browser.current_window_handle
    browser.switch_to.new_window("tab")  # the tracked tab becomes hidden
    elapsed_ms = (time.monotonic() - started) * 1000
    engaged = log.wait_for(lambda e: e["type"] == "engagement", "hiding the tab sent no engagement")
    hidden_batch = next(b for b in log.batches if any(e["type"] == "engagement" for e in b["body"]["events"]))
    assert hidden_batch["type"] == "Ping", "sent with navigator.sendBeacon"
    event = engaged[0]
    assert event["url"] == widget_env.page("track.html")
    assert 1000 <= event["engagedMs"] <= elapsed_ms + 2000, (event, elapsed_ms)
    browser.switch_to.window(window)
    assert event["scrollDepth"] == round((1200 + height[1]) / height[0] * 100), (event, height)
    assert_contract(log)


def test_outbound_and_download_clicks_are_opt_in(widget_env, browser) -> None:
    log = open_page(widget_env, browser)
    log.wait_for(lambda e: e["type"] == "pageview", "no page view")
    for link in ("outbound", "download", "internal"):
        browser.find_element(By.ID, link).click()
    # Events leave in order: once a custom event sent after the clicks arrived, an event for a
    # click would have arrived before it.
    browser.execute_script("frontdesk.track('after-clicks')")
    log.wait_for(lambda e: e.get("name") == "after-clicks", "the custom event after the clicks was not sent")
    assert not [e for e in log.events if e["type"] == "event" and e["name"] in ("outbound", "download")], "clicks are tracked only when opted in"

    log = open_page(widget_env, browser, "?track-outbound=&track-downloads=")
    log.wait_for(lambda e: e["type"] == "pageview" and "track-outbound" in e["url"], "no page view")
    for link in ("internal", "outbound", "download"):
        browser.find_element(By.ID, link).click()
    out = log.wait_for(lambda e: e.get("name") == "outbound", "outbound click not sent")
    assert out[0]["props"] == {"url": "http://elsewhere.example/page?x=1"}
    down = log.wait_for(lambda e: e.get("name") == "download", "download click not sent")
    assert down[0]["props"] == {"url": widget_env.page("files/price-list.pdf")}
    assert len([e for e in log.events if e.get("name") in ("outbound", "download")]) == 2, "the internal link is neither"
    assert_contract(log)


def test_not_found_page_and_visitor_id_with_analytics_consent(widget_env, browser) -> None:
    log = open_page(widget_env, browser, "?404=")
    missing = log.wait_for(lambda e: e.get("name") == "404", "a data-404 page sent no 404 event")
    assert missing[0]["props"] == {"path": "/track.html"}

    # With the analytics category granted, a persistent first-party id is kept and sent.
    browser.execute_script("frontdesk.consent = {necessary: true, analytics: true}; frontdesk.track('consented')")
    sent = log.wait_for(lambda e: e.get("name") == "consented", "track() after consent sent nothing")
    visitor = sent[0].get("visitor", "")
    assert re.fullmatch(r"[A-Za-z0-9_-]{16,64}", visitor), sent[0]
    assert browser.execute_script("return localStorage.getItem('frontdesk:visitor')") == visitor
    browser.execute_script("frontdesk.track('again')")
    assert log.wait_for(lambda e: e.get("name") == "again", "second event not sent")[0]["visitor"] == visitor
    assert_contract(log)


@pytest.mark.parametrize("how", ["data-track=off", "owner's ignore flag", "Global Privacy Control"])
def test_no_request_when_tracking_is_off(widget_env, browser, how) -> None:
    if how == "owner's ignore flag":
        browser.get(widget_env.page("track.html?track=off"))
        browser.execute_script("localStorage.setItem('frontdesk:ignore', '1')")
    if how == "Global Privacy Control":
        browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {
            "source": "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})"})
    log = open_page(widget_env, browser, "?track=off" if how == "data-track=off" else "")
    wait_for(browser, lambda d: d.execute_script("return document.readyState == 'complete' && !!(window.frontdesk && frontdesk.version)"), "loader never ran")
    browser.execute_script("frontdesk.track('should-not-leave')")
    # The tracker would be loaded within the idle callback's 3 s bound; wait past it.
    time.sleep(4)
    log.poll()
    assert [r["url"] for r in log.requests if "/widget/track." in r["url"] or r["url"] == log.endpoint] == [], how
    assert browser.execute_script("return frontdesk.tracked.map(t => t.name)") == ["queued before load", "should-not-leave"]


def test_respect_dnt_off_counts_a_gpc_browser(widget_env, browser) -> None:
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {
        "source": "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})"})
    log = open_page(widget_env, browser, "?respect-dnt=off")
    assert log.wait_for(lambda e: e["type"] == "pageview", "data-respect-dnt=off still skipped the page view")

"""Notification banners in real Chromium against `serve --demo`, on a site of another origin:
a banner published through the console's API reaches an already open page over the visitor
socket within a second and leaves at the end of its schedule; a dismissal is remembered per
version; inline banners keep their slot; impressions, dismissals and clicks reach the analytics
engine as events. Every wait waits on what the page shows, never on a fixed sleep.
"""

from __future__ import annotations

import datetime
import sqlite3
import time
import uuid
from pathlib import Path

import requests
from selenium.webdriver.common.by import By

from console_support import naughty_strings
from widget_support import AGENT_EMAIL, AGENT_PASSWORD, active_in_shadow, wait_for, widget_env  # noqa: F401


DESKTOP_CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"


def admin(env) -> requests.Session:
    """A console session for the admin API (Origin and CSRF as the console sends them)."""
    s = requests.Session()
    s.headers["Origin"] = env.server.base_url.rstrip("/")
    r = s.post(env.url("/api/v1/admin/session"), json={"email": AGENT_EMAIL, "password": AGENT_PASSWORD}, timeout=10)
    assert r.status_code == 200, r.text
    s.headers["X-CSRF-Token"] = r.json()["csrfToken"]
    return s


def create(session, env, **fields) -> dict:
    r = session.post(env.url("/api/v1/admin/engage/banners"), json=fields, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def publish(session, env, banner_id: int, action: str = "publish") -> None:
    r = session.post(env.url(f"/api/v1/admin/engage/banners/{banner_id}/{action}"), timeout=10)
    assert r.status_code == 200, r.text


def banner_state(driver, banner_id: int) -> dict | None:
    """The banner as the page shows it (in a top/bottom bar or a slot), or None."""
    return driver.execute_script(
        """
        const hosts = [...document.querySelectorAll('[data-frontdesk-banner], frontdesk-banner')];
        for (const host of hosts) {
          const el = host.shadowRoot && host.shadowRoot.querySelector('[data-banner="' + arguments[0] + '"]');
          if (!el) continue;
          const r = el.getBoundingClientRect();
          return {where: host.getAttribute('data-frontdesk-banner') || 'slot:' + host.getAttribute('slot'),
                  role: el.getAttribute('role'), label: el.getAttribute('aria-label'), text: el.innerText,
                  html: el.querySelector('.t').innerHTML, top: r.top, height: r.height,
                  cta: el.querySelector('a.c') && el.querySelector('a.c').getAttribute('href'),
                  visible: r.height > 0 && getComputedStyle(el).visibility != 'hidden'};
        }
        return null;
        """,
        banner_id,
    )


def wait_socket(driver) -> None:
    """Until the engage module fetched its document (its socket opens at the same time)."""
    wait_for(driver, lambda d: d.execute_script(
        "return performance.getEntriesByType('resource').some(e => e.name.includes('/api/v1/engage'))"), "the engage document was never fetched")


def analytics_events(env, name: str, banner_id: int) -> int:
    db = sqlite3.connect(f"file:{env.server.data_dir / 'analytics.sqlite'}?mode=ro", uri=True, timeout=5)
    try:
        return db.execute(
            "SELECT count(*) FROM visitor_events e JOIN analytics_strings s ON s.id = e.name "
            "WHERE s.value = ? AND json_extract(e.props, '$.banner') = ?", (name, banner_id)).fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        db.close()


def latest_events(env) -> list[tuple]:
    db = sqlite3.connect(f"file:{env.server.data_dir / 'analytics.sqlite'}?mode=ro", uri=True, timeout=5)
    try:
        return db.execute("SELECT e.event_type, s.value, e.props FROM visitor_events e LEFT JOIN analytics_strings s ON s.id = e.name "
                          "WHERE s.value LIKE 'engage%' ORDER BY e.id DESC LIMIT 8").fetchall() + db.execute("SELECT count(*), max(id) FROM visitor_events").fetchall()
    finally:
        db.close()


def shot(driver, artifacts_dir: Path, name: str) -> None:
    driver.save_screenshot(str(artifacts_dir / f"{name}.png"))


def test_published_banner_reaches_open_page_within_a_second_and_leaves_at_its_end(driver, widget_env, artifacts_dir):  # noqa: F811
    env = widget_env
    session = admin(env)
    title = f"Oven repair {uuid.uuid4().hex[:6]}"
    banner = create(session, env, title=title, type="warning", content="Today **only bread**, no cakes.", position="top",
                    cta={"label": "See breads", "url": "/demo#breads"}, priority=900, paths=["/demo"])
    driver.get(env.url("/demo"))
    wait_socket(driver)
    focus_before = active_in_shadow(driver)
    assert banner_state(driver, banner["id"]) is None, "a draft is shown"

    publish(session, env, banner["id"])
    started = time.monotonic()
    # Pushed over the socket: no reload, at most a second.
    state = wait_for(driver, lambda d: banner_state(d, banner["id"]), "the published banner never reached the open page", timeout=1.0)
    elapsed = time.monotonic() - started
    assert elapsed <= 1.0, elapsed
    assert state["where"] == "top" and state["role"] == "region" and state["label"] == title and state["visible"]
    assert "<strong>only bread</strong>" in state["html"] and state["cta"] == "/demo#breads"
    assert state["top"] == 0
    assert active_in_shadow(driver) == focus_before, "the banner took the focus"
    shot(driver, artifacts_dir, "engage-top-banner")

    # Unpublishing withdraws it just as fast.
    publish(session, env, banner["id"], "unpublish")
    wait_for(driver, lambda d: banner_state(d, banner["id"]) is None, "the withdrawn banner stayed", timeout=1.0)

    # A schedule that ends in a few seconds (tracking.timezone is UTC here): shown, then gone at its end.
    # Whole seconds: the schedule's local times have no fractions.
    end = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=4)).replace(microsecond=0)
    r = session.patch(env.url(f"/api/v1/admin/engage/banners/{banner['id']}"), json={"endsAt": end.strftime("%Y-%m-%dT%H:%M:%S")}, timeout=10)
    assert r.status_code == 200, r.text
    publish(session, env, banner["id"])
    wait_for(driver, lambda d: banner_state(d, banner["id"]), "the scheduled banner never showed", timeout=1.0)
    wait_for(driver, lambda d: banner_state(d, banner["id"]) is None, "the banner outlived its schedule", timeout=8)
    assert datetime.datetime.now(datetime.timezone.utc) >= end - datetime.timedelta(milliseconds=50), "withdrawn before its end"


def test_inline_slot_dismissal_per_version_and_analytics_events(driver, widget_env, artifacts_dir):  # noqa: F811
    env = widget_env
    session = admin(env)
    # Headless Chromium announces itself and the analytics engine drops bots: look like a desktop Chrome.
    driver.execute_cdp_cmd("Network.setUserAgentOverride", {"userAgent": DESKTOP_CHROME})
    banner = create(session, env, title="Price change", type="promo", content="New prices from *Monday*.", position="inline", slot="pricing-top",
                    cta={"label": "Read more", "url": env.page("engage.html") + "#more"}, priority=5)
    publish(session, env, banner["id"])
    driver.get(env.page("engage.html"))
    state = wait_for(driver, lambda d: banner_state(d, banner["id"]), "the inline banner never showed")
    assert state["where"] == "slot:pricing-top" and state["role"] == "region" and state["label"] == "Price change"
    # The slot kept its height reserved: what follows it did not move when the banner arrived.
    slot_height = driver.execute_script("return document.querySelector('frontdesk-banner').getBoundingClientRect().height")
    assert slot_height >= state["height"] - 1
    shot(driver, artifacts_dir, "engage-inline-banner")

    def click_in_banner(css: str) -> None:
        driver.execute_script(
            "document.querySelector('frontdesk-banner').shadowRoot.querySelector(arguments[0]).click()", css)

    # The call to action is counted, then the dismissal is remembered across a reload…
    driver.execute_script("document.querySelector('frontdesk-banner').shadowRoot.querySelector('a.c').addEventListener('click', e => e.preventDefault())")
    click_in_banner("a.c")
    click_in_banner("button[aria-label^='Dismiss notice']")
    wait_for(driver, lambda d: banner_state(d, banner["id"]) is None, "dismissing did not hide the banner")
    driver.refresh()
    wait_socket(driver)
    wait_for(driver, lambda d: d.execute_script("return !!document.querySelector('frontdesk-banner').shadowRoot"), "no slot")
    assert banner_state(driver, banner["id"]) is None, "a dismissed banner came back after a reload"
    # …but a new version (the content changed) shows again, pushed live.
    r = session.patch(env.url(f"/api/v1/admin/engage/banners/{banner['id']}"), json={"content": "New prices from *Tuesday*."}, timeout=10)
    assert r.status_code == 200 and r.json()["version"] == 2, r.text
    state = wait_for(driver, lambda d: banner_state(d, banner["id"]), "the new version did not show")
    assert "Tuesday" in state["text"]

    # Impressions (two versions), the click and the dismissal reached the analytics engine.
    for name, want in (("engage.banner.impression", 2), ("engage.banner.click", 1), ("engage.banner.dismiss", 1)):
        wait_for(driver, lambda _: analytics_events(env, name, banner["id"]) >= want,
                 lambda: f"{name}: {analytics_events(env, name, banner['id'])} events, want {want}; latest: {latest_events(env)}; page: "
                 + str(driver.execute_script("return [String(frontdesk.track).slice(0, 80), (frontdesk.tracked || []).length, "
                                             "performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes('/widget/') || n.includes('/events'))]")))
    publish(session, env, banner["id"], "unpublish")


def test_banner_content_stays_inert_and_unsafe_links_are_refused(driver, widget_env):  # noqa: F811
    env = widget_env
    session = admin(env)
    strings = [s for s in naughty_strings() if "<" not in s and s.isprintable()][:30]
    for bad in ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<!-- x -->"):
        r = session.post(env.url("/api/v1/admin/engage/banners"), json={"title": "x", "content": bad}, timeout=10)
        assert r.status_code == 422 and "content" in r.json()["error"]["details"], r.text
    for url in ("javascript:alert(1)", "//evil.example/", "https://evil.example/", "data:text/html,x"):
        r = session.post(env.url("/api/v1/admin/engage/banners"), json={"title": "x", "content": "y", "cta": {"label": "Go", "url": url}}, timeout=10)
        assert r.status_code == 422 and "cta.url" in r.json()["error"]["details"], (url, r.text)
    content = "[click](javascript:alert(1)) " + " ".join(s.replace("\n", " ") for s in strings)[:1500]
    banner = create(session, env, title="\"><svg onload=alert(1)>", content=content, position="bottom", paths=["/engage.html"])
    publish(session, env, banner["id"])
    driver.get(env.page("engage.html"))
    state = wait_for(driver, lambda d: banner_state(d, banner["id"]), "the banner never showed")
    assert state["where"] == "bottom" and state["label"] == "\"><svg onload=alert(1)>"
    assert "<svg" not in state["html"] and "href=\"javascript:" not in state["html"]
    assert driver.execute_script(
        "return [...document.querySelectorAll('[data-frontdesk-banner]')].every(h => !h.shadowRoot.querySelector('svg, script, img, [onload], [onerror]'))")
    assert driver.execute_script("return window.__xss === undefined")
    publish(session, env, banner["id"], "unpublish")

"""The widget is isolated from the site: hostile site CSS does not change it, it works on another
origin, calls made before the loader arrives are replayed, and the default theme meets WCAG AA."""

from __future__ import annotations

import gzip
import os
import re
import urllib.request

from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from widget_support import PAGES, chat_available, shadow, wait_for, widget_env  # noqa: F401 (fixture)

HOSTILE_CSS = (Path(__file__).resolve().parent / "pages" / "hostile.css").read_text()

# What a visitor sees of each element: sizes that do not depend on the page's layout, and the look.
SNAPSHOT = """
// Fields stretch to the site's column, so their width is the site's business; everything else is ours.
const pick = (el, stretches) => {
  if (!el) return null;
  const r = el.getBoundingClientRect(), s = getComputedStyle(el);
  return {w: stretches ? 'column' : Math.round(r.width), h: Math.round(r.height), display: s.display, font: s.fontSize, family: s.fontFamily,
          line: s.lineHeight, color: s.color, bg: s.backgroundColor, border: s.borderTopWidth + ' ' + s.borderTopStyle, radius: s.borderTopLeftRadius};
};
const out = {};
for (const tag of ['frontdesk-contact-form', 'frontdesk-newsletter', 'frontdesk-ticket-form']) {
  const root = document.querySelector(tag).shadowRoot;
  out[tag] = {button: pick(root.querySelector('form button[type=submit]')), input: pick(root.querySelector('input[name=email]'), true),
              label: pick(root.querySelector('label[for=i-email]'), true), textarea: pick(root.querySelector('textarea'), true)};
}
const chat = document.querySelector('frontdesk-chat').shadowRoot;
const bubble = chat.querySelector('button.bubble');
const r = bubble.getBoundingClientRect();
out.bubble = {...pick(bubble), right: Math.round(document.documentElement.clientWidth - r.right), bottom: Math.round(document.documentElement.clientHeight - r.bottom)};
return out;
"""

APPLY_HOSTILE = """
const sheet = new CSSStyleSheet();
sheet.replaceSync(arguments[0]);
document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
"""


@pytest.mark.parametrize("where", PAGES)
def test_aggressive_site_css_does_not_change_the_widget(widget_env, driver, where) -> None:
    driver.get(PAGES[where](widget_env))
    for tag in ("frontdesk-contact-form", "frontdesk-newsletter", "frontdesk-ticket-form"):
        shadow(driver, tag, "form button[type=submit]")
    shadow(driver, "frontdesk-chat", "button.bubble")
    before = driver.execute_script(SNAPSHOT)

    # A constructable sheet, so the test also works under /demo's strict style-src policy.
    driver.execute_script(APPLY_HOSTILE, HOSTILE_CSS)
    site_heading = driver.find_element(By.CSS_SELECTOR, "h1")
    assert driver.execute_script("return getComputedStyle(arguments[0]).fontSize", site_heading) == "40px", "hostile CSS not applied"
    after = driver.execute_script(SNAPSHOT)

    for key in before:
        assert after[key] == before[key], f"{key} changed under the site's CSS:\nbefore {before[key]}\nafter  {after[key]}"
    assert before["bubble"]["right"] == 20 and before["bubble"]["bottom"] == 20

    # The chat panel, opened under the hostile CSS, still shows its buttons and keeps its size.
    driver.find_element(By.CSS_SELECTOR, "frontdesk-chat").shadow_root.find_element(By.CSS_SELECTOR, "button.bubble").click()
    chat = shadow(driver, "frontdesk-chat", "#fd-panel:not([hidden])")
    panel = chat.find_element(By.CSS_SELECTOR, "#fd-panel")
    assert panel.size["width"] == 370
    assert all(b.is_displayed() for b in chat.find_elements(By.CSS_SELECTOR, ".composer button, .head button[aria-label]"))


def test_calls_before_the_loader_are_replayed(widget_env, driver) -> None:
    """stub.html calls on(), identify(), track() and open() before /widget.js has loaded."""
    driver.get(widget_env.page("stub.html"))
    shadow(driver, "frontdesk-chat", "#fd-panel:not([hidden])")
    state = driver.execute_script(
        "return {open: frontdesk.isOpen, events: window.frontdeskEvents, tracked: frontdesk.tracked.map(t => t.name), version: frontdesk.version}"
    )
    assert state == {"open": True, "events": ["open"], "tracked": ["signup-viewed"], "version": "1"}


@pytest.mark.skipif(bool(os.environ.get("FRONTDESK_WIDGET_ASSETS_DIR")), reason="--assets-dir serves everything no-cache")
def test_loader_is_small_short_cached_and_modules_are_immutable(widget_env) -> None:
    req = urllib.request.Request(widget_env.url("/widget.js"), headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(req) as resp:
        body = resp.read()
        assert resp.headers["Content-Encoding"] == "gzip"
        # 2 KB plus the consent boot and the tracker's start (LOADER_BUDGET in Resources/widget/build.sh).
        assert len(body) <= 2560, f"loader is {len(body)} bytes gzipped"
        assert resp.headers["ETag"] and "immutable" not in resp.headers["Cache-Control"]
        assert resp.headers["Access-Control-Allow-Origin"] == "*"
    source = gzip.decompress(body).decode()
    modules = re.findall(r"(chat|forms|ticket)\.([0-9a-f]{8,})\.js", source)
    assert {m for m, _ in modules} == {"chat", "forms", "ticket"}
    for name, digest in modules:
        with urllib.request.urlopen(widget_env.url(f"/widget/{name}.{digest}.js")) as resp:
            assert "immutable" in resp.headers["Cache-Control"]
            assert resp.headers["Access-Control-Allow-Origin"] == "*"


CONTRAST = """
const lum = (c) => { const [r, g, b] = c.match(/[\\d.]+/g).slice(0, 3).map(Number).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
const bgOf = (el) => { for (let e = el; e; e = e.parentElement || (e.getRootNode() && e.getRootNode().host)) { const b = getComputedStyle(e).backgroundColor; if (!/rgba\\(.*, 0\\)|transparent/.test(b)) return b; } return 'rgb(255, 255, 255)'; };
const ratio = (el) => { const a = lum(getComputedStyle(el).color), b = lum(bgOf(el)); return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05); };
const out = {};
for (const [name, root, css] of arguments[0]) {
  const el = document.querySelector(root).shadowRoot.querySelector(css);
  out[name] = el ? Math.round(ratio(el) * 100) / 100 : null;
}
return out;
"""


def test_default_theme_meets_wcag_aa_contrast(widget_env, driver) -> None:
    """On a plain white page (no theme variables set), text in the widget is at least 4.5:1."""
    driver.get(widget_env.page("embed.html"))
    root = shadow(driver, "frontdesk-contact-form", "form button[type=submit]")
    shadow(driver, "frontdesk-newsletter", "#consent")
    root.find_element(By.CSS_SELECTOR, "input[name=email]").send_keys("x")
    driver.find_element(By.CSS_SELECTOR, "frontdesk-chat").shadow_root.find_element(By.CSS_SELECTOR, "button.bubble").click()
    shadow(driver, "frontdesk-chat", "#fd-panel:not([hidden])")
    checks = [
        ["label", "frontdesk-contact-form", "label[for=i-name]"],
        ["optional hint", "frontdesk-contact-form", ".opt"],
        ["input text", "frontdesk-contact-form", "input[name=email]"],
        ["submit button", "frontdesk-contact-form", "form button[type=submit]"],
        ["consent note", "frontdesk-newsletter", "#consent"],
        ["chat header", "frontdesk-chat", ".head h2"],
        ["chat status", "frontdesk-chat", "#fd-status"],
        ["chat hint", "frontdesk-chat", ".m.hint"],
        ["chat send", "frontdesk-chat", ".composer button"],
    ]
    ratios = driver.execute_script(CONTRAST, checks)
    low = {k: v for k, v in ratios.items() if v is None or v < 4.5}
    assert not low, f"contrast below 4.5:1: {low} (all: {ratios})"


def test_auto_theme_follows_dark_mode_and_reduced_motion_stops_animation(widget_env, driver) -> None:
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [
        {"name": "prefers-color-scheme", "value": "dark"}, {"name": "prefers-reduced-motion", "value": "reduce"}]})
    driver.get(widget_env.page("embed.html"))
    root = shadow(driver, "frontdesk-contact-form", "form button[type=submit]")
    bg = driver.execute_script("return getComputedStyle(arguments[0].querySelector('input[name=email]')).backgroundColor", root)
    assert bg == "rgb(22, 27, 34)", bg
    driver.find_element(By.CSS_SELECTOR, "frontdesk-chat").shadow_root.find_element(By.CSS_SELECTOR, "button.bubble").click()
    chat = shadow(driver, "frontdesk-chat", "#fd-panel:not([hidden])")
    duration = driver.execute_script("return getComputedStyle(arguments[0].querySelector('#fd-panel')).transitionDuration", chat)
    assert set(duration.replace(" ", "").split(",")) == {"0s"}, duration

"""The console's analytics screen in real headless Chromium against a live `frontdesk serve`.

The data: `frontdesk analytics generate` (the real batch writer; the size is printed) plus a few
known visits sent through the real ingest (`POST /api/v1/events`), whose counts the goal and
funnel checks know in advance. Every figure on the screen is compared with the admin analytics
API for the same range and filters; the timings (Navigation/User Timing read through Selenium)
are printed, never asserted.
"""

from __future__ import annotations

import csv
import io
import json
import os
import statistics
import subprocess
import time
from pathlib import Path
from typing import Iterator
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from console_support import ADMIN, ConsoleAPI, add_user, assert_no_console_errors, click, shots, sign_in, texts, wait_for  # noqa: F401 (shots is a fixture)
from conftest import severe_console_entries
from support.frontdesk_proc import FrontdeskServer

SITE = "https://www.bakery.example"
UA = "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0"
# The generated data set: big enough to matter, small enough for a debug build in a test run.
EVENTS = int(os.environ.get("FRONTDESK_ANALYTICS_TEST_EVENTS", "200000"))
KNOWN = [  # visitor → the known pages it views, in order, and its custom event
    (["/known/landing", "/known/pricing", "/known/thanks"], {"plan": "pro"}),
    (["/known/landing", "/known/pricing", "/known/thanks"], {"plan": "pro"}),
    (["/known/landing", "/known/pricing"], {"plan": "free"}),
    (["/known/landing", "/known/pricing"], None),
    (["/known/landing"], None),
    (["/known/landing"], None),
]
PANEL_TABS = {"pages": "page", "sources": "source", "countries": "country", "devices": "device", "events": "event"}


def send_known_visits(server: FrontdeskServer) -> None:
    """Six visitors (distinct forwarded addresses) through the real ingest, one batch each."""
    for i, (pages, props) in enumerate(KNOWN):
        events = [{"type": "pageview", "url": SITE + page, "screen": "desktop"} for page in pages]
        if props is not None:
            events.append({"type": "event", "url": SITE + pages[-1], "name": "known_signup", "props": props})
        r = requests.post(server.url("/api/v1/events"), data=json.dumps({"events": events}), timeout=10, headers={
            "Content-Type": "text/plain;charset=UTF-8", "Origin": SITE, "User-Agent": UA, "X-Forwarded-For": f"10.77.0.{i + 1}"})
        assert r.status_code == 202, r.text


@pytest.fixture(scope="module")
def an_server(tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path) -> Iterator[FrontdeskServer]:
    tmp = tmp_path_factory.mktemp("analytics-console")
    data = tmp / "data"
    data.mkdir(parents=True)
    saved = {k: os.environ.get(k) for k in ("FRONTDESK_SITE_ORIGINS", "FRONTDESK_TRUSTED_PROXIES")}
    os.environ["FRONTDESK_SITE_ORIGINS"] = SITE
    os.environ["FRONTDESK_TRUSTED_PROXIES"] = "127.0.0.1"
    server = FrontdeskServer(data, log_path=tmp / "server.log", extra_args=["--rate-limit", "off"])
    started = time.monotonic()
    reuse = os.environ.get("FRONTDESK_ANALYTICS_TEST_DATA")  # a folder an earlier generate filled (the same options), while developing
    if reuse:
        import shutil
        shutil.copyfile(Path(reuse) / "analytics.sqlite", data / "analytics.sqlite")
    generated = subprocess.run(["true"], capture_output=True, text=True) if reuse else subprocess.run([str(server.binary), "analytics", "generate", "--data-dir", str(data), "--events", str(EVENTS), "--months", "3",
                                "--paths", "5000", "--visitors", str(max(1000, EVENTS // 10))], capture_output=True, text=True, timeout=900)
    assert generated.returncode == 0, generated.stderr
    print(f"\ndata set: {EVENTS:,} generated events over 3 months in {time.monotonic() - started:.0f} s; {(generated.stdout.strip().splitlines() or ['reused'])[0]}")
    try:
        server.start()
        add_user(server, ADMIN)
        send_known_visits(server)
        api = ConsoleAPI(server, ADMIN["email"], ADMIN["password"])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # the batch writer commits at least every second
            rows = api.get("/api/v1/admin/analytics/breakdown", params={"by": "page", "page": "/known/*", "limit": 10}).json()["items"]
            if sum(r["pageviews"] for r in rows) == sum(len(p) for p, _ in KNOWN):
                break
            time.sleep(0.2)
        else:
            raise AssertionError(f"the known visits were not counted: {rows}")
        yield server
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        alive = server.proc is not None and server.proc.poll() is None
        code = server.stop()
        if server.log_path.exists():
            (artifacts_dir / "analytics-console-server.log").write_bytes(server.log_path.read_bytes())
    assert alive, f"frontdesk died during the analytics console tests\n{server.log_tail()}"
    assert code == 0


@pytest.fixture(scope="module")
def an_api(an_server: FrontdeskServer) -> ConsoleAPI:
    return ConsoleAPI(an_server, ADMIN["email"], ADMIN["password"])


# ---- reading the screen -----------------------------------------------------------------------

def wait_drawn(driver, after: int = 0, timeout: float = 30) -> int:
    """Waits until the screen has drawn every panel for a view newer than `after`."""
    WebDriverWait(driver, timeout).until(lambda d: int(d.execute_script("return document.getElementById('main')?.dataset.drawn || '0'")) > after)
    return int(driver.execute_script("return document.getElementById('main').dataset.drawn"))


def drawn(driver) -> int:
    return int(driver.execute_script("return document.getElementById('main')?.dataset.drawn || '0'"))


def panel_rows(driver, panel: str) -> list[dict]:
    return driver.execute_script("""
        return [...document.querySelectorAll(`[data-panel="${arguments[0]}"] tbody tr`)].map(tr => {
          const row = {value: tr.dataset.value};
          for (const td of tr.querySelectorAll('td[data-col]')) row[td.dataset.col] = Number(td.dataset.raw ?? td.textContent);
          return row;
        });""", panel)


def kpis(driver) -> dict:
    return driver.execute_script("""
        const out = {};
        for (const tile of document.querySelectorAll('[data-kpi]')) {
          const v = tile.querySelector('.an-kpi-value').dataset.raw;
          const c = tile.querySelector('[data-previous]');
          out[tile.dataset.kpi] = {value: v === '' ? null : Number(v), previous: c ? Number(c.dataset.previous) : null};
        }
        return out;""")


def view_range(driver) -> tuple[str, str]:
    text = driver.find_element(By.ID, "an-range-text").text
    first, second = text.split(" · ")[0].split(" – ")
    return first.strip(), second.strip()


def api_rows(api: ConsoleAPI, by: str, params: dict) -> list[dict]:
    r = api.get("/api/v1/admin/analytics/breakdown", params={**params, "by": by, "limit": 10})
    assert r.status_code == 200, r.text
    return r.json()["items"]


def assert_panels_match(driver, api: ConsoleAPI, params: dict) -> None:
    """Every breakdown panel and the KPI tiles show what the API answers for the same query."""
    for panel, by in PANEL_TABS.items():
        shown = panel_rows(driver, panel)
        want = api_rows(api, by, params)
        assert [r["value"] for r in shown] == [r["value"] for r in want], f"{panel}: rows differ"
        first = "visits" if by == "event" else "visitors"
        second = "events" if by == "event" else "pageviews" if by == "page" else "visits"
        assert [(r[first], r[second]) for r in shown] == [(r[first], r[second]) for r in want], f"{panel}: figures differ"
    summary = api.get("/api/v1/admin/analytics/summary", params=params).json()
    tiles = kpis(driver)
    for key in ("visitors", "visits", "pageviews", "viewsPerVisit", "bounceRate", "visitDuration"):
        assert tiles[key]["value"] == summary["current"][key], key
        assert tiles[key]["previous"] == summary["previous"][key], key


def open_analytics(driver, server: FrontdeskServer, path: str = "/admin/analytics") -> int:
    sign_in(driver, server, ADMIN, path)
    return wait_drawn(driver)


def query_of(driver) -> dict:
    return {k: v[0] for k, v in parse_qs(urlparse(driver.current_url).query).items()}


def api_params(driver) -> dict:
    """The API query of what the screen shows: its dates and the URL's filters."""
    start, end = view_range(driver)
    params = {"from": start, "to": end}
    for k, v in query_of(driver).items():
        if k in ("page", "entry_page", "exit_page", "source", "referrer", "utm_source", "utm_medium", "utm_campaign", "country", "device", "browser", "os", "event", "goal"):
            params[k] = v
    return params


# ---- tests ------------------------------------------------------------------------------------

def test_every_panel_equals_the_api(driver, an_server, an_api) -> None:
    open_analytics(driver, an_server)
    params = api_params(driver)
    assert int(params["to"][:4]) >= 2026 and params["from"] < params["to"]
    assert_panels_match(driver, an_api, params)
    # The time series table holds the chart's numbers: the API's series for the same range.
    series = an_api.get("/api/v1/admin/analytics/timeseries", params={**params, "interval": "day"}).json()["points"]
    cells = driver.execute_script("return [...document.querySelectorAll('#an-series-table tbody tr')].map(tr => [tr.dataset.bucket, Number(tr.querySelector('td[data-col]').textContent)])")
    assert cells == [[p["bucket"], p["visitors"]] for p in series]
    assert len(cells) == 30
    assert driver.execute_script("return document.querySelector('#an-chart-box canvas') !== null")
    assert_no_console_errors(driver, "the analytics screen", an_server)


def test_clicking_a_source_filters_every_panel_and_the_url(driver, an_server, an_api) -> None:
    before = open_analytics(driver, an_server)
    source = panel_rows(driver, "sources")[0]["value"]
    click(driver, f'[data-panel="sources"] .an-row-filter[data-value="{source}"]')
    after = wait_drawn(driver, before)
    assert query_of(driver).get("source") == source
    chip = driver.find_element(By.CSS_SELECTOR, '[data-filter="source"]')
    assert source in chip.text
    params = api_params(driver)
    assert params["source"] == source
    assert_panels_match(driver, an_api, params)
    # Filtered figures are smaller than the whole site's: the filter did reach the panels.
    unfiltered = an_api.get("/api/v1/admin/analytics/summary", params={"from": params["from"], "to": params["to"]}).json()["current"]["visits"]
    assert kpis(driver)["visits"]["value"] < unfiltered
    # Removing the chip takes the filter out of the URL and the panels.
    click(driver, '[data-filter="source"] .an-chip-x')
    wait_drawn(driver, after)
    assert "source" not in query_of(driver)
    assert not driver.find_elements(By.CSS_SELECTOR, '[data-filter="source"]')
    assert kpis(driver)["visits"]["value"] == unfiltered


def test_a_bookmarked_view_restores(driver, an_server, an_api) -> None:
    country = an_api.get("/api/v1/admin/analytics/breakdown", params={"by": "country", "limit": 1}).json()["items"][0]["value"]
    path = f"/admin/analytics?range=7d&tab_pages=entry_page&metric=pageviews&country={country}&device=desktop"
    open_analytics(driver, an_server, path)
    assert driver.execute_script("return document.getElementById('an-range').value") == "7d"
    start, end = view_range(driver)
    assert (time.mktime(time.strptime(end, "%Y-%m-%d")) - time.mktime(time.strptime(start, "%Y-%m-%d"))) / 86400 == pytest.approx(6, abs=0.05)
    assert {c.get_attribute("data-filter") for c in driver.find_elements(By.CSS_SELECTOR, ".an-chip")} == {"country", "device"}
    assert driver.find_element(By.CSS_SELECTOR, '[data-panel="pages"] .seg.active').get_attribute("data-tab") == "entry_page"
    assert driver.find_element(By.CSS_SELECTOR, '#an-series .seg.active').get_attribute("data-metric") == "pageviews"
    params = api_params(driver)
    assert params["country"] == country and params["device"] == "desktop"
    entry = api_rows(an_api, "entry_page", params)
    assert [r["value"] for r in panel_rows(driver, "pages")] == [r["value"] for r in entry]
    assert [r["visitors"] for r in panel_rows(driver, "pages")] == [r["visitors"] for r in entry]
    series = an_api.get("/api/v1/admin/analytics/timeseries", params={**params, "interval": "day"}).json()["points"]
    cells = driver.execute_script("return [...document.querySelectorAll('#an-series-table tbody tr td[data-col=pageviews]')].map(td => Number(td.textContent))")
    assert cells == [p["pageviews"] for p in series]


def test_comparison_with_the_previous_period(driver, an_server, an_api) -> None:
    before = open_analytics(driver, an_server, "/admin/analytics?range=30d")
    click(driver, "#an-compare")
    wait_drawn(driver, before)
    assert query_of(driver).get("compare") == "1"
    start, end = view_range(driver)
    assert "compared with" in driver.find_element(By.ID, "an-range-text").text
    prev_from = time.strftime("%Y-%m-%d", time.gmtime(time.mktime(time.strptime(start, "%Y-%m-%d")) - 30 * 86400 + 43200))
    prev_to = time.strftime("%Y-%m-%d", time.gmtime(time.mktime(time.strptime(start, "%Y-%m-%d")) - 86400 + 43200))
    previous = an_api.get("/api/v1/admin/analytics/timeseries", params={"from": prev_from, "to": prev_to, "interval": "day"}).json()["points"]
    cells = driver.execute_script("return [...document.querySelectorAll('#an-series-table tbody td[data-col=previous]')].map(td => Number(td.textContent))")
    assert cells == [p["visitors"] for p in previous]
    summary = an_api.get("/api/v1/admin/analytics/summary", params={"from": start, "to": end}).json()
    tiles = kpis(driver)
    assert tiles["visits"]["previous"] == summary["previous"]["visits"]
    change = driver.find_element(By.CSS_SELECTOR, '[data-kpi="visits"] [data-change]').get_attribute("data-change")
    cur, prev = summary["current"]["visits"], summary["previous"]["visits"]
    assert change == (str(round((cur - prev) / prev * 100)) if prev else ("0" if cur == 0 else "new"))


def test_csv_export_equals_the_table(driver, an_server, an_api) -> None:
    open_analytics(driver, an_server, "/admin/analytics?tab_sources=referrer")
    cookies = {c["name"]: c["value"] for c in driver.get_cookies()}
    for panel in ("pages", "sources"):
        href = driver.find_element(By.CSS_SELECTOR, f'[data-csv="{panel}"]').get_attribute("href")
        r = requests.get(href, cookies=cookies, timeout=15)
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv"), r.text
        rows = list(csv.DictReader(io.StringIO(r.text)))
        shown = panel_rows(driver, panel)
        assert [row[next(iter(row))] for row in rows[: len(shown)]] == [s["value"] for s in shown]
        assert [int(row["visitors"]) for row in rows[: len(shown)]] == [s["visitors"] for s in shown]
    href = driver.find_element(By.ID, "an-series-csv").get_attribute("href")
    rows = list(csv.DictReader(io.StringIO(requests.get(href, cookies=cookies, timeout=15).text)))
    cells = driver.execute_script("return [...document.querySelectorAll('#an-series-table tbody tr')].map(tr => [tr.dataset.bucket, Number(tr.querySelector('td[data-col]').textContent)])")
    assert [[r["day"], int(r["visitors"])] for r in rows] == cells


def test_typed_filters_apply_and_bad_filters_and_ranges_are_named(driver, an_server) -> None:
    open_analytics(driver, an_server)
    # A filter typed by hand: an unknown field is refused beside the field, a known one applied.
    box = wait_for(driver, "#an-filter")
    box.send_keys("colour=blue", Keys.ENTER)
    WebDriverWait(driver, 5).until(lambda d: "field=value" in d.find_element(By.ID, "an-filter-error").text)
    assert box.get_attribute("aria-invalid") == "true"
    before = drawn(driver)
    box.clear()
    box.send_keys("page=/known/*", Keys.ENTER)
    wait_drawn(driver, before)
    assert query_of(driver)["page"] == "/known/*"
    assert [r["value"] for r in panel_rows(driver, "pages")][:3] == ["/known/landing", "/known/pricing", "/known/thanks"]
    # A custom range that ends before it starts: the API's 422 is shown, naming the field.
    before = drawn(driver)
    driver.get(an_server.url("/admin/analytics?range=custom&from=2026-05-10&to=2026-05-01"))
    wait_drawn(driver)
    WebDriverWait(driver, 5).until(lambda d: "to must not be before from" in d.find_element(By.ID, "an-filter-error").text)


def test_empty_site_tells_the_owner_how_to_embed_the_tracker(driver, tmp_path: Path) -> None:
    server = FrontdeskServer(tmp_path / "data", log_path=tmp_path / "server.log").start()
    try:
        add_user(server, ADMIN)
        open_analytics(driver, server)
        WebDriverWait(driver, 10).until(lambda d: d.find_element(By.ID, "an-empty").is_displayed())
        snippet = driver.find_element(By.ID, "an-snippet").text
        assert snippet == f'<script src="{server.base_url.rstrip("/")}/widget.js" async></script>'
        assert not driver.find_elements(By.CSS_SELECTOR, '[data-panel="pages"] tbody tr')
        assert_no_console_errors(driver, "the empty analytics screen", server)
    finally:
        assert server.stop() == 0


def test_keyboard_g_a_and_slash(driver, an_server) -> None:
    sign_in(driver, an_server, ADMIN, "/admin/inbox")
    body = driver.find_element(By.TAG_NAME, "body")
    body.send_keys("g")
    body.send_keys("a")
    WebDriverWait(driver, 5).until(lambda d: urlparse(d.current_url).path == "/admin/analytics")
    wait_drawn(driver)
    driver.find_element(By.TAG_NAME, "body").send_keys("/")
    WebDriverWait(driver, 5).until(lambda d: d.execute_script("return document.activeElement.id") == "an-filter")


def test_realtime_tile_changes_when_a_visitor_loads_a_page(driver, an_server, an_api) -> None:
    open_analytics(driver, an_server)
    before = an_api.get("/api/v1/admin/analytics/realtime").json()["visitors"]
    WebDriverWait(driver, 10).until(lambda d: d.find_element(By.ID, "an-now").get_attribute("data-raw") == str(before))
    r = requests.post(an_server.url("/api/v1/events"), timeout=10, data=json.dumps({"events": [{"type": "pageview", "url": SITE + "/realtime-probe", "screen": "mobile"}]}),
                      headers={"Content-Type": "text/plain;charset=UTF-8", "Origin": SITE, "User-Agent": UA, "X-Forwarded-For": "10.78.0.9"})
    assert r.status_code == 202
    # A new visitor: one more on the tile, pushed over the agent socket (visitors.now every 3 s;
    # the screen asks over HTTP only while the socket is down, every 30 s), without a reload.
    WebDriverWait(driver, 15).until(lambda d: d.find_element(By.ID, "an-now").get_attribute("data-raw") == str(before + 1))
    assert an_api.get("/api/v1/admin/analytics/realtime").json()["visitors"] == before + 1
    # The chat screen lists the visitor with the page they are on, source and time on site.
    click(driver, '[data-nav="chat"]')
    probe = '#visitors-now [data-page="/realtime-probe"]'
    WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.CSS_SELECTOR, probe))
    assert "Direct" in driver.find_element(By.CSS_SELECTOR, probe).text and "on site just now" in driver.find_element(By.CSS_SELECTOR, probe).text
    assert f"On the site now ({before + 1})" in driver.find_element(By.ID, "visitors-now").text


def test_dark_mode_and_tablet_width_without_errors_or_overflow(driver, an_server, shots) -> None:
    open_analytics(driver, an_server)
    driver.execute_script("localStorage.setItem('frontdesk.theme', 'dark'); document.documentElement.dataset.theme = 'dark'")
    driver.execute_async_script("requestAnimationFrame(() => requestAnimationFrame(arguments[0]))")  # the charts repaint on the theme's change
    shots(driver, "analytics-dark")
    for width in (1024, 768):
        driver.set_window_size(width, 1000)
        WebDriverWait(driver, 5).until(lambda d: d.execute_script("return window.innerWidth") <= width)
        wide = driver.execute_script("""
            const w = document.documentElement.clientWidth;
            return [document.documentElement.scrollWidth > w, [...document.querySelectorAll('#main *')].filter(e => e.getBoundingClientRect().right > w + 1).slice(0, 5).map(e => e.tagName + '.' + e.className)];""")
        assert not wide[0] and not wide[1], f"wider than the window at {width}px: {wide}"
        shots(driver, f"analytics-tablet-{width}")
    assert_no_console_errors(driver, "the analytics screen in dark mode at tablet width", an_server)


def test_axe_finds_no_serious_or_critical_violation(driver, an_server) -> None:
    from axe_selenium_python import Axe

    open_analytics(driver, an_server, "/admin/analytics?compare=1")
    for theme in ("light", "dark"):
        driver.execute_script("document.documentElement.dataset.theme = arguments[0]", theme)
        axe = Axe(driver)
        axe.inject()
        results = axe.run(context="#main")
        bad = [v for v in results["violations"] if v["impact"] in ("serious", "critical")]
        assert not bad, f"{theme}: " + json.dumps([(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:5]) for v in bad], indent=1)


def test_timings_navigation_to_drawn_and_filter_redraw(driver, an_server, an_api) -> None:
    """Printed, not asserted: navigation → every panel drawn (30 days), and a filter's redraw."""
    sign_in(driver, an_server, ADMIN, "/admin/analytics")
    wait_drawn(driver)
    loads = []
    for _ in range(10):
        driver.get(an_server.url("/admin/analytics"))
        wait_drawn(driver)
        loads.append(driver.execute_script("return performance.getEntriesByName('analytics:drawn')[0].startTime"))
    sources = [r["value"] for r in api_rows(an_api, "source", {})][:5]
    redraws = []
    for source in sources * 2:
        before = drawn(driver)
        click(driver, f'[data-panel="sources"] .an-row-filter[data-value="{source}"]')
        wait_drawn(driver, before)
        redraws.append(driver.execute_script("return window.__analyticsDrawn.ms"))
        before = drawn(driver)
        click(driver, '[data-filter="source"] .an-chip-x')
        wait_drawn(driver, before)
        redraws.append(driver.execute_script("return window.__analyticsDrawn.ms"))

    def p95(values: list[float]) -> float:
        return sorted(values)[max(0, int(round(0.95 * len(values))) - 1)]

    print(f"\nanalytics screen on {EVENTS:,} generated events (+{sum(len(p) for p, _ in KNOWN)} known), 30-day range, debug build:"
          f"\n  navigation → every panel drawn: p50 {statistics.median(loads):.0f} ms, p95 {p95(loads):.0f} ms ({len(loads)} loads)"
          f"\n  filter change → redrawn:        p50 {statistics.median(redraws):.0f} ms, p95 {p95(redraws):.0f} ms ({len(redraws)} changes)")
    assert len(loads) == 10 and len(redraws) == 20


def fill_goal(driver, name: str, kind: str, pattern: str, key: str = "", value: str = "") -> None:
    from selenium.webdriver.support.ui import Select

    for css, text in (("#goal-name", name), ("#goal-pattern", "")):
        el = wait_for(driver, css)
        el.clear()
        if text:
            el.send_keys(text)
    Select(driver.find_element(By.ID, "goal-kind")).select_by_value(kind)
    driver.find_element(By.ID, "goal-pattern").send_keys(pattern)
    if key:
        driver.find_element(By.ID, "goal-key").send_keys(key)
        driver.find_element(By.ID, "goal-value").send_keys(value)


def preview_count(driver, want: int) -> None:
    WebDriverWait(driver, 10).until(lambda d: d.find_element(By.ID, "goal-preview").get_attribute("data-conversions") == str(want),
                                    f"the goal preview never showed {want}")


def test_goals_and_a_funnel_made_in_the_editor_count_the_known_visits(driver, an_server, an_api) -> None:
    from selenium.webdriver.support.ui import Select

    sign_in(driver, an_server, ADMIN, "/admin/analytics/goals")
    # A page goal that cannot match (no leading /) is refused beside its field, before saving.
    fill_goal(driver, "Broken", "page", "known/pricing")
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#goal-pattern + .field-error"))
    assert "must be a path starting with /" in driver.find_element(By.CSS_SELECTOR, "#goal-pattern + .field-error").text
    assert driver.find_element(By.ID, "goal-pattern").get_attribute("aria-invalid") == "true"
    # The browser logs that refusal (a 422) as a failed load: expected, and the only entry so far.
    logged = severe_console_entries(driver)
    assert logged and all("goals/preview" in e["message"] and "422" in e["message"] for e in logged), logged
    # The preview counts the known visits before anything is saved.
    for name, kind, pattern, key, value, want in (("Known landing", "page", "/known/landing", "", "", 6),
                                                 ("Known pricing", "page", "/known/pric*", "", "", 4),
                                                 ("Known pro sign-up", "event", "known_signup", "plan", "pro", 2)):
        fill_goal(driver, name, kind, pattern, key, value)
        preview_count(driver, want)
        assert not driver.find_elements(By.CSS_SELECTOR, f'[data-goal="{name}"]'), "the preview saved the goal"
        click(driver, "#goal-save")
        WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, f'[data-goal="{name}"] [data-col="conversions"]'))
        assert driver.find_element(By.CSS_SELECTOR, f'[data-goal="{name}"] [data-col="conversions"]').text == str(want)
    saved = {g["goal"]["name"]: g for g in an_api.get("/api/v1/admin/analytics/goals").json()["items"]}
    assert saved["Known pro sign-up"]["goal"]["propertyKey"] == "plan" and saved["Known pricing"]["conversions"] == 4

    # A funnel of the three goals: the preview and the saved funnel's chart table say 6 → 4 → 2.
    wait_for(driver, "#funnel-name").send_keys("Known sign-up")
    ids = {name: str(g["goal"]["id"]) for name, g in saved.items()}
    click(driver, "#funnel-add-step")
    selects = driver.find_elements(By.CSS_SELECTOR, "#funnel-steps select")
    for select, name in zip(selects, ("Known landing", "Known pricing", "Known pro sign-up")):
        Select(select).select_by_value(ids[name])

    def preview_visits(d) -> list[str]:
        return texts(d, "#funnel-preview-table td[data-col=visits]")

    WebDriverWait(driver, 10).until(lambda d: preview_visits(d) == ["6", "4", "2"], "the funnel preview never showed 6, 4, 2")
    click(driver, "#funnel-save")
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, '[data-funnel="Known sign-up"][data-drawn]'))
    box = '[data-funnel="Known sign-up"]'
    assert [td.text for td in driver.find_elements(By.CSS_SELECTOR, f"{box} td[data-col=visits]")] == ["6", "4", "2"]
    assert [td.text for td in driver.find_elements(By.CSS_SELECTOR, f"{box} td[data-col=dropOff]")] == ["0", "2", "2"]
    assert driver.find_elements(By.CSS_SELECTOR, f"{box} canvas")
    funnel = next(f for f in an_api.get("/api/v1/admin/analytics/funnels").json()["items"] if f["name"] == "Known sign-up")
    assert [s["visits"] for s in an_api.get(f"/api/v1/admin/analytics/funnels/{funnel['id']}/results").json()["steps"]] == [6, 4, 2]
    # The dashboard's goals panel shows the same conversions, and a goal row filters the screen.
    driver.get(an_server.url("/admin/analytics"))
    wait_drawn(driver)
    shown = {r["value"]: r["conversions"] for r in panel_rows(driver, "goals")}
    assert shown["Known pricing"] == 4 and shown["Known landing"] == 6 and shown["Known pro sign-up"] == 2
    before = drawn(driver)
    click(driver, '[data-panel="goals"] .an-row-filter[data-value="Known pricing"]')
    wait_drawn(driver, before)
    assert query_of(driver)["goal"] == "Known pricing"
    assert kpis(driver)["visits"]["value"] == 4
    assert_no_console_errors(driver, "the goals editor and the goal filter", an_server)


def test_tracking_settings_screen(driver, an_server) -> None:
    sign_in(driver, an_server, ADMIN, "/admin/analytics")
    wait_drawn(driver)
    click(driver, "#an-settings-link")
    wait_for(driver, "#an-set-timezone")
    assert driver.find_element(By.ID, "an-set-timezone").text.startswith("UTC")
    assert driver.find_element(By.ID, "an-set-retention").text.startswith("400 days")
    assert driver.find_element(By.ID, "an-set-geoip").text.startswith("none: countries are unknown")
    assert SITE in driver.find_element(By.ID, "an-set-origins").text
    assert driver.find_element(By.ID, "an-settings-snippet").text == f'<script src="{an_server.base_url.rstrip("/")}/widget.js" async></script>'
    # "Don't count my visits": the flag the widget's loader reads, on and off again.
    assert driver.execute_script("return localStorage.getItem('frontdesk:ignore')") is None
    click(driver, "#an-ignore")
    WebDriverWait(driver, 5).until(lambda d: d.execute_script("return localStorage.getItem('frontdesk:ignore')") == "1")
    assert "not counted" in driver.find_element(By.ID, "an-ignore-state").text
    driver.refresh()
    assert wait_for(driver, "#an-ignore").is_selected()
    click(driver, "#an-ignore")
    WebDriverWait(driver, 5).until(lambda d: d.execute_script("return localStorage.getItem('frontdesk:ignore')") is None)
    assert_no_console_errors(driver, "the tracking settings", an_server)

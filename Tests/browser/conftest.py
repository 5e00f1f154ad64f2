"""Fixtures for the browser suite: a live demo server and headless Chromium through Selenium 4.

Uses Debian's /usr/bin/chromium and /usr/bin/chromedriver (override with FRONTDESK_CHROMIUM and
FRONTDESK_CHROMEDRIVER); Selenium Manager is never asked to download anything.

Fixtures:
  live_server     session-wide `frontdesk serve --demo`; must exit 0 on SIGTERM at the end
  driver          a fresh headless browser per test, with the console log captured
  console_errors  callable(driver) -> SEVERE console entries since the last call
  wait_for_quiet  callable(driver) -> waits for load and for network requests to settle
  artifacts_dir   Tests/browser/artifacts (gitignored); a failing test's screenshot lands here
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support import wait as selenium_wait

# Tests/ on sys.path so both suites import the one server helper (Tests/support).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from support.frontdesk_proc import FrontdeskServer  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = os.environ.get("FRONTDESK_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("FRONTDESK_CHROMEDRIVER", "/usr/bin/chromedriver")
WINDOW = (1280, 900)

# Every wait in the suite polls a page that re-renders as data arrives: an element found in one
# poll and replaced before it is read is the condition "not yet", not a failure. Selenium's
# waits ignore only NoSuchElementException unless told, so each wait is told here once.
_wait_init = selenium_wait.WebDriverWait.__init__


def _wait_ignoring_stale(self, driver, timeout, poll_frequency=0.5, ignored_exceptions=None):  # type: ignore[no-untyped-def]
    ignored = tuple(ignored_exceptions or ()) + (StaleElementReferenceException,)
    _wait_init(self, driver, timeout, poll_frequency, ignored)


selenium_wait.WebDriverWait.__init__ = _wait_ignoring_stale  # type: ignore[method-assign]

# Never let Selenium Manager reach for the network; the drivers come from Debian.
os.environ.setdefault("SE_OFFLINE", "true")
os.environ.setdefault("SE_AVOID_STATS", "true")


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Tests/browser/artifacts, emptied once per run."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path) -> Iterator[FrontdeskServer]:
    """`frontdesk serve --demo` on a free loopback port with a throwaway data directory."""
    tmp = tmp_path_factory.mktemp("browser-server")
    server = FrontdeskServer(tmp / "data", demo=True, log_path=tmp / "server.log").start()
    try:
        yield server
    finally:
        alive = server.proc is not None and server.proc.poll() is None
        exit_code = server.stop()
        shutil.copyfile(server.log_path, artifacts_dir / "server.log")
    assert alive, f"frontdesk died during the browser tests\n{server.log_tail()}"
    assert exit_code == 0, f"SIGTERM gave exit code {exit_code}, want 0\n{server.log_tail()}"


def _chrome_options(user_data_dir: str) -> Options:
    options = Options()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",  # we run as root in CI
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        f"--user-data-dir={user_data_dir}",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--lang=en-US",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return options


def _record_pid(pid: int) -> Path | None:
    """Let scripts/test's exit trap stop a chromedriver that a crashed pytest left behind."""
    run_dir = os.environ.get("FRONTDESK_TEST_RUN_DIR")
    if not run_dir:
        return None
    pid_file = Path(run_dir) / "pids" / str(pid)
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    pid_file.write_text('{"exe": "%s"}' % Path(CHROMEDRIVER).resolve())
    return pid_file


@pytest.fixture
def driver(request: pytest.FixtureRequest, artifacts_dir: Path) -> Iterator[webdriver.Chrome]:
    """A fresh headless Chromium per test, so cookies, storage and consent never leak between tests."""
    scratch = Path(tempfile.mkdtemp(prefix="frontdesk-chromium-"))
    service = Service(executable_path=CHROMEDRIVER, log_output=str(scratch / "chromedriver.log"))
    drv = webdriver.Chrome(service=service, options=_chrome_options(str(scratch / "profile")))
    pid_file = _record_pid(drv.service.process.pid)
    drv.set_page_load_timeout(30)
    request.node._frontdesk_driver = drv  # for the failure screenshot hook below
    try:
        yield drv
    finally:
        drv.quit()
        if pid_file is not None:
            pid_file.unlink(missing_ok=True)
        shutil.rmtree(scratch, ignore_errors=True)


def severe_console_entries(drv: webdriver.Chrome) -> list[dict]:
    """Drain the browser console log and return its SEVERE entries (errors, failed loads)."""
    return [entry for entry in drv.get_log("browser") if entry.get("level") == "SEVERE"]


@pytest.fixture
def console_errors() -> Callable[[webdriver.Chrome], list[dict]]:
    """Return severe_console_entries; each call drains the log, so call it once per check."""
    return severe_console_entries


def wait_until_quiet(drv: webdriver.Chrome, timeout: float = 8.0, quiet_for: float = 0.5) -> None:
    """Wait for document load, then until no new resource loads for `quiet_for` seconds.

    Late script errors and failed fetches reach the console only after the page's own requests
    finish; checking the console before that would miss them.
    """
    deadline = time.monotonic() + timeout
    while drv.execute_script("return document.readyState") != "complete":
        if time.monotonic() > deadline:
            raise TimeoutError(f"{drv.current_url} did not finish loading in {timeout}s")
        time.sleep(0.05)
    count, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        now_count = drv.execute_script("return performance.getEntriesByType('resource').length")
        if now_count != count:
            count, since = now_count, time.monotonic()
        elif time.monotonic() - since >= quiet_for:
            return
        time.sleep(0.1)


@pytest.fixture
def wait_for_quiet() -> Callable[..., None]:
    """Return wait_until_quiet."""
    return wait_until_quiet


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """On a failing test that had a browser, save artifacts/<test>-failure.png for diagnosis."""
    report = yield
    drv = getattr(item, "_frontdesk_driver", None)
    if report.failed and report.when == "call" and drv is not None:
        path = ARTIFACTS / f"{item.name}-failure.png"
        try:
            drv.save_screenshot(str(path))
            report.sections.append(("failure screenshot", str(path)))
        except Exception as e:  # the browser may be what failed
            report.sections.append(("failure screenshot", f"not taken: {e}"))
    return report

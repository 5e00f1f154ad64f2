"""The demo site page, as a visitor's browser sees it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def test_demo_page_loads_without_console_errors(
    live_server, driver, console_errors, wait_for_quiet, artifacts_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    driver.get(live_server.url("/demo"))
    wait_for_quiet(driver)

    screenshot = artifacts_dir / "demo.png"
    driver.save_screenshot(str(screenshot))
    with capsys.disabled():
        print(f"\nscreenshot: {screenshot}")

    assert driver.title.strip(), f"/demo has an empty <title>; page starts: {driver.page_source[:300]!r}"
    errors = console_errors(driver)
    assert not errors, "console errors on /demo:\n" + "\n".join(json.dumps(e) for e in errors)

"""The axe-core accessibility audit for any browser test (axe-selenium-python, which ships
axe.min.js in the wheel, so the audit runs offline).

    from axe_support import assert_no_serious_violations
    assert_no_serious_violations(driver, "chat panel open on /demo")

Fails on every violation of impact "serious" or "critical" in the whole page (open shadow roots
included, which is where the widget renders), naming each rule, its impact, the help text and
the nodes it found; minor and moderate ones are returned for the caller to look at.
"""

from __future__ import annotations

from typing import Any

from axe_selenium_python import Axe
from selenium.webdriver.remote.webdriver import WebDriver

FAILING_IMPACTS = ("serious", "critical")


def axe_violations(driver: WebDriver, context: Any = None) -> list[dict]:
    """Every axe-core violation on the current page (or inside `context`, an axe context)."""
    driver.set_script_timeout(120)  # a long page (the API reference) takes axe a while on a busy machine
    axe = Axe(driver)
    axe.inject()
    results = axe.run(context=context)
    return results["violations"]


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        targets = [" ".join(map(str, n["target"])) if isinstance(n["target"], list) else str(n["target"]) for n in v["nodes"]]
        summary = (v["nodes"][0].get("failureSummary") or "").replace("\n", " ") if v["nodes"] else ""
        lines.append(f"  - {v['id']} ({v['impact']}): {v['help']}\n      at {'; '.join(targets[:5])}\n      {summary}")
    return "\n".join(lines)


def assert_no_serious_violations(driver: WebDriver, context: str, axe_context: Any = None) -> list[dict]:
    """Fails naming every serious or critical violation; returns the milder ones."""
    violations = axe_violations(driver, axe_context)
    bad = [v for v in violations if v.get("impact") in FAILING_IMPACTS]
    assert not bad, f"axe-core found serious or critical violations ({context}, {driver.current_url}):\n{describe(bad)}"
    return [v for v in violations if v.get("impact") not in FAILING_IMPACTS]

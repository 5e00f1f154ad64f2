"""Frontdesk's own pages as a new user meets them: the front page at / and the API reference at /api/."""

from __future__ import annotations

import json

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait


def test_front_page_shows_the_links_and_a_snippet_that_copies(live_server, driver, console_errors, wait_for_quiet) -> None:
    driver.get(live_server.base_url)
    wait_for_quiet(driver)
    assert driver.find_element(By.TAG_NAME, "h1").text == "Frontdesk is running"
    links = {a.get_attribute("id"): a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, "nav ul.links a")}
    assert links == {
        "link-console": live_server.url("/admin/"),
        "link-demo": live_server.url("/demo"),  # the shared server runs with --demo
        "link-api": live_server.url("/api/"),
        "link-health": live_server.url("/healthz"),
    }
    snippet = driver.find_element(By.ID, "snippet").text
    assert snippet == f'<script src="{live_server.base_url}widget.js" defer></script>'

    # The copy button puts exactly the snippet on the clipboard.
    driver.execute_cdp_cmd("Browser.grantPermissions", {
        "origin": live_server.base_url.rstrip("/"), "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
    driver.find_element(By.ID, "copy-snippet").click()
    WebDriverWait(driver, 5).until(EC.text_to_be_present_in_element((By.ID, "copy-status"), "Copied"))
    copied = driver.execute_async_script("const done = arguments[0]; navigator.clipboard.readText().then(done, e => done('ERROR ' + e));")
    assert copied == snippet

    # The links lead somewhere real.
    driver.find_element(By.ID, "link-health").click()
    assert json.loads(driver.find_element(By.TAG_NAME, "body").text) == {"status": "ok"}
    errors = console_errors(driver)
    assert not errors, "console errors on /:\n" + "\n".join(json.dumps(e) for e in errors)


def test_api_reference_renders_every_operation_and_the_chat_protocol(live_server, driver, console_errors, wait_for_quiet) -> None:
    import requests

    document = requests.get(live_server.url("/api/openapi.json"), timeout=10).json()
    expected = {(method.upper(), path) for path, item in document["paths"].items() for method in item
                if method in ("get", "post", "put", "patch", "delete")}
    driver.get(live_server.url("/api/"))
    WebDriverWait(driver, 10).until(EC.text_to_be_present_in_element((By.ID, "docs-status"), "operations"))
    rendered = {(op.get_attribute("data-method"), op.get_attribute("data-path")) for op in driver.find_elements(By.CSS_SELECTOR, "article.op")}
    assert rendered == expected
    assert driver.find_element(By.ID, "docs-status").text.startswith(f"{len(expected)} operations")

    # One operation as a reader sees it: the method, the path, its parameters and responses.
    op = driver.find_element(By.ID, "op-" + document["paths"]["/api/v1/contact"]["post"]["operationId"])
    assert "POST /api/v1/contact" in op.text
    assert "Request body" in op.text and "201" in op.text and "422" in op.text
    # A schema reference links to the schema's section.
    ref = op.find_element(By.CSS_SELECTOR, "a.ref")
    assert driver.find_elements(By.CSS_SELECTOR, ref.get_attribute("hash"))

    # The WebSocket protocol beside it, rendered from the Markdown: headings, tables, code.
    protocol = driver.find_element(By.ID, "docs-protocol")
    headings = [h.text for h in protocol.find_elements(By.CSS_SELECTOR, "h2, h3")]
    assert any("live-chat protocol" in h for h in headings), headings
    assert protocol.find_elements(By.CSS_SELECTOR, "table th")
    assert any('"type": "hello"' in c.text or '"type":"hello"' in c.text for c in protocol.find_elements(By.CSS_SELECTOR, "pre code"))
    errors = console_errors(driver)
    assert not errors, "console errors on /api/:\n" + "\n".join(json.dumps(e) for e in errors)

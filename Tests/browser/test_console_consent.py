"""The console's Consent screen in real Chromium against `serve --demo` (which seeds a fortnight
of proof-of-consent rows): the editor's live preview, publish as a new version, the log search
by consent id, the statistics chart and the export links."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from console_support import (  # noqa: F401  (fixtures are used by name)
    ADMIN, admin_api, assert_no_console_errors, console_server, sign_in, texts, wait_for,
)


def test_consent_screen_edits_previews_publishes_searches_and_charts(driver, console_server, admin_api) -> None:
    before = admin_api.get("/api/v1/admin/consent/versions").json()["items"][0]["version"]
    records = admin_api.get("/api/v1/admin/consent/records", params={"perPage": 100}).json()
    assert records["total"] > 0, "the demo seeds consent records"
    sign_in(driver, console_server, ADMIN, "/admin/consent")

    # The log and the statistics show the seeded rows; the chart has a bar per kind of choice.
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#consent-records tbody tr td.mono"))
    assert len(driver.find_elements(By.CSS_SELECTOR, "#consent-records tbody tr")) == min(25, records["total"])
    wait_for(driver, "#consent-stats-table tbody tr")
    assert driver.find_elements(By.CSS_SELECTOR, "svg.consent-chart rect.bar-accept")
    stats = admin_api.get("/api/v1/admin/consent/stats").json()["items"]
    total = sum(r["acceptAll"] + r["rejectAll"] + r["custom"] for r in stats)
    assert f"of {total} choices" in driver.find_element(By.ID, "consent-rates").text

    # The live preview follows the editor.
    title = wait_for(driver, "input[name=text-title]")
    title.clear()
    title.send_keys("Cookies at the bakery")
    WebDriverWait(driver, 5).until(lambda d: "Cookies at the bakery" in d.find_element(By.ID, "consent-preview").text)
    driver.find_element(By.CSS_SELECTOR, "select[name=position]").send_keys("Corner")
    WebDriverWait(driver, 5).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#consent-preview .pos-corner"))

    # Publish makes a new version with what the editor shows; the visitor config serves it.
    driver.find_element(By.ID, "consent-publish").click()
    WebDriverWait(driver, 10).until(lambda d: admin_api.get("/api/v1/admin/consent/versions").json()["items"][0]["version"] == before + 1)
    newest = admin_api.get("/api/v1/admin/consent/versions").json()["items"][0]
    assert newest["configuration"]["texts"]["en"]["title"] == "Cookies at the bakery"
    assert newest["configuration"]["position"] == "corner" and newest["source"] == "console"

    # Search by one consent id: only that visitor's rows, and the export links carry the filter.
    consent_id = records["items"][0]["consentId"]
    field = driver.find_element(By.CSS_SELECTOR, "#consent-search input[name=consentId]")
    field.send_keys(consent_id)
    driver.find_element(By.CSS_SELECTOR, "#consent-search button[type=submit]").click()
    WebDriverWait(driver, 10).until(lambda d: set(texts(d, "#consent-records tbody td:nth-child(2)")) == {consent_id})
    links = [a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, ".consent-export a")]
    assert len(links) == 2 and all(f"consentId={consent_id}" in link for link in links)
    exported = admin_api.get(links[1].replace(console_server.base_url.rstrip("/"), "")).json()
    assert [r["consentId"] for r in exported] == [consent_id]
    assert_no_console_errors(driver, "consent screen", console_server)

"""`frontdesk serve --demo` as a presenter uses it: sign in with the printed demo account, see
every feature's seeded content in the console, and watch the scripted demo visitor's chat arrive
and answer the agent's reply."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from console_support import ConsoleAPI, assert_no_console_errors, click, sign_in, texts, wait_for, wait_text
from support.frontdesk_proc import FrontdeskServer


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path):
    tmp = tmp_path_factory.mktemp("demo-mode")
    server = FrontdeskServer(tmp / "data", demo=True, log_path=tmp / "server.log",
                             env={"FRONTDESK_DEMO_VISITOR_INTERVAL_SECONDS": "2", "FRONTDESK_DEMO_VISITOR_REPLY_SECONDS": "1"}).start()
    try:
        yield server
    finally:
        code = server.stop()
        shutil.copyfile(server.log_path, artifacts_dir / "demo-mode-server.log")
    assert code == 0, f"SIGTERM gave exit code {code}\n{server.log_tail()}"


def printed_sign_in(server: FrontdeskServer) -> dict:
    """The demo sign-in `serve --demo` printed."""
    match = re.search(r"demo sign-in: (\S+)  password: (\S+)", server.output())
    assert match, "serve --demo printed no demo sign-in:\n" + server.output()
    return {"email": match.group(1), "password": match.group(2)}


def body_text(driver) -> str:
    return driver.execute_script("return document.body.innerText")


def wait_body(driver, text: str, timeout: float = 15) -> None:
    WebDriverWait(driver, timeout).until(lambda d: text in body_text(d), f"never showed {text!r}")


def test_the_same_demo_sign_in_is_printed_on_every_start(tmp_path) -> None:
    first = FrontdeskServer(tmp_path / "data", demo=True, log_path=tmp_path / "one.log").start()
    try:
        account = printed_sign_in(first)
    finally:
        assert first.stop() == 0
    second = FrontdeskServer(tmp_path / "data", demo=True, log_path=tmp_path / "two.log").start()
    try:
        assert printed_sign_in(second) == account
        assert "/admin/setup#token=" not in second.output(), "the demo account is the admin; no setup link"
    finally:
        assert second.stop() == 0


def test_presenter_signs_in_and_sees_the_seeded_data_in_every_screen(demo_server, driver) -> None:
    account = printed_sign_in(demo_server)
    sign_in(driver, demo_server, account, "/admin/inbox")
    screens = [
        ("/admin/inbox", ["Maria Keller", "Order #1042 not picked up"]),
        ("/admin/subscribers", ["lena@example.com", "jo@example.net"]),
        ("/admin/faq", ["Do you deliver?", "Visiting us"]),
        ("/admin/reviews", ["Sold out of croissants"]),
        ("/admin/chat?tab=all", ["Ada Park", "Ben Ortiz", "Mia Sommer"]),
        ("/admin/users", [account["email"]]),
    ]
    for path, texts in screens:
        driver.get(demo_server.url(path))
        for text in texts:
            wait_body(driver, text)
        assert_no_console_errors(driver, path, demo_server)
    # 30 days of analytics behind the reports.
    api = ConsoleAPI(demo_server, account["email"], account["password"])
    import datetime
    today = datetime.datetime.now(datetime.timezone.utc).date()
    summary = api.get("/api/v1/admin/analytics/summary", params={"from": str(today - datetime.timedelta(days=29)), "to": str(today)})
    assert summary.status_code == 200, summary.text
    assert summary.json()["current"]["pageviews"] > 1000, summary.json()


def test_scripted_visitor_chat_arrives_and_answers_the_agent(demo_server, driver) -> None:
    account = printed_sign_in(demo_server)
    sign_in(driver, demo_server, account, "/admin/chat")
    wait_text(driver, "#chat-connection", "Connected")
    # With the presenter online, the scripted visitor opens a chat within its interval (2 s here).
    link = "[data-conversation] a"
    WebDriverWait(driver, 20).until(lambda d: "Demo visitor (scripted)" in body_text(d) and d.find_elements(By.CSS_SELECTOR, link))
    click(driver, link)
    thread = wait_for(driver, "#chat-thread")
    wait_text(driver, "#chat-thread", "[Demo visitor]")
    if driver.find_elements(By.ID, "chat-take"):
        click(driver, "#chat-take")
    before = len(driver.find_elements(By.CSS_SELECTOR, "#chat-thread li"))
    driver.find_element(By.ID, "chat-input").send_keys("Hello! Yes, we can help with that.\n")
    wait_text(driver, "#chat-thread", "Hello! Yes, we can help with that.")
    # The visitor answers with the next line of its script, marked as the demo visitor.
    WebDriverWait(driver, 15).until(
        lambda d: len([t for t in texts(d, "#chat-thread li") if "[Demo visitor]" in t]) >= 2)
    assert len(driver.find_elements(By.CSS_SELECTOR, "#chat-thread li")) >= before + 2
    assert thread.is_displayed()
    assert_no_console_errors(driver, "chat", demo_server)

"""The chat bubble and panel in real Chromium: opening by click and keyboard, the accessibility
checklist (roles, labels, focus order, focus trap, focus restore), and — against a server with the
chat socket — messages reaching an agent, receipts ticking, offline email fallback, and resume
without duplicates after a server restart."""

from __future__ import annotations

import hashlib
import hmac
import subprocess
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from support.frontdesk_proc import FrontdeskServer, frontdesk_bin
from widget_support import (  # noqa: F401 (fixture)
    AGENT_EMAIL,
    IDENTITY_SECRET,
    PAGES,
    AGENT_PASSWORD,
    Agent,
    WidgetEnv,
    active_in_shadow,
    chat_available,
    server_args,
    shadow,
    unexpected_console_errors,
    wait_for,
    widget_env,
)


@pytest.fixture
def chat_socket(widget_env: WidgetEnv) -> WidgetEnv:
    """Fails unless this binary serves the visitor chat socket (probed on the live server): a missing route is a regression."""
    if not chat_available(widget_env):
        pytest.fail("/api/v1/ws is not in /api/openapi.json: the visitor chat socket is missing")
    return widget_env


def page_errors(driver, console_errors, env: WidgetEnv) -> list[dict]:
    """Console errors; a missing chat socket's failed handshakes are expected on a binary without chat."""
    errors = console_errors(driver)
    if not chat_available(env):
        errors = [e for e in errors if "WebSocket connection to" not in e.get("message", "")]
    return errors


def chat_root(driver):
    return shadow(driver, "frontdesk-chat", "button.bubble")


def panel_open(driver) -> bool:
    return driver.execute_script(
        "const r = document.querySelector('frontdesk-chat').shadowRoot; const p = r.querySelector('#fd-panel');"
        "return !!p && !p.hidden && p.getClientRects().length > 0"
    )


def bubble_expanded(driver) -> str:
    return driver.execute_script(
        "return document.querySelector('frontdesk-chat').shadowRoot.querySelector('button.bubble').getAttribute('aria-expanded')"
    )


def press(driver, *keys: str, shift: bool = False) -> None:
    chain = ActionChains(driver)
    if shift:
        chain.key_down(Keys.SHIFT)
    for k in keys:
        chain.send_keys(k)
    if shift:
        chain.key_up(Keys.SHIFT)
    chain.perform()


def test_chat_opens_by_click_and_close_returns_focus(widget_env, driver, console_errors) -> None:
    driver.get(widget_env.url("/demo"))
    root = chat_root(driver)
    root.find_element(By.CSS_SELECTOR, "button.bubble").click()
    wait_for(driver, lambda d: panel_open(d), "the panel did not open on click")
    assert bubble_expanded(driver) == "true"
    focused = active_in_shadow(driver)
    assert focused["hosts"] == ["frontdesk-chat"] and focused["name"] == "text", focused

    root.find_element(By.CSS_SELECTOR, ".head button[aria-label]").click()
    wait_for(driver, lambda d: not panel_open(d), "the close button did not close the panel")
    assert bubble_expanded(driver) == "false"
    assert "bubble" in active_in_shadow(driver)["cls"]
    assert page_errors(driver, console_errors, widget_env) == []


def test_chat_keyboard_and_accessibility_checklist(widget_env, driver, console_errors) -> None:
    driver.get(widget_env.page("embed.html"))
    chat_root(driver)
    for tag in ("frontdesk-contact-form", "frontdesk-newsletter", "frontdesk-ticket-form"):
        shadow(driver, tag, "form button[type=submit]")

    # Shift+Tab from the top of the page reaches the bubble (the last thing on the page).
    driver.execute_script("document.activeElement && document.activeElement.blur()")
    press(driver, Keys.TAB, shift=True)
    bubble = active_in_shadow(driver)
    assert bubble["hosts"] == ["frontdesk-chat"] and "bubble" in bubble["cls"], bubble
    assert bubble["label"] == "Open chat"
    press(driver, Keys.ENTER)
    wait_for(driver, lambda d: panel_open(d), "Enter on the bubble did not open the panel")

    # Roles and names, as assistive technology gets them (Chromium's accessibility tree via CDP).
    nodes = driver.execute_cdp_cmd("Accessibility.getFullAXTree", {})["nodes"]
    named = {(n.get("role", {}).get("value"), n.get("name", {}).get("value")) for n in nodes if not n.get("ignored")}
    # The messages are a list (announced through aria-live): role="log" on the <ol> made its items
    # list items outside a list (axe-core: listitem, aria-allowed-role).
    for expected in [("dialog", "Chat with us"), ("list", "Messages"), ("textbox", "Message"), ("button", "Send"), ("button", "Close chat")]:
        assert expected in named, f"{expected} missing from the accessibility tree"
    modal = driver.execute_script(
        "const p = document.querySelector('frontdesk-chat').shadowRoot.querySelector('#fd-panel');"
        "return [p.getAttribute('role'), p.getAttribute('aria-modal'), p.getRootNode().getElementById(p.getAttribute('aria-labelledby')).textContent]"
    )
    assert modal == ["dialog", "true", "Chat with us"]
    controls = driver.execute_script(
        "const b = document.querySelector('frontdesk-chat').shadowRoot.querySelector('button.bubble'); return b.getAttribute('aria-controls')"
    )
    assert controls == "fd-panel"

    # Focus starts in the composer; Tab cycles through the panel only, forwards and backwards.
    start = active_in_shadow(driver)
    assert start["name"] == "text"
    forward = []
    for _ in range(6):
        press(driver, Keys.TAB)
        forward.append(active_in_shadow(driver))
    assert all(f["hosts"] == ["frontdesk-chat"] and "bubble" not in f["cls"] for f in forward), forward
    labels = [f["label"] or f["name"] for f in forward]
    assert labels == ["Send", "Close chat", "Messages", "Message", "Send", "Close chat"], labels
    backward = []
    for _ in range(4):
        press(driver, Keys.TAB, shift=True)
        backward.append(active_in_shadow(driver))
    assert all(f["hosts"] == ["frontdesk-chat"] for f in backward), backward
    assert [b["label"] or b["name"] for b in backward] == ["Send", "Message", "Messages", "Close chat"]

    # Escape closes and gives focus back to the bubble.
    press(driver, Keys.ESCAPE)
    wait_for(driver, lambda d: not panel_open(d), "Escape did not close the panel")
    assert "bubble" in active_in_shadow(driver)["cls"]

    # Opened from the site's own button through the JS API, focus returns to that button.
    driver.execute_script("const b = document.getElementById('site-button'); b.focus(); frontdesk.open();")
    wait_for(driver, lambda d: panel_open(d), "frontdesk.open() did not open the panel")
    press(driver, Keys.ESCAPE)
    wait_for(driver, lambda d: not panel_open(d), "Escape did not close the panel")
    assert driver.execute_script("return document.activeElement.id") == "site-button"
    assert driver.execute_script("return window.frontdeskEvents.filter(e => e[0] == 'toggle').map(e => e[1])") == [True, False, True, False]
    assert page_errors(driver, console_errors, widget_env) == []


def test_mobile_layout_fills_the_screen(widget_env, driver) -> None:
    driver.set_window_size(390, 844)
    driver.get(widget_env.url("/demo"))
    chat_root(driver).find_element(By.CSS_SELECTOR, "button.bubble").click()
    wait_for(driver, lambda d: panel_open(d), "the panel did not open")
    rect = lambda d: d.execute_script(
        "const r = document.querySelector('frontdesk-chat').shadowRoot.querySelector('#fd-panel').getBoundingClientRect();"
        "return [r.left, r.top, r.width, document.documentElement.clientWidth, r.height, document.documentElement.clientHeight]"
    )
    wait_for(driver, lambda d: (lambda r: r[0] == 0 and r[1] == 0 and r[2] == r[3] and r[4] == r[5])(rect(d)),
             "the panel does not fill a phone's screen")


# --- with the chat socket ----------------------------------------------------------------------


def send_chat(driver, text: str) -> None:
    root = driver.find_element(By.CSS_SELECTOR, "frontdesk-chat").shadow_root
    box = root.find_element(By.CSS_SELECTOR, "textarea[name=text]")
    box.send_keys(text)
    box.send_keys(Keys.ENTER)


def visitor_log(driver) -> list[dict]:
    return driver.execute_script(
        "return [...document.querySelector('frontdesk-chat').shadowRoot.querySelectorAll('.log li')].map(li => "
        "({cls: li.className, id: li.dataset.id || null, text: li.textContent, status: (li.querySelector('.st') || {}).dataset?.status || null}))"
    )


def own_status(driver, text: str) -> str | None:
    for item in visitor_log(driver):
        if "visitor" in item["cls"] and text in item["text"]:
            return item["status"]
    return None


@pytest.mark.parametrize("where", PAGES)
def test_message_reaches_agent_and_ticks_delivered_then_read(chat_socket, driver, console_errors, where) -> None:
    agent = Agent(chat_socket)
    try:
        driver.get(PAGES[where](chat_socket))
        chat_root(driver).find_element(By.CSS_SELECTOR, "button.bubble").click()
        wait_for(driver, lambda d: panel_open(d), "the panel did not open")
        question = f"Do you deliver on Sundays? ({where})"
        send_chat(driver, question)
        frame = agent.expect(lambda f: f["type"] == "chat.message" and f["data"]["message"]["text"] == question)
        message = frame["data"]["message"]
        wait_for(driver, lambda d: own_status(d, "Sundays") == "sent", "the visitor's message never showed as sent")

        agent.send("chat.receipt", {"conversationId": message["conversationId"], "messageId": message["id"], "status": "delivered"})
        wait_for(driver, lambda d: own_status(d, "Sundays") == "delivered", "status never ticked to delivered")
        agent.send("chat.receipt", {"conversationId": message["conversationId"], "messageId": message["id"], "status": "read"})
        wait_for(driver, lambda d: own_status(d, "Sundays") == "read", "status never ticked to read")

        # The agent answers: the visitor sees it, and the widget reports it read (panel open, tab focused).
        agent.send("chat.send", {"conversationId": message["conversationId"], "clientMessageId": f"agent-{uuid.uuid4()}", "text": "Yes, until noon."})
        wait_for(driver, lambda d: any("Yes, until noon." in i["text"] for i in visitor_log(d)), "the agent's reply never arrived")
        agent.expect(lambda f: f["type"] == "chat.status" and f["data"]["status"] == "read")
        assert page_errors(driver, console_errors, chat_socket) == []
    finally:
        agent.close()


def test_identified_visitor_reaches_the_agent_by_name(chat_socket, driver) -> None:
    """frontdesk.identify() with the site's HMAC: the agent sees who is writing."""
    user_id = f"u-{uuid.uuid4().hex[:8]}"
    signature = hmac.new(IDENTITY_SECRET.encode(), user_id.encode(), hashlib.sha256).hexdigest()
    agent = Agent(chat_socket)
    try:
        driver.get(chat_socket.page("embed.html"))
        chat_root(driver)
        driver.execute_script(
            "frontdesk.identify(arguments[0]); frontdesk.open();",
            {"userId": user_id, "hash": signature, "email": "ada@example.com", "name": "Ada Lovelace"},
        )
        wait_for(driver, lambda d: panel_open(d), "frontdesk.open() did not open the panel")
        send_chat(driver, "Hello, it is Ada")
        created = agent.expect(lambda f: f["type"] == "conversation.created")
        visitor = created["data"]["conversation"]["visitor"]
        assert visitor["identified"] is True and visitor["userId"] == user_id and visitor["name"] == "Ada Lovelace", visitor
    finally:
        agent.close()


def test_offline_email_fallback_creates_a_ticket(chat_socket, driver) -> None:
    """No agent online: the visitor's message gets the email form; sending it makes a ticket."""
    driver.get(chat_socket.url("/demo"))
    root = chat_root(driver)
    root.find_element(By.CSS_SELECTOR, "button.bubble").click()
    wait_for(driver, lambda d: panel_open(d), "the panel did not open")
    send_chat(driver, "Can I order a cake for Friday?")
    email = wait_for(driver, lambda _: root.find_elements(By.CSS_SELECTOR, "input[name=email]"), "no email fallback offered")[0]
    email.send_keys("offline-visitor@example.com")
    root.find_element(By.CSS_SELECTOR, ".box form button[type=submit]").click()
    wait_for(driver, lambda _: "ticket #" in root.find_element(By.CSS_SELECTOR, ".box").text, "no ticket confirmation")
    rows = chat_socket.rows("SELECT source FROM support_tickets WHERE email = ?", "offline-visitor@example.com")
    assert rows == [("chat",)]


def test_transcript_by_mail(chat_socket, driver) -> None:
    """Transcripts go only to a verified address: the identified visitor's."""
    user_id = f"u-{uuid.uuid4().hex[:8]}"
    signature = hmac.new(IDENTITY_SECRET.encode(), user_id.encode(), hashlib.sha256).hexdigest()
    driver.get(chat_socket.page("embed.html"))
    root = chat_root(driver)
    driver.execute_script("frontdesk.identify(arguments[0]); frontdesk.open();",
                          {"userId": user_id, "hash": signature, "email": "transcript-reader@example.com"})
    wait_for(driver, lambda d: panel_open(d), "the panel did not open")
    send_chat(driver, "Please mail me this chat")
    button = wait_for(driver, lambda _: [b for b in root.find_elements(By.CSS_SELECTOR, ".head button") if b.text == "Email transcript" and b.is_displayed()],
                      "no transcript button once the conversation exists")[0]
    button.click()
    email = root.find_element(By.CSS_SELECTOR, "#fd-te")
    assert active_in_shadow(driver)["id"] == "fd-te"  # focus moves to the new field
    assert email.get_attribute("value") == "transcript-reader@example.com" and email.get_attribute("readonly") is not None
    root.find_element(By.CSS_SELECTOR, ".box form.row button[type=submit]").click()
    wait_for(driver, lambda _: "on its way to transcript-reader@example.com" in root.find_element(By.CSS_SELECTOR, ".box").text,
             lambda: f"no confirmation: {root.find_element(By.CSS_SELECTOR, '.box').text!r}")
    assert chat_socket.rows("SELECT count(*) FROM mail_outbox WHERE to_address LIKE ?", "%transcript-reader@example.com%")[0][0] == 1


@pytest.fixture
def restartable(tmp_path: Path, widget_env: WidgetEnv) -> Iterator[WidgetEnv]:
    """A second server (own data directory) this test may stop and start again on the same port."""
    if not chat_available(widget_env):
        pytest.fail("the visitor chat socket is missing")
    data = tmp_path / "data"
    subprocess.run(
        [str(frontdesk_bin()), "user", "add", "--data-dir", str(data), "--email", AGENT_EMAIL, "--name", "Ann",
         "--role", "admin", "--password-stdin"],
        input=AGENT_PASSWORD.encode(), check=True, capture_output=True,
    )
    server = FrontdeskServer(data, demo=True, extra_args=server_args(), log_path=tmp_path / "server.log").start()
    env = WidgetEnv(server, widget_env.pages_origin)
    try:
        yield env
    finally:
        env.server.stop()


def test_resume_after_server_restart_without_duplicates(restartable, driver) -> None:
    env = restartable
    agent = Agent(env)
    driver.get(env.url("/demo"))
    root = chat_root(driver)
    root.find_element(By.CSS_SELECTOR, "button.bubble").click()
    wait_for(driver, lambda d: panel_open(d), "the panel did not open")
    send_chat(driver, "First question")
    msg = agent.expect(lambda f: f["type"] == "chat.message" and f["data"]["message"]["text"] == "First question")["data"]["message"]
    conversation = msg["conversationId"]
    agent.send("chat.send", {"conversationId": conversation, "clientMessageId": f"agent-{uuid.uuid4()}", "text": "First answer"})
    wait_for(driver, lambda d: any("First answer" in i["text"] for i in visitor_log(d)), "first answer missing")
    agent.close()

    # The server goes away; the visitor notices, writes anyway, and the server comes back.
    port = env.server.port
    assert env.server.stop() == 0
    wait_for(driver, lambda _: root.find_element(By.CSS_SELECTOR, ".conn").is_displayed(), "no reconnecting notice")
    send_chat(driver, "Written while offline")
    wait_for(driver, lambda d: own_status(d, "Written while offline") == "sending", "offline message not shown as sending")
    env.server = FrontdeskServer(env.server.data_dir, demo=True, port=port, extra_args=server_args(),
                                 log_path=env.server.log_path).start()

    wait_for(driver, lambda d: own_status(d, "Written while offline") == "sent", "the offline message was never sent", timeout=40)
    agent = Agent(env)
    try:
        agent.send("resume", {"conversationId": conversation, "lastMessageId": 0})
        agent.send("chat.send", {"conversationId": conversation, "clientMessageId": f"agent-{uuid.uuid4()}", "text": "Second answer"})
        wait_for(driver, lambda d: any("Second answer" in i["text"] for i in visitor_log(d)), "second answer missing")
    finally:
        agent.close()

    log = visitor_log(driver)
    texts = [i["text"] for i in log if "system" not in i["cls"] and "hint" not in i["cls"]]
    for text in ("First question", "First answer", "Written while offline", "Second answer"):
        assert sum(text in t for t in texts) == 1, f"{text!r} shown {sum(text in t for t in texts)} times: {texts}"
    ids = [i["id"] for i in log if i["id"]]
    assert len(ids) == len(set(ids)) and ids == sorted(ids, key=int), ids
    # After a reload the same conversation comes back, once.
    driver.refresh()
    root = chat_root(driver)
    root.find_element(By.CSS_SELECTOR, "button.bubble").click()
    wait_for(driver, lambda d: sum("Second answer" in i["text"] for i in visitor_log(d)) == 1, "conversation not resumed after reload")
    assert sum("First question" in i["text"] for i in visitor_log(driver)) == 1

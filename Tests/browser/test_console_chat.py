"""Live chat end to end: a visitor (a Python client on the visitor socket, protocol v1) talks to
an agent in the console — queue, take, typing, delivered and read receipts on both sides,
transfer, close, visitor context, and naughty strings rendered as inert text.

Skipped, with the reason, when the binary under test has no chat server yet."""

from __future__ import annotations

from urllib.parse import quote

import json
import queue
import threading
import time
import uuid
from typing import Callable

import pytest
import websocket  # websocket-client, which Selenium depends on
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from console_support import (  # noqa: F401  (fixtures are used by name)
    click, ADMIN, AGENT, ConsoleAPI, XSS_MARKER, assert_no_alert, attr_of, assert_no_console_errors, chat_available, console_server,
    injected_elements, naughty_strings, page_text, shots, sign_in, texts, wait_for, wait_text,
)


@pytest.fixture(scope="module", autouse=True)
def require_chat(console_server):
    if not chat_available(console_server):
        pytest.fail("/api/v1/admin/ws answers 404: the agent chat socket is not routed")


class Visitor:
    """One visitor tab on `/api/v1/ws`, with every server frame queued for the test to expect."""

    def __init__(self, server, page_url: str) -> None:
        origin = server.base_url.rstrip("/")
        self.ws = websocket.create_connection(server.url("/api/v1/ws").replace("http", "ws", 1), origin=origin, timeout=10)
        self.frames: "queue.Queue[dict]" = queue.Queue()
        self.seen: list[dict] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.send("hello", {"pageUrl": page_url}, ref="h1")
        self.welcome = self.expect("welcome")
        self.conversation_id: int | None = None

    def _read(self) -> None:
        while True:
            try:
                text = self.ws.recv()
            except Exception:
                return
            if text:
                self.frames.put(json.loads(text))

    def send(self, type_: str, data: dict, ref: str | None = None) -> None:
        frame = {"v": 1, "type": type_, "data": data}
        if ref:
            frame["ref"] = ref
        self.ws.send(json.dumps(frame))

    def expect(self, type_: str, where: Callable[[dict], bool] = lambda d: True, timeout: float = 10) -> dict:
        """The next frame of `type_` whose data satisfies `where` (earlier ones that did not are kept in `seen`)."""
        for frame in self.seen:
            if frame["type"] == type_ and where(frame.get("data", {})):
                self.seen.remove(frame)
                return frame["data"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                frame = self.frames.get(timeout=max(0.05, deadline - time.monotonic()))
            except queue.Empty:
                break
            if frame["type"] == type_ and where(frame.get("data", {})):
                return frame["data"]
            self.seen.append(frame)
        raise AssertionError(f"no {type_} frame within {timeout}s; got {[f['type'] for f in self.seen]}")

    def say(self, text: str) -> dict:
        client_id = uuid.uuid4().hex
        self.send("chat.send", {"conversationId": self.conversation_id, "clientMessageId": client_id, "text": text}, ref=client_id[:16])
        ack = self.expect("chat.ack", lambda d: d.get("clientMessageId") == client_id)
        self.conversation_id = ack["message"]["conversationId"]
        return ack["message"]

    def close(self) -> None:
        try:
            self.ws.close()
        except Exception:
            pass


def open_conversation(driver, conversation_id: int) -> None:
    link = f'[data-conversation="{conversation_id}"] a'
    WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.CSS_SELECTOR, link))
    click(driver, link)
    WebDriverWait(driver, 10).until(lambda d: f"/admin/chat/{conversation_id}" in d.current_url)


def test_agent_answers_a_visitor_with_receipts_on_both_sides(console_server, driver, shots) -> None:
    tag = uuid.uuid4().hex[:8]
    sign_in(driver, console_server, AGENT, "/admin/chat?tab=all")
    wait_text(driver, "#chat-connection", "Connected")
    # Only utm_* query parameters survive the server's page-URL clean-up (chat.page_url_query_params).
    visitor = Visitor(console_server, f"https://bakery.example/menu?utm_campaign={tag}")
    try:
        assert visitor.welcome["availability"]["available"], visitor.welcome
        first = visitor.say(f"Hello! Do you have gluten-free bread? {tag}")
        cid = visitor.conversation_id
        open_conversation(driver, cid)
        wait_text(driver, "#chat-thread", f"gluten-free bread? {tag}")
        wait_text(driver, "#visitor-page", f"https://bakery.example/menu?utm_campaign={tag}")
        if driver.find_elements(By.ID, "chat-take"):
            click(driver, "#chat-take")
            visitor.expect("conversation.updated", lambda d: d["conversation"]["status"] == "assigned")

        # The console acknowledged the visitor's message: delivered, then read (the tab is focused).
        visitor.expect("chat.status", lambda d: d["status"] == "delivered" and d["upTo"] >= first["id"])
        visitor.expect("chat.status", lambda d: d["status"] == "read" and d["upTo"] >= first["id"])

        # The visitor types; the console shows it.
        visitor.send("chat.typing", {"conversationId": cid, "typing": True})
        wait_text(driver, "#chat-typing", "is typing")

        # The agent types (the visitor sees it) and answers.
        box = driver.find_element(By.ID, "chat-input")
        box.send_keys("Yes, every ")
        typing = visitor.expect("chat.typing", lambda d: d.get("typing") is True and d.get("sender") == "agent")
        assert typing["name"] == AGENT["name"]
        box.send_keys(f"morning! {tag}\n")
        reply = visitor.expect("chat.message", lambda d: d["message"]["sender"] == "agent")["message"]
        assert reply["text"] == f"Yes, every morning! {tag}"
        bubble = f'#chat-thread li[data-id="{reply["id"]}"] [data-receipt]'
        WebDriverWait(driver, 10).until(lambda d: attr_of(d, bubble, "data-receipt") == "sent")

        # The visitor's receipts turn the agent's ticks to delivered, then read.
        visitor.send("chat.receipt", {"conversationId": cid, "messageId": reply["id"], "status": "delivered"})
        WebDriverWait(driver, 10).until(lambda d: attr_of(d, bubble, "data-receipt") == "delivered")
        visitor.send("chat.receipt", {"conversationId": cid, "messageId": reply["id"], "status": "read"})
        WebDriverWait(driver, 10).until(lambda d: attr_of(d, bubble, "data-receipt") == "read")
        shots(driver, "chat")

        # A canned reply from the server, then transfer to the admin and close.
        ConsoleAPI(console_server, ADMIN["email"], ADMIN["password"]).post(
            "/api/v1/admin/canned-replies", json={"shortcut": f"bye{tag}", "text": "Bye for now!", "scope": "shared"}).raise_for_status()
        box.send_keys(f"/bye{tag}")
        wait_for(driver, f'#canned-list [data-shortcut="bye{tag}"]')
        box.send_keys(Keys.ENTER)
        assert box.get_attribute("value") == "Bye for now!"
        click(driver, "#chat-send")
        visitor.expect("chat.message", lambda d: d["message"]["sender"] == "agent" and d["message"]["id"] > reply["id"])
        options = [o.text for o in Select(driver.find_element(By.ID, "chat-transfer")).options]
        admin_option = next(o for o in options if o.startswith(ADMIN["name"]))
        Select(driver.find_element(By.ID, "chat-transfer")).select_by_visible_text(admin_option)
        visitor.expect("conversation.updated", lambda d: d["reason"] == "transferred" and d["conversation"]["assignee"]["name"] == ADMIN["name"])
        wait_text(driver, "#chat-status", ADMIN["name"])
        click(driver, "#chat-close")
        visitor.expect("conversation.updated", lambda d: d["conversation"]["status"] == "closed")
        wait_text(driver, "#chat-status", "closed")
        assert_no_console_errors(driver, "chat", console_server)
    finally:
        visitor.close()


def test_naughty_strings_in_chat_render_as_inert_text(console_server, driver, shots) -> None:
    sign_in(driver, console_server, ADMIN, "/admin/chat?tab=all")
    wait_text(driver, "#chat-connection", "Connected")
    visitor = Visitor(console_server, f'https://bakery.example/{XSS_MARKER}')
    try:
        strings = naughty_strings()
        for s in strings:
            visitor.say(s)
        open_conversation(driver, visitor.conversation_id)
        wait_text(driver, "#chat-thread", strings[-1])
        assert_no_alert(driver)
        assert not injected_elements(driver)
        text = page_text(driver)
        missing = [s for s in strings if s not in text]
        assert not missing, f"not shown verbatim in the chat: {missing}"
        # The server stores the page URL percent-encoded; the console shows that, as text.
        assert driver.find_element(By.ID, "visitor-page").text == "https://bakery.example/" + quote(XSS_MARKER, safe="=()")
        shots(driver, "xss-chat")
        assert_no_console_errors(driver, "chat with naughty strings", console_server)
    finally:
        visitor.close()


NOTIFICATION_SPY = """
window.__notes = [];
window.__chimes = 0;
const Real = window.Notification;
window.Notification = class extends Real {
  constructor(title, options) { super(title, options); window.__notes.push([title, (options || {}).body || '']); }
};
const create = AudioContext.prototype.createOscillator;
AudioContext.prototype.createOscillator = function () { window.__chimes++; return create.call(this); };
"""


def test_away_agent_gets_queue_notification_and_sound_then_takes_the_chat(console_server, driver, shots) -> None:
    tag = uuid.uuid4().hex[:8]
    origin = console_server.base_url.rstrip("/")
    driver.execute_cdp_cmd("Browser.grantPermissions", {"permissions": ["notifications"], "origin": origin})
    sign_in(driver, console_server, AGENT, "/admin/chat")
    wait_text(driver, "#chat-connection", "Connected")
    click(driver, "#presence-away")
    WebDriverWait(driver, 5).until(lambda d: attr_of(d, "#presence-away", "aria-pressed") == "true")
    # Leave the chat screen (the socket stays open) and watch for the notification there.
    click(driver, '[data-nav="inbox"]')
    wait_for(driver, "#inbox-list")
    driver.execute_script(NOTIFICATION_SPY)

    visitor = Visitor(console_server, f"https://bakery.example/contact?{tag}")
    try:
        visitor.say(f"Anyone there? {tag}")
        cid = visitor.conversation_id
        WebDriverWait(driver, 10).until(lambda d: d.execute_script("return window.__notes.length") > 0)
        title, body = driver.execute_script("return window.__notes[0]")
        assert title == "New chat" and "waiting" in body, (title, body)
        assert driver.execute_script("return window.__chimes") > 0, "no sound played"
        WebDriverWait(driver, 5).until(lambda d: d.find_element(By.CSS_SELECTOR, '[data-nav="chat"] .nav-badge').text == "1")
        assert driver.title.startswith("(1) "), driver.title

        click(driver, '[data-nav="chat"]')
        take = f'#chat-queue [data-take="{cid}"]'
        wait_for(driver, take)
        shots(driver, "chat-queue")
        click(driver, take)
        taken = visitor.expect("conversation.updated", lambda d: d["conversation"]["status"] == "assigned")
        assert taken["conversation"]["assignee"]["name"] == AGENT["name"]
        wait_text(driver, "#chat-thread", f"Anyone there? {tag}")
        assert "/admin/chat/" in driver.current_url

        # Back to the queue, and taken again from the conversation's own header.
        click(driver, "#chat-unassign")
        visitor.expect("conversation.updated", lambda d: d["conversation"]["status"] == "open")
        click(driver, "#chat-take")
        visitor.expect("conversation.updated", lambda d: d["conversation"]["status"] == "assigned")

        click(driver, "#presence-online")
        visitor.expect("presence.agent", lambda d: d["status"] == "online")
        assert_no_console_errors(driver, "chat queue", console_server)
    finally:
        visitor.close()


def test_canned_reply_inserted_with_a_variable(console_server, driver, shots) -> None:
    """Typing / in the composer lists the server's canned replies filtered by shortcut; arrow
    keys and Enter insert one with its variables filled in (a missing visitor name reads
    "there", an unknown variable stays visible), and Escape closes the list."""
    tag = uuid.uuid4().hex[:6]
    admin = ConsoleAPI(console_server, ADMIN["email"], ADMIN["password"])
    for shortcut, text in [(f"greet{tag}", "Hello {{visitor.name}}, I'm {{agent.name}}. Your order {{order.number}}?"),
                           (f"greetx{tag}", "Good morning!")]:
        admin.post("/api/v1/admin/canned-replies", json={"shortcut": shortcut, "text": text, "scope": "shared"}).raise_for_status()
    sign_in(driver, console_server, AGENT, "/admin/chat?tab=all")
    wait_text(driver, "#chat-connection", "Connected")
    visitor = Visitor(console_server, "https://bakery.example/cakes")
    try:
        visitor.say(f"Is my cake ready? {tag}")
        open_conversation(driver, visitor.conversation_id)
        if driver.find_elements(By.ID, "chat-take"):
            click(driver, "#chat-take")
        box = wait_for(driver, "#chat-input")
        box.send_keys("/zzz-nothing")
        wait_text(driver, "#canned-list", "No canned reply matches")
        box.send_keys(Keys.ESCAPE)
        WebDriverWait(driver, 5).until(lambda d: not d.find_element(By.ID, "canned-list").is_displayed())
        assert box.get_attribute("value") == "/zzz-nothing"
        box.clear()

        # Typing after the / filters by shortcut; taking letters away widens the list again.
        box.send_keys("/greet")
        wait_for(driver, f'#canned-list [data-shortcut="greetx{tag}"]')
        box.send_keys(tag)
        WebDriverWait(driver, 5).until(lambda d: texts(d, "#canned-list [data-shortcut]", "data-shortcut") == [f"greet{tag}"])
        box.send_keys(Keys.BACKSPACE * len(tag))
        wait_for(driver, f'#canned-list [data-shortcut="greetx{tag}"]')
        active = lambda d: attr_of(d, "#canned-list .canned-option.active", "data-shortcut")
        WebDriverWait(driver, 5).until(lambda d: active(d) == f"greet{tag}")
        box.send_keys(Keys.ARROW_DOWN)
        WebDriverWait(driver, 5).until(lambda d: active(d) == f"greetx{tag}")
        box.send_keys(Keys.ARROW_UP)
        WebDriverWait(driver, 5).until(lambda d: active(d) == f"greet{tag}")
        assert box.get_attribute("aria-activedescendant") == driver.find_element(By.CSS_SELECTOR, "#canned-list .canned-option.active").get_attribute("id")
        box.send_keys(Keys.ENTER)
        expected = f"Hello there, I'm {AGENT['name']}. Your order {{{{order.number}}}}?"
        WebDriverWait(driver, 5).until(lambda d: box.get_attribute("value") == expected)
        assert not driver.find_element(By.ID, "canned-list").is_displayed()
        shots(driver, "chat-canned-reply")
        box.send_keys(Keys.ENTER)
        sent = visitor.expect("chat.message", lambda d: d["message"]["sender"] == "agent")["message"]
        assert sent["text"] == expected
        assert_no_console_errors(driver, "chat canned reply", console_server)
    finally:
        visitor.close()

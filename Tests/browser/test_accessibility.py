"""The axe-core audit (axe_support.assert_no_serious_violations) of every console screen and
every widget state a visitor meets: the demo page with its inline forms, each form showing its
errors and its success, the FAQ and reviews elements, the chat panel offline (the e-mail form)
and online with a conversation, and the customer's ticket page. Fails on serious or critical
violations."""

from __future__ import annotations

import uuid

import pytest
from selenium.webdriver.common.by import By

from axe_support import assert_no_serious_violations
from console_support import ADMIN, console_server, sign_in, submit_many, wait_for  # noqa: F401  (fixture by name)
from widget_support import Agent, inner, shadow, widget_env  # noqa: F401  (fixture by name)
from widget_support import wait_for as wait_until


def chat_root(driver):
    return shadow(driver, "frontdesk-chat", "button.bubble")


def open_chat(driver):
    root = chat_root(driver)
    root.find_element(By.CSS_SELECTOR, "button.bubble").click()
    wait_until(driver, lambda d: d.execute_script(
        "const p = document.querySelector('frontdesk-chat').shadowRoot.querySelector('#fd-panel'); return !!p && !p.hidden"),
        "the chat panel did not open")
    return root


def test_demo_page_and_each_inline_form_in_every_state(widget_env, driver) -> None:
    driver.get(widget_env.url("/demo"))
    for tag in ("frontdesk-contact-form", "frontdesk-ticket-form", "frontdesk-newsletter"):
        shadow(driver, tag, "form button[type=submit]")
    assert_no_serious_violations(driver, "demo page with its three inline forms")
    # Each form refusing an empty submission: the errors are announced and tied to their fields.
    for tag in ("frontdesk-contact-form", "frontdesk-ticket-form", "frontdesk-newsletter"):
        root = shadow(driver, tag, "form button[type=submit]")
        inner(root, "form button[type=submit]").click()
        wait_until(driver, lambda _: root.find_elements(By.CSS_SELECTOR, "[aria-invalid=true]"), f"{tag} showed no field error")
    assert_no_serious_violations(driver, "inline forms showing their field errors")
    # A form's success state and the ticket page its link opens.
    root = shadow(driver, "frontdesk-ticket-form", "form button[type=submit]")
    email = f"axe-{uuid.uuid4().hex[:8]}@example.com"
    for name, value in {"name": "Ada", "email": email, "subject": "Wrong cake", "description": "Lemon instead of plum."}.items():
        field = inner(root, f"[name={name}]")
        field.clear()
        field.send_keys(value)
    inner(root, "form button[type=submit]").click()
    wait_until(driver, lambda _: root.find_elements(By.CSS_SELECTOR, ".done[role=status] a"), "no ticket created")
    assert_no_serious_violations(driver, "ticket form success")
    driver.get(inner(root, ".done a").get_attribute("href"))
    shadow(driver, "frontdesk-ticket", "textarea[name=body]")
    assert_no_serious_violations(driver, "the customer's ticket page")


def test_faq_and_reviews_elements(widget_env, driver) -> None:
    driver.get(widget_env.page("faq.html"))
    shadow(driver, "frontdesk-faq", "*")
    shadow(driver, "frontdesk-reviews", "*")
    assert_no_serious_violations(driver, "FAQ and reviews elements")


def test_chat_panel_offline_and_online(widget_env, driver) -> None:
    # Nobody online: the visitor's question gets the e-mail form.
    driver.get(widget_env.url("/demo"))
    root = open_chat(driver)
    assert_no_serious_violations(driver, "chat panel open on /demo")
    box = root.find_element(By.CSS_SELECTOR, "textarea[name=text]")
    box.send_keys("Can I order a cake for Friday?\n")
    wait_until(driver, lambda _: root.find_elements(By.CSS_SELECTOR, "input[name=email]"), "no offline e-mail form")
    assert_no_serious_violations(driver, "chat offline form")

    # An agent online answers: the conversation with both sides' messages.
    agent = Agent(widget_env)
    try:
        driver.delete_all_cookies()
        driver.execute_script("localStorage.clear(); sessionStorage.clear()")
        driver.get(widget_env.url("/demo"))
        root = open_chat(driver)
        root.find_element(By.CSS_SELECTOR, "textarea[name=text]").send_keys("Hello, is the rye bread vegan?\n")
        created = agent.expect(lambda f: f["type"] == "conversation.created")
        agent.send("chat.send", {"conversationId": created["data"]["conversation"]["id"], "clientMessageId": uuid.uuid4().hex,
                                 "text": "Yes, it is!"})
        wait_until(driver, lambda _: "Yes, it is!" in root.find_element(By.CSS_SELECTOR, ".log").text, "the agent's answer never showed")
        assert_no_serious_violations(driver, "chat conversation with an agent")
    finally:
        agent.close()


CONSOLE_SCREENS = [
    ("inbox", "/admin/inbox", "#inbox-list .row"),
    ("subscribers", "/admin/subscribers", "#subscriber-table"),
    ("outbox", "/admin/outbox", "#mail-table"),
    ("users", "/admin/users", "#users-table"),
    ("chat", "/admin/chat?tab=all", ".chat-layout"),
    ("faq", "/admin/faq", "main"),
    ("reviews", "/admin/reviews", "main"),
    ("consent", "/admin/consent", "main"),
]


def test_every_console_screen(console_server, driver) -> None:
    contact, = submit_many(console_server, "contact", [{"name": "Axe Audit", "email": "axe@example.com", "subject": "Audit",
                                                          "message": "Checking every screen."}])
    ticket, = submit_many(console_server, "ticket", [{"name": "Axe Audit", "email": "axe@example.com", "subject": "Audit ticket",
                                                        "description": "Checking the ticket screen.", "priority": "medium"}])
    # Signed out: the sign-in page, and the server's own pages.
    # (The API reference page is left out: axe over its thousands of nodes takes minutes on a busy machine.)
    for name, path, ready in [("sign-in", "/admin/inbox", "#signin-email"), ("front page", "/", "#snippet")]:
        driver.get(console_server.url(path))
        wait_for(driver, ready, timeout=20)
        assert_no_serious_violations(driver, name)
    sign_in(driver, console_server, ADMIN)
    screens = CONSOLE_SCREENS + [
        ("ticket", f"/admin/inbox/ticket/{ticket['id']}", "#ticket-thread"),
        ("contact", f"/admin/inbox/contact/{contact['id']}", "#contact-message"),
    ]
    for name, path, ready in screens:
        driver.get(console_server.url(path))
        wait_for(driver, ready)
        wait_for(driver, "#sign-out")
        assert_no_serious_violations(driver, f"console {name} screen")

"""Every console screen at desktop and tablet size, light and dark: no console errors, nothing
wider than the window, and a screenshot of each for a person to look at."""

from __future__ import annotations

import uuid

import pytest
from selenium.webdriver.common.by import By

from console_support import (  # noqa: F401  (fixtures are used by name)
    click, ADMIN, api_available, assert_no_console_errors, console_server, shots, sign_in, submit_many, wait_for,
)

SCREENS = [
    ("inbox", "/admin/inbox", "#inbox-list .row"),
    ("subscribers", "/admin/subscribers", "#subscriber-table"),
    ("outbox", "/admin/outbox", "#mail-table"),
    ("users", "/admin/users", "#users-table"),
    ("chat", "/admin/chat", ".chat-layout"),
    ("tokens", "/admin/tokens", "#tokens-table"),
    ("webhooks", "/admin/webhooks", "#webhook-add"),
    ("account", "/admin/account", "#sessions-table"),
]


@pytest.fixture(scope="module")
def some_items(console_server) -> dict:
    if not api_available(console_server, "/api/v1/admin/tickets"):
        pytest.fail("/api/v1/admin/tickets answers 404: the inbox API is not routed")
    tag = uuid.uuid4().hex[:8]
    contact, = submit_many(console_server, "contact", [
        {"name": "Greta Guest", "email": f"greta-{tag}@example.com", "subject": "Birthday cake for Saturday",
         "message": "Could you write “Happy 40th, Sam!” on a chocolate cake for 12 people?"}])
    ticket, = submit_many(console_server, "ticket", [
        {"name": "Hugo Buyer", "email": f"hugo-{tag}@example.com", "subject": "Wrong loaf in my order",
         "description": "I ordered sourdough and got rye.", "priority": "high"}])
    return {"contact": contact["id"], "ticket": ticket["id"]}


@pytest.mark.parametrize("size", ["desktop", "tablet"])
def test_every_screen_renders_without_console_errors(console_server, driver, shots, some_items, size) -> None:
    if size == "tablet":
        driver.set_window_size(768, 1024)
    sign_in(driver, console_server, ADMIN)
    screens = SCREENS + [
        ("ticket", f"/admin/inbox/ticket/{some_items['ticket']}", "#ticket-thread"),
        ("contact", f"/admin/inbox/contact/{some_items['contact']}", "#contact-message"),
    ]
    for name, path, ready in screens:
        driver.get(console_server.url(path))
        wait_for(driver, ready)
        assert_no_console_errors(driver, f"{name} ({size})", console_server)
        overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{name} is {overflow}px wider than the {size} window"
        shots(driver, f"{name}-{size}" if size == "tablet" else f"screen-{name}")
    if size == "tablet":
        # Dark theme at tablet size.
        click(driver, "#theme-toggle")
        click(driver, "#theme-toggle")
        driver.get(console_server.url(f"/admin/inbox/ticket/{some_items['ticket']}"))
        wait_for(driver, "#ticket-thread")
        shots(driver, "ticket-tablet-dark")
        assert_no_console_errors(driver, "dark tablet", console_server)

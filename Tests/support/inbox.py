"""Helpers for tests that use the inbox through a live server: accounts, a signed-in console
session, and the mails the default file transport writes to `<data-dir>/mail/*.eml`."""

from __future__ import annotations

import email
import email.policy
import re
import subprocess
import time
from pathlib import Path

import requests

from support.frontdesk_proc import FrontdeskServer, frontdesk_bin

PASSWORD = "correct horse battery staple"


def add_user(data_dir: Path, address: str = "owner@example.com", role: str = "admin") -> None:
    """`frontdesk user add` on a data directory (before or while a server runs on it)."""
    result = subprocess.run(
        [str(frontdesk_bin()), "user", "add", "--data-dir", str(data_dir), "--email", address,
         "--role", role, "--password-stdin"],
        input=PASSWORD.encode(), capture_output=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr.decode()


def console(server: FrontdeskServer, address: str = "owner@example.com") -> requests.Session:
    """A requests session signed in to the console, sending Origin and X-CSRF-Token like the console does."""
    session = requests.Session()
    origin = server.base_url.rstrip("/")
    session.headers["Origin"] = origin
    r = session.post(server.url("/api/v1/admin/session"), json={"email": address, "password": PASSWORD}, timeout=10)
    assert r.status_code == 200, r.text
    session.headers["X-CSRF-Token"] = r.json()["csrfToken"]
    return session


def cookie_header(session: requests.Session) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


class Spool:
    """The `.eml` files the file transport wrote, parsed."""

    def __init__(self, data_dir: Path) -> None:
        self.directory = Path(data_dir) / "mail"

    def messages(self) -> list[email.message.EmailMessage]:
        if not self.directory.is_dir():
            return []
        return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
                for p in sorted(self.directory.glob("*.eml"))]

    def wait_for(self, predicate, timeout: float = 15.0) -> email.message.EmailMessage:
        """The first message matching `predicate`, waiting for the delivery service to write it."""
        deadline = time.monotonic() + timeout
        while True:
            for message in self.messages():
                if predicate(message):
                    return message
            if time.monotonic() > deadline:
                found = [(m["To"], m["Subject"]) for m in self.messages()]
                raise AssertionError(f"no matching mail in {self.directory} after {timeout}s; found {found}")
            time.sleep(0.05)

    @staticmethod
    def text(message: email.message.EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain",))
        return part.get_content() if part else ""

    @staticmethod
    def link(message: email.message.EmailMessage, pattern: str) -> str:
        """The first URL in the plain-text body matching `pattern`."""
        for url in re.findall(r"https?://\S+", Spool.text(message)):
            if re.search(pattern, url):
                return url
        raise AssertionError(f"no link matching {pattern!r} in:\n{Spool.text(message)}")

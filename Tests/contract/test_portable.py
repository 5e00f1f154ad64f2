"""The binary carries everything it serves: copied alone into an empty folder, it still serves
its OpenAPI document, the demo site and its stylesheet."""

from __future__ import annotations

import shutil
from pathlib import Path

import requests

from support.frontdesk_proc import FrontdeskServer, frontdesk_bin


def test_binary_copied_alone_serves_its_embedded_files(tmp_path: Path) -> None:
    lonely = tmp_path / "elsewhere" / "frontdesk"
    lonely.parent.mkdir()
    shutil.copy2(frontdesk_bin(), lonely)
    server = FrontdeskServer(tmp_path / "data", demo=True, binary=lonely, log_path=tmp_path / "server.log").start()
    try:
        assert requests.get(server.url("/api/openapi.json"), timeout=5).json()["openapi"] == "3.1.0"
        demo = requests.get(server.url("/demo"), timeout=5)
        assert demo.status_code == 200 and "Lakeside Bakery" in demo.text
        css = requests.get(server.url("/static/demo.css"), headers={"Accept-Encoding": "gzip"}, timeout=5)
        assert css.status_code == 200
        assert css.headers["Content-Type"].startswith("text/css")
        assert css.headers.get("Content-Encoding") == "gzip"
        assert css.headers["ETag"].startswith('"')
    finally:
        assert server.stop() == 0

"""The process contract: it says where to go, logs JSON lines, and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
from pathlib import Path

import requests

from support.frontdesk_proc import frontdesk_server


def test_start_announce_log_and_graceful_stop(tmp_path: Path) -> None:
    with frontdesk_server(tmp_path) as server:
        assert requests.get(server.url("/healthz"), timeout=5).status_code == 200
        log_file = server.data_dir / "logs" / "frontdesk.log"
    assert server.exit_code == 0, f"SIGTERM gave exit code {server.exit_code}, want 0\n{server.log_tail()}"

    # Checked after exit: stdout to a file is block-buffered until the process flushes or ends.
    assert server.base_url in server.output(), (
        f"startup output does not mention {server.base_url}\n{server.log_tail()}"
    )

    assert log_file.is_file(), f"no log file at {log_file}; data dir has {sorted(p.name for p in server.data_dir.rglob('*'))}"
    lines = [ln for ln in log_file.read_text().splitlines() if ln.strip()]
    assert lines, f"{log_file} is empty"
    for n, line in enumerate(lines, 1):
        try:
            assert isinstance(json.loads(line), dict)
        except (ValueError, AssertionError):
            raise AssertionError(f"{log_file}:{n} is not a JSON object: {line[:300]!r}") from None

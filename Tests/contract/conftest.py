"""Fixtures for the contract suite: a live `frontdesk serve` checked against its own OpenAPI."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Iterator

import pytest

# Tests/ on sys.path so both suites import the one server helper (Tests/support).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from support.frontdesk_proc import FrontdeskServer, frontdesk_server  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Tests/contract/artifacts, emptied once per run (gitignored)."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FrontdeskServer]:
    """A server shared by one test module; it must survive the module and exit 0 on SIGTERM."""
    with frontdesk_server(tmp_path_factory.mktemp("contract")) as srv:
        yield srv
        alive = srv.proc is not None and srv.proc.poll() is None
    assert alive, f"frontdesk died during the tests\n{srv.log_tail()}"
    assert srv.exit_code == 0, f"SIGTERM gave exit code {srv.exit_code}, want 0\n{srv.log_tail()}"

"""Fuzz the running server against its own OpenAPI document with schemathesis (CLI, v4).

Every operation gets generated valid and invalid requests under every check schemathesis has
(`--checks all`): a 5xx, an undocumented status code, content type or header, a response that
does not match its schema, an undeclared method not answered 405 with Allow, a schema-valid
request refused or a schema-violating one accepted all fail. The two per-operation exceptions
(WebSocket handshakes, the CSV upload) are in schemathesis/schemathesis.toml with their reasons;
schemathesis/hooks.py gives each schema-valid request a fresh Idempotency-Key, as a client would.
Bounded by FRONTDESK_ST_MAX_EXAMPLES (default 30) per operation and a fixed seed
(FRONTDESK_ST_SEED) so a run is repeatable; the full report lands in
Tests/contract/artifacts/ for reading after a failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from support.frontdesk_proc import frontdesk_server
from support.inbox import add_user, console, cookie_header

# Every check schemathesis has, the validation-parity ones (positive_data_acceptance,
# negative_data_rejection) and the undeclared-method and Allow-header checks included: that is
# schemathesis 4's default when no --checks is given, and only then do the per-operation
# settings in schemathesis.toml apply (a --checks on the command line overrides them).
# FRONTDESK_ST_EXCLUDE names checks to leave out while investigating (empty by default).
EXCLUDED_CHECKS = os.environ.get("FRONTDESK_ST_EXCLUDE", "")
HERE = Path(__file__).resolve().parent
MAX_EXAMPLES = os.environ.get("FRONTDESK_ST_MAX_EXAMPLES", "30")
SEED = os.environ.get("FRONTDESK_ST_SEED", "20261126")
RUN_TIMEOUT_S = int(os.environ.get("FRONTDESK_ST_TIMEOUT", "600"))


def _run(server, tmp_path: Path, report_dir: Path, extra: list[str]) -> subprocess.CompletedProcess:
    cmd = [
        sys.executable, "-m", "schemathesis.cli", "--no-color",
        "--config-file", str(HERE / "schemathesis" / "schemathesis.toml"), "run", server.url("/api/openapi.json"),
        *(["--exclude-checks", EXCLUDED_CHECKS] if EXCLUDED_CHECKS else []),
        "--max-examples", MAX_EXAMPLES,
        "--seed", SEED,
        "--workers", "2",
        "--request-timeout", "10",
        "--generation-database", "none",
        "--report", "junit,ndjson",
        "--report-dir", str(report_dir),
        *extra,
    ]
    # cwd is a temp dir so no stray report or config is read from or written to the repo.
    env = {**os.environ, "SCHEMATHESIS_HOOKS": str(HERE / "schemathesis" / "hooks.py")}
    return subprocess.run(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=RUN_TIMEOUT_S)


# The rate limiter is tested on its own (test_surface, the Swift suites); here it would turn most
# generated requests into 429s and hide the endpoints behind it.
@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "console"])
def test_api_conforms_to_openapi(tmp_path: Path, artifacts_dir: Path, signed_in: bool) -> None:
    data = tmp_path / "server" / "data"
    if signed_in:
        add_user(data)
    name = "console" if signed_in else "anonymous"
    with frontdesk_server(tmp_path / "server", extra_args=["--rate-limit", "off"]) as server:
        extra: list[str] = []
        if signed_in:
            session = console(server)
            extra = [
                "-H", f"Cookie: {cookie_header(session)}",
                "-H", f"X-CSRF-Token: {session.headers['X-CSRF-Token']}",
                "-H", f"Origin: {session.headers['Origin']}",
                # The console API as an agent sees it; signing out (session), first-admin setup and
                # managing users or one's own account would end the run's session or belong to another test.
                "--include-path-regex", "^/api/v1/admin/",
                "--exclude-path-regex", "^/api/v1/admin/(session|setup|users|account)",
            ]
        st = _run(server, tmp_path, artifacts_dir / f"schemathesis-{name}", extra)
        (artifacts_dir / f"schemathesis-{name}.txt").write_text(st.stdout)
        alive = server.proc is not None and server.proc.poll() is None
    exit_code = server.exit_code
    (artifacts_dir / f"schemathesis-{name}-server.log").write_text(server.output())

    assert st.returncode == 0, (
        f"schemathesis failed (exit {st.returncode}); "
        f"see {artifacts_dir / f'schemathesis-{name}.txt'}\n{st.stdout[-12000:]}\n{server.log_tail(40)}"
    )
    if signed_in:
        assert "401" not in st.stdout.split("Warnings:")[-1] or "Authentication failed" not in st.stdout, st.stdout[-3000:]
    assert alive, f"frontdesk died while being fuzzed\n{server.log_tail()}"
    assert exit_code == 0, f"SIGTERM after fuzzing gave exit code {exit_code}, want 0\n{server.log_tail()}"

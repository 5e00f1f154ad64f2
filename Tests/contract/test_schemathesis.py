"""Fuzz the running server against its own OpenAPI document with schemathesis (CLI, v4).

Every operation gets generated valid and invalid requests; a response that is a 5xx, has an
undocumented status code or content type, or does not match its documented schema fails.
Bounded by FRONTDESK_ST_MAX_EXAMPLES (default 30) per operation and a fixed seed
(FRONTDESK_ST_SEED) so a run is repeatable; the full report lands in
Tests/contract/artifacts/ for reading after a failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from support.frontdesk_proc import frontdesk_server

CHECKS = ",".join([
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
])
MAX_EXAMPLES = os.environ.get("FRONTDESK_ST_MAX_EXAMPLES", "30")
SEED = os.environ.get("FRONTDESK_ST_SEED", "20261126")
RUN_TIMEOUT_S = int(os.environ.get("FRONTDESK_ST_TIMEOUT", "600"))


def test_api_conforms_to_openapi(tmp_path: Path, artifacts_dir: Path) -> None:
    with frontdesk_server(tmp_path / "server") as server:
        schema_url = server.url("/api/openapi.json")
        cmd = [
            sys.executable, "-m", "schemathesis.cli", "--no-color", "run", schema_url,
            "--checks", CHECKS,
            "--max-examples", MAX_EXAMPLES,
            "--seed", SEED,
            "--workers", "2",
            "--request-timeout", "10",
            "--generation-database", "none",
            "--report", "junit,ndjson",
            "--report-dir", str(artifacts_dir / "schemathesis"),
        ]
        # cwd is a temp dir so no stray report or config is read from or written to the repo.
        st = subprocess.run(
            cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, timeout=RUN_TIMEOUT_S,
        )
        (artifacts_dir / "schemathesis.txt").write_text(st.stdout)
        alive = server.proc is not None and server.proc.poll() is None
    exit_code = server.exit_code
    (artifacts_dir / "schemathesis-server.log").write_text(server.output())

    assert st.returncode == 0, (
        f"schemathesis failed (exit {st.returncode}); "
        f"see {artifacts_dir / 'schemathesis.txt'}\n{st.stdout[-12000:]}\n{server.log_tail(40)}"
    )
    assert alive, f"frontdesk died while being fuzzed\n{server.log_tail()}"
    assert exit_code == 0, f"SIGTERM after fuzzing gave exit code {exit_code}, want 0\n{server.log_tail()}"

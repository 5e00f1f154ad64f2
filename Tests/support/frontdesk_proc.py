"""Start and stop a real `frontdesk serve` process for the Python test suites.

Shared by Tests/contract and Tests/browser so both drive the binary the same way: a free
loopback port, a throwaway data directory, readiness on /healthz, stdout/stderr captured to a
log file, and a graceful stop with SIGTERM whose exit code the caller asserts on.

Servers never outlive the tests: each child gets PR_SET_PDEATHSIG(SIGTERM), so it is told to
stop if pytest dies, and when scripts/test exports FRONTDESK_TEST_RUN_DIR each live pid is
recorded there so the script's exit trap can stop any server that a crash left behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator, Sequence

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 15.0


def frontdesk_bin() -> Path:
    """Return the binary under test: $FRONTDESK_BIN, else the debug build in .build/."""
    path = Path(os.environ.get("FRONTDESK_BIN") or REPO_ROOT / ".build" / "debug" / "frontdesk")
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise RuntimeError(
            f"frontdesk binary not found at {path}; run `swift build --product frontdesk` "
            "or set FRONTDESK_BIN (scripts/test does both)"
        )
    return path.resolve()


def free_port(host: str = "127.0.0.1") -> int:
    """Ask the kernel for a free TCP port on `host` (racy in theory, fine on a test machine)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """In the child before exec: deliver SIGTERM to it when the parent (pytest) dies."""
    PR_SET_PDEATHSIG = 1
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class FrontdeskServer:
    """One `frontdesk serve` child process bound to a loopback port."""

    def __init__(
        self,
        data_dir: Path,
        *,
        demo: bool = False,
        host: str = "127.0.0.1",
        port: int | None = None,
        extra_args: Sequence[str] = (),
        log_path: Path | None = None,
        binary: Path | None = None,
        env: dict[str, str] | None = None,
        ssl_context: "ssl.SSLContext | None" = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        # A server started with server.tls_cert / tls_key: https URLs, readiness checked with this context.
        self.ssl_context = ssl_context
        self.host = host
        self.port = port or free_port(host)
        self.binary = binary or frontdesk_bin()
        self.log_path = Path(log_path) if log_path else self.data_dir.parent / f"{self.data_dir.name}.server.log"
        self.args = [
            str(self.binary), "serve",
            "--data-dir", str(self.data_dir),
            "--host", host,
            "--port", str(self.port),
            *(["--demo"] if demo else []),
            *extra_args,
        ]
        # Test servers run without the scripted demo visitor (its chats would surprise other
        # tests) unless a test asks for it through `env`.
        self.env = {"FRONTDESK_DEMO_VISITOR_INTERVAL_SECONDS": "0", **os.environ, **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None
        self.exit_code: int | None = None
        self._pid_file: Path | None = None

    @property
    def base_url(self) -> str:
        """Root URL with a trailing slash, e.g. http://127.0.0.1:41234/."""
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{self.host}:{self.port}/"

    def url(self, path: str) -> str:
        """Absolute URL for a server path such as "/healthz"."""
        return self.base_url + path.lstrip("/")

    def start(self, ready_timeout: float = READY_TIMEOUT_S) -> "FrontdeskServer":
        """Spawn the server and block until GET /healthz answers 200, or raise with the log tail."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                self.args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir.parent,
                env=self.env,
                preexec_fn=_die_with_parent,
            )
        finally:
            log.close()
        self._record_pid()
        try:
            self._wait_ready(ready_timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last_error = "no attempt"
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"frontdesk exited with code {self.proc.returncode} before becoming ready\n"
                    f"command: {' '.join(self.args)}\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(self.url("/healthz"), timeout=2, context=self.ssl_context) as resp:
                    if resp.status == 200:
                        return
                    last_error = f"HTTP {resp.status}"
            except urllib.error.HTTPError as e:
                last_error = f"HTTP {e.code}"
            except (urllib.error.URLError, OSError) as e:
                last_error = str(e)
            time.sleep(0.1)
        raise RuntimeError(
            f"frontdesk not ready on {self.url('/healthz')} after {timeout:.0f}s ({last_error})\n"
            f"command: {' '.join(self.args)}\n{self.log_tail()}"
        )

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> int | None:
        """Send SIGTERM and wait; return the exit code, or None if it had to be SIGKILLed.

        A process killed by a signal reports a negative code (-15 for an unhandled SIGTERM).
        """
        if self.proc is None:
            return self.exit_code
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.exit_code = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.exit_code = None
        else:
            self.exit_code = self.proc.returncode
        self.proc = None
        if self._pid_file is not None:
            with contextlib.suppress(FileNotFoundError):
                self._pid_file.unlink()
        return self.exit_code

    def output(self) -> str:
        """Everything the server wrote to stdout/stderr so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 60) -> str:
        """The last lines of the server's output, labelled for an assertion message."""
        tail = "\n".join(self.output().splitlines()[-lines:])
        return f"--- last {lines} lines of {self.log_path} ---\n{tail}\n--- end ---"

    def _record_pid(self) -> None:
        run_dir = os.environ.get("FRONTDESK_TEST_RUN_DIR")
        if not run_dir or self.proc is None:
            return
        pids = Path(run_dir) / "pids"
        pids.mkdir(parents=True, exist_ok=True)
        self._pid_file = pids / str(self.proc.pid)
        self._pid_file.write_text(json.dumps({"exe": str(self.binary), "args": self.args}))


@contextlib.contextmanager
def frontdesk_server(
    tmp_dir: Path,
    *,
    demo: bool = False,
    extra_args: Sequence[str] = (),
    ready_timeout: float = READY_TIMEOUT_S,
) -> Iterator[FrontdeskServer]:
    """Run a server with data in `tmp_dir`/data and output in `tmp_dir`/server.log.

    Stops it with SIGTERM on exit; the exit code is then in `server.exit_code` (the caller
    decides whether to assert on it, so a failing test body is not masked by a second error).
    """
    tmp_dir = Path(tmp_dir)
    server = FrontdeskServer(
        tmp_dir / "data", demo=demo, extra_args=extra_args, log_path=tmp_dir / "server.log"
    )
    server.start(ready_timeout)
    try:
        yield server
    finally:
        server.stop()

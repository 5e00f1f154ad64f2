"""TLS without a proxy: `server.tls_cert` / `server.tls_key` served by the binary itself.

A test CA and server certificates are made with the openssl CLI; the checks use curl (the
negotiated HTTP version), Python's ssl module (the certificate a new connection is served) and
the websockets client (the chat over wss).
"""

from __future__ import annotations

import http.client
import json
import signal
import ssl
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest
from websockets.sync.client import connect as ws_connect

from support.frontdesk_proc import FrontdeskServer, free_port, frontdesk_bin

DEADLINE_S = 20.0
PASSWORD = "correct horse battery staple"


def openssl(*args: str, cwd: Path) -> None:
    result = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    assert result.returncode == 0, f"openssl {' '.join(args)}\n{result.stderr}"


def make_ca(directory: Path) -> Path:
    """A throwaway certificate authority: ca.pem and ca.key in `directory`."""
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Frontdesk test CA", cwd=directory)
    return directory / "ca.pem"


def issue(directory: Path, name: str) -> tuple[Path, Path]:
    """A server certificate for 127.0.0.1 signed by the CA in `directory`: name.pem, name.key."""
    (directory / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN=127.0.0.1 {name}", cwd=directory)
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial",
            str(int.from_bytes(name.encode(), "big") % (1 << 60) + 1000), "-out", f"{name}.pem", "-days", "2",
            "-extfile", "san.ext", cwd=directory)
    return directory / f"{name}.pem", directory / f"{name}.key"


def der(pem: Path) -> bytes:
    return ssl.PEM_cert_to_DER_cert(pem.read_text())


class TLSServer(FrontdeskServer):
    """`frontdesk serve` with TLS, trusting the test CA."""

    def __init__(self, data_dir: Path, ca: Path, **kwargs) -> None:
        super().__init__(data_dir, ssl_context=ssl.create_default_context(cafile=str(ca)), **kwargs)
        self.ca = ca
        self.context = self.ssl_context

    def served_certificate(self) -> bytes:
        """The DER certificate a new connection is handed."""
        import socket
        with socket.create_connection((self.host, self.port), timeout=5) as raw:
            with self.context.wrap_socket(raw, server_hostname=self.host) as tls:
                return tls.getpeercert(binary_form=True)

    def log_file(self) -> Path:
        return self.data_dir / "logs" / "frontdesk.log"


def wait_for_log(server: FrontdeskServer, message: str, after: int) -> dict:
    """The first JSON log line of the server's log file past byte `after` whose msg is `message`."""
    log_file = server.data_dir / "logs" / "frontdesk.log"
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        for line in log_file.read_bytes()[after:].decode(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            if entry.get("msg") == message:
                return entry
        time.sleep(0.05)
    raise AssertionError(f"no log line {message!r} within {DEADLINE_S}s\n{server.log_tail()}")


def curl(server: TLSServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["curl", "-sS", "--cacert", str(server.ca), "--max-time", "10", *args],
                          capture_output=True, text=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("pki")
    make_ca(directory)
    return directory


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory, pki: Path) -> Iterator[TLSServer]:
    first_cert, first_key = issue(pki, "first")
    live_cert, live_key = pki / "live.pem", pki / "live.key"
    live_cert.write_bytes(first_cert.read_bytes())
    live_key.write_bytes(first_key.read_bytes())
    tmp = tmp_path_factory.mktemp("tls")
    redirect_port = free_port()
    server = TLSServer(tmp / "data", pki / "ca.pem", log_path=tmp / "server.log", env={
        "FRONTDESK_TLS_CERT": str(live_cert), "FRONTDESK_TLS_KEY": str(live_key),
        "FRONTDESK_HTTP_REDIRECT_PORT": str(redirect_port),
    })
    server.redirect_port = redirect_port  # type: ignore[attr-defined]
    added = subprocess.run([str(frontdesk_bin()), "user", "add", "--data-dir", str(tmp / "data"), "--email", "owner@example.com",
                            "--role", "admin", "--password-stdin"], input=PASSWORD, capture_output=True, text=True, timeout=60)
    assert added.returncode == 0, added.stderr
    server.start()
    try:
        yield server
    finally:
        code = server.stop()
    assert code == 0, f"SIGTERM gave exit code {code}, want 0\n{server.log_tail()}"


def test_http1_and_http2_over_tls_with_hsts(tls_server: TLSServer) -> None:
    for flag, version in (("--http1.1", "1.1"), ("--http2", "2")):
        result = curl(tls_server, flag, "-D", "-", "-o", "/dev/null", "-w", "\n%{http_version} %{http_code}", tls_server.url("/healthz"))
        assert result.returncode == 0, result.stderr
        *headers, last = result.stdout.strip().splitlines()
        assert last == f"{version} 200", result.stdout
        hsts = [h for h in headers if h.lower().startswith("strict-transport-security:")]
        assert hsts and "max-age=31536000" in hsts[0], headers
    # Errors carry it too: a 404 in the envelope.
    missing = curl(tls_server, "--http2", "-D", "-", "-o", "/dev/null", "-w", "\n%{http_code}", tls_server.url("/no-such-page"))
    assert missing.stdout.strip().endswith("404") and "strict-transport-security: max-age=" in missing.stdout.lower()
    # The ready line names the https address.
    assert f"ready at https://127.0.0.1:{tls_server.port}/" in tls_server.output()


def test_tls_older_than_1_2_is_refused(tls_server: TLSServer) -> None:
    old = curl(tls_server, "--tlsv1.1", "--tls-max", "1.1", "-o", "/dev/null", tls_server.url("/healthz"))
    # The server's alert, not the client refusing to try: curl's OpenSSL does send a TLS 1.1 hello.
    assert old.returncode != 0 and "alert protocol version" in old.stderr, old.stderr
    for version in ("1.2", "1.3"):
        ok = curl(tls_server, f"--tlsv{version}", "--tls-max", version, "-o", "/dev/null", "-w", "%{http_code}", tls_server.url("/healthz"))
        assert ok.stdout == "200", f"TLS {version}: {ok.stderr}"


def test_console_sign_in_over_tls_gets_the_secure_cookie(tls_server: TLSServer) -> None:
    """No proxy says X-Forwarded-Proto: the TLS listener itself makes the session cookie secure."""
    request = urllib.request.Request(tls_server.url("/api/v1/admin/session"), method="POST",
                                     data=json.dumps({"email": "owner@example.com", "password": PASSWORD}).encode(),
                                     headers={"Content-Type": "application/json", "Origin": tls_server.base_url.rstrip("/")})
    with urllib.request.urlopen(request, timeout=10, context=tls_server.context) as response:
        assert response.status == 200
        cookies = response.headers.get_all("Set-Cookie") or []
    session = [c for c in cookies if c.startswith("__Host-fd_session=")]
    assert session and "Secure" in session[0], cookies


def test_plain_http_listener_redirects_with_308(tls_server: TLSServer) -> None:
    port = tls_server.redirect_port  # type: ignore[attr-defined]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/admin/?tab=inbox&x=1", headers={"Host": f"127.0.0.1:{port}"})
    response = connection.getresponse()
    assert response.status == 308
    assert response.getheader("Location") == f"https://127.0.0.1:{tls_server.port}/admin/?tab=inbox&x=1"
    connection.close()
    # Following it lands on the TLS listener.
    followed = curl(tls_server, "-L", "-o", "/dev/null", "-w", "%{http_code} %{url_effective}", f"http://127.0.0.1:{port}/healthz")
    assert followed.stdout == f"200 https://127.0.0.1:{tls_server.port}/healthz", followed.stdout + followed.stderr


def test_chat_websocket_over_wss(tls_server: TLSServer) -> None:
    with ws_connect(f"wss://127.0.0.1:{tls_server.port}/api/v1/ws", ssl=tls_server.context, open_timeout=10) as ws:
        def frame(kind: str, body: dict) -> None:
            ws.send(json.dumps({"v": 1, "type": kind, "ref": kind, "data": body}))

        def wait(kind: str) -> dict:
            while True:
                message = json.loads(ws.recv(timeout=10))
                if message.get("type") == kind:
                    return message.get("data", {})

        frame("hello", {})
        assert wait("welcome")["visitorId"]
        frame("chat.send", {"clientMessageId": "tls-1", "text": "Hello over wss"})
        assert wait("chat.ack")["conversation"]["id"]


def test_sighup_serves_a_new_certificate_and_keeps_it_when_files_break(tls_server: TLSServer, pki: Path) -> None:
    live_cert, live_key = pki / "live.pem", pki / "live.key"
    before = tls_server.served_certificate()
    assert before == der(live_cert)
    second_cert, second_key = issue(pki, "second")
    assert der(second_cert) != before
    live_key.write_bytes(second_key.read_bytes())
    live_cert.write_bytes(second_cert.read_bytes())
    assert tls_server.proc is not None
    tls_server.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + DEADLINE_S
    while tls_server.served_certificate() != der(second_cert):
        assert time.monotonic() < deadline, f"the new certificate was not served\n{tls_server.log_tail()}"
        time.sleep(0.05)
    # A broken certificate file: logged naming the file, the second certificate still served.
    mark = tls_server.log_file().stat().st_size
    live_cert.write_text("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n")
    tls_server.proc.send_signal(signal.SIGHUP)
    entry = wait_for_log(tls_server, "TLS certificate reload failed; still serving the previous certificate", mark)
    assert entry["level"] == "error" and entry["file"] == str(live_cert), entry
    assert tls_server.served_certificate() == der(second_cert)
    assert curl(tls_server, "-o", "/dev/null", "-w", "%{http_code}", tls_server.url("/healthz")).stdout == "200"
    live_cert.write_bytes(second_cert.read_bytes())


def test_tls_files_that_do_not_parse_stop_the_start(tmp_path: Path, pki: Path) -> None:
    cert, key = issue(pki, "third")
    bad = tmp_path / "broken.pem"
    bad.write_text("this is not PEM\n")
    config = tmp_path / "frontdesk.toml"
    config.write_text(f'[server]\ntls_cert = "{bad}"\ntls_key = "{key}"\n')
    checked = subprocess.run([str(frontdesk_bin()), "check-config", "--config", str(config)], capture_output=True, text=True)
    assert checked.returncode == 2
    assert "server.tls_cert" in checked.stderr and str(bad) in checked.stderr, checked.stderr
    # The good pair is valid, and check-config says it will serve HTTPS.
    config.write_text(f'[server]\ntls_cert = "{cert}"\ntls_key = "{key}"\n')
    good = subprocess.run([str(frontdesk_bin()), "check-config", "--config", str(config)], capture_output=True, text=True)
    assert good.returncode == 0 and f"with HTTPS (certificate {cert})" in good.stdout, good.stdout + good.stderr
    # A key that is not the certificate's names the key file.
    other_cert, other_key = issue(pki, "fourth")
    config.write_text(f'[server]\ntls_cert = "{cert}"\ntls_key = "{other_key}"\n')
    mismatched = subprocess.run([str(frontdesk_bin()), "check-config", "--config", str(config)], capture_output=True, text=True)
    assert mismatched.returncode == 2 and str(other_key) in mismatched.stderr, mismatched.stderr
    # serve refuses to start, naming the file.
    config.write_text(f'[server]\ntls_cert = "{bad}"\ntls_key = "{key}"\n')
    served = subprocess.run([str(frontdesk_bin()), "serve", "--config", str(config), "--data-dir", str(tmp_path / "data"), "--port", "0"],
                            capture_output=True, text=True, timeout=30)
    assert served.returncode != 0 and str(bad) in served.stderr, served.stderr


def test_sighup_without_tls_keeps_serving(tmp_path: Path) -> None:
    server = FrontdeskServer(tmp_path / "data", log_path=tmp_path / "server.log")
    server.start()
    try:
        mark = (tmp_path / "data" / "logs" / "frontdesk.log").stat().st_size
        assert server.proc is not None
        server.proc.send_signal(signal.SIGHUP)
        wait_for_log(server, "SIGHUP: no TLS certificate to reload (server.tls_cert is not set)", mark)
        with urllib.request.urlopen(server.url("/healthz"), timeout=5) as resp:
            assert resp.status == 200
            assert resp.headers.get("Strict-Transport-Security") is None
    finally:
        code = server.stop()
    assert code == 0, server.log_tail()


def test_slow_headers_over_tls_are_cut_and_http2_is_not(tmp_path: Path, pki: Path) -> None:
    """The slowloris deadline reads the plaintext after TLS; HTTP/2's binary frames are not mistaken for a slow header."""
    import socket
    cert, key = issue(pki, "slow")
    server = TLSServer(tmp_path / "data", pki / "ca.pem", log_path=tmp_path / "server.log", env={
        "FRONTDESK_TLS_CERT": str(cert), "FRONTDESK_TLS_KEY": str(key), "FRONTDESK_HEADER_TIMEOUT_SECONDS": "1",
    })
    server.start()
    try:
        # An HTTP/2 connection that sent its preface and one request stays open past the header deadline.
        h2_context = ssl.create_default_context(cafile=str(pki / "ca.pem"))
        h2_context.set_alpn_protocols(["h2"])
        with socket.create_connection((server.host, server.port), timeout=10) as raw, \
                h2_context.wrap_socket(raw, server_hostname=server.host) as h2:
            assert h2.selected_alpn_protocol() == "h2"
            # Client preface, an empty SETTINGS frame; the server answers with its SETTINGS.
            h2.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0]))
            assert h2.recv(9)[3] == 4, "no SETTINGS frame from the server"
            # A slow HTTP/1.1 header block on a second connection is cut after about a second.
            with socket.create_connection((server.host, server.port), timeout=10) as raw1, \
                    server.context.wrap_socket(raw1, server_hostname=server.host) as slow:
                slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                started = time.monotonic()
                assert slow.recv(4096) == b"", "the slow header was answered"
                assert time.monotonic() - started < 8
            # The HTTP/2 connection, older than that deadline, is still open: a PING is answered.
            h2.sendall(bytes([0, 0, 8, 6, 0, 0, 0, 0, 0]) + b"frontdsk")
            frames = b""
            deadline = time.monotonic() + 10
            while b"frontdsk" not in frames and time.monotonic() < deadline:
                chunk = h2.recv(4096)
                assert chunk, "the HTTP/2 connection was closed"
                frames += chunk
            assert b"frontdsk" in frames
    finally:
        code = server.stop()
    assert code == 0, server.log_tail()

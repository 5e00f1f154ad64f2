#!/usr/bin/env python3
"""Load client for Benchmarks/chat.sh: drives a running `frontdesk serve` over its chat sockets.

Speaks WebSocket over plain sockets and epoll (no asyncio, no library per frame), so that one
Python process can hold 10,000 sockets and notice a frame on each in well under the times it
measures. Phases, all on loopback:
  1. IDLE: open N visitor sockets (upgrade, hello, welcome) and hold them; the server's RSS from
     /proc before and after gives KiB per socket.
  2. PRESENCE: one agent flips its presence; time until every visitor socket has received the
     `presence.agent` frame (repeated; median and worst).
  3. MESSAGES: 10 agents online; M visitors each send one message per second for D seconds
     (M msgs/s in all); latency = visitor's chat.send -> the assigned agent's chat.message;
     agents acknowledge each message `delivered`, as the console does.
Answers the server's pings. Exits non-zero when a message was not delivered.
"""
import argparse
import base64
import json
import os
import select
import socket
import statistics
import struct
import sys
import time
import urllib.request


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    """User + system CPU seconds of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds():
    t = os.times()
    return t.user + t.system


def percentile(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[max(0, min(len(values) - 1, int(round(p / 100 * (len(values) - 1)))))]


MASK = b"\x00\x00\x00\x00"  # a zero mask: valid framing, no per-byte work


def client_frame(payload: bytes, opcode=0x1) -> bytes:
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    return header + MASK + payload


def text(type_, data, ref=None):
    out = {"v": 1, "type": type_, "data": data}
    if ref:
        out["ref"] = ref
    return client_frame(json.dumps(out, separators=(",", ":")).encode())


class Sock:
    """One WebSocket client connection: buffered reads, frames out, pings answered."""

    def __init__(self, port, path, headers=None):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = base64.b64encode(os.urandom(16)).decode()
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self.s.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.s.recv(4096)
            if not chunk:
                raise RuntimeError("closed during the handshake")
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        if not head.startswith(b"HTTP/1.1 101"):
            raise RuntimeError(head.split(b"\r\n")[0].decode())

    def send(self, data: bytes):
        self.s.sendall(data)

    def frames(self):
        """Complete text frames in the buffer (pings answered, others skipped)."""
        out = []
        while len(self.buf) >= 2:
            b0, b1 = self.buf[0], self.buf[1]
            n = b1 & 0x7F
            pos = 2
            if n == 126:
                if len(self.buf) < 4:
                    break
                n = struct.unpack("!H", self.buf[2:4])[0]
                pos = 4
            elif n == 127:
                if len(self.buf) < 10:
                    break
                n = struct.unpack("!Q", self.buf[2:10])[0]
                pos = 10
            if len(self.buf) < pos + n:
                break
            payload = self.buf[pos:pos + n]
            self.buf = self.buf[pos + n:]
            opcode = b0 & 0x0F
            if opcode == 0x9:
                self.send(client_frame(payload, 0xA))
            elif opcode == 0x1:
                out.append(payload)
            elif opcode == 0x8:
                raise RuntimeError(f"server closed the socket: {payload[:2].hex()} {payload[2:]!r}")
        return out

    def read_available(self):
        try:
            while True:
                chunk = self.s.recv(65536)
                if not chunk:
                    raise RuntimeError("connection closed")
                self.buf += chunk
                if len(chunk) < 65536:
                    break
        except BlockingIOError:
            pass
        return self.frames()

    def wait_for(self, type_):
        self.s.setblocking(True)
        while True:
            for f in self.frames():
                obj = json.loads(f)
                if obj.get("type") == type_:
                    return obj
            chunk = self.s.recv(65536)
            if not chunk:
                raise RuntimeError("connection closed")
            self.buf += chunk


def sign_in(port, email, password):
    base = f"http://127.0.0.1:{port}"
    req = urllib.request.Request(base + "/api/v1/admin/session", data=json.dumps({"email": email, "password": password}).encode(),
                                 method="POST", headers={"Content-Type": "application/json", "Origin": base})
    with urllib.request.urlopen(req) as resp:
        return resp.headers.get("Set-Cookie").split(";")[0]


def open_agent(port, email, password):
    cookie = sign_in(port, email, password)
    s = Sock(port, "/api/v1/admin/ws", {"Cookie": cookie, "Origin": f"http://127.0.0.1:{port}"})
    s.send(text("hello", {"status": "online"}, "h"))
    s.wait_for("welcome")
    s.s.setblocking(False)
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--idle", type=int, default=10000)
    ap.add_argument("--senders", type=int, default=1000)
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("--agents", type=int, default=10)
    ap.add_argument("--password", default="bench-password-123")
    args = ap.parse_args()

    agents = [open_agent(args.port, f"agent{i}@bench.test", args.password) for i in range(args.agents)]
    flipper = open_agent(args.port, "presence@bench.test", args.password)
    epoll = select.epoll()
    by_fd = {}

    # 1. Idle sockets and memory.
    time.sleep(0.5)
    rss_before = rss_kib(args.pid)
    t0 = time.perf_counter()
    visitors = []
    hello = text("hello", {}, "h")
    for _ in range(args.idle):
        v = Sock(args.port, "/api/v1/ws")
        v.send(hello)
        visitors.append(v)
    for v in visitors:
        v.wait_for("welcome")
        v.s.setblocking(False)
        by_fd[v.s.fileno()] = v
        epoll.register(v.s.fileno(), select.EPOLLIN)
    opened = time.perf_counter() - t0
    time.sleep(3)
    rss_after = rss_kib(args.pid)
    per_socket = (rss_after - rss_before) / max(1, len(visitors))
    print(f"idle visitor sockets held: {len(visitors)} (opened in {opened:.1f} s)")
    print(f"server RSS: {rss_before / 1024:.1f} MiB before, {rss_after / 1024:.1f} MiB with them open "
          f"-> {per_socket:.1f} KiB per socket (goal: <= 300 MiB in all; Centrifugo publishes ~30 KiB)")

    def drain(socks, timeout=0.2):
        end = time.perf_counter() + timeout
        while time.perf_counter() < end:
            events = epoll.poll(0.05)
            if not events:
                break
            for fd, _ in events:
                by_fd[fd].read_available()
        for s in socks:
            s.read_available()

    # 2. One presence change, broadcast to every visitor.
    times = []
    firsts = []
    # Ends with the flipper away, so the message phase assigns conversations to the 10 agents only.
    for status in ["away", "online", "away", "online", "away", "online", "away"]:
        drain(visitors)
        for a in agents + [flipper]:
            a.read_available()
        waiting = set(by_fd.keys())
        start = time.perf_counter()
        flipper.send(text("presence.set", {"status": status}))
        last = start
        first = None
        deadline = start + 30
        while waiting and time.perf_counter() < deadline:
            for fd, _ in epoll.poll(1):
                v = by_fd[fd]
                if any(b'"presence.agent"' in f for f in v.read_available()):
                    if fd in waiting:
                        waiting.discard(fd)
                        last = time.perf_counter()
                        if first is None:
                            first = last
        if waiting:
            print(f"presence: {len(waiting)} visitors never got the change")
            return 1
        times.append((last - start) * 1000)
        firsts.append((first - start) * 1000)
        time.sleep(0.2)
    print(f"one presence change to {len(visitors)} visitors, until the last one has it: median {statistics.median(times):.0f} ms, "
          f"worst {max(times):.0f} ms over {len(times)} changes (goal < 150 ms); the first visitor had it after "
          f"{statistics.median(firsts):.1f} ms. One Python process notices the frame on every socket, so the figure includes "
          f"its own ~10 us per socket")
    for a in agents + [flipper]:
        a.read_available()

    # 3. Messages: `senders` visitors, one message per second each, to 10 agents.
    senders = visitors[: args.senders]
    agent_fds = {}
    for a in agents:
        agent_fds[a.s.fileno()] = a
        epoll.register(a.s.fileno(), select.EPOLLIN)
    sent_at = {}
    acked_at = {}
    seen_at = {}
    per_agent = {a.s.fileno(): 0 for a in agents}
    interval = 1.0 / len(senders)
    schedule_start = time.perf_counter() + 0.1
    total = len(senders) * args.seconds
    next_index = 0
    server_cpu0, client_cpu0, wall0 = cpu_seconds(args.pid), own_cpu_seconds(), time.perf_counter()
    stop = schedule_start + args.seconds + 5
    while time.perf_counter() < stop and (next_index < total or len(seen_at) < total):
        now = time.perf_counter()
        while next_index < total and schedule_start + next_index * interval <= now:
            i = next_index % len(senders)
            cid = f"b{i}-{next_index // len(senders)}"
            sent_at[cid] = time.perf_counter()
            senders[i].send(text("chat.send", {"clientMessageId": cid, "text": f"message {next_index // len(senders)} from visitor {i}"}))
            next_index += 1
        wait = max(0.0, min(0.002, schedule_start + next_index * interval - time.perf_counter())) if next_index < total else 0.01
        for fd, _ in epoll.poll(wait):
            if fd in agent_fds:
                a = agent_fds[fd]
                for f in a.read_available():
                    if b'"chat.message"' not in f:
                        continue
                    m = json.loads(f)["data"]["message"]
                    cid = m.get("clientMessageId")
                    if m.get("sender") == "visitor" and cid:
                        seen_at.setdefault(cid, time.perf_counter())
                        per_agent[fd] += 1
                        a.send(text("chat.receipt", {"conversationId": m["conversationId"], "messageId": m["id"], "status": "delivered"}))
            else:
                for f in by_fd[fd].read_available():
                    if b'"chat.ack"' in f:
                        cid = json.loads(f)["data"]["clientMessageId"]
                        acked_at.setdefault(cid, time.perf_counter())
    wall = time.perf_counter() - wall0
    server_cpu = (cpu_seconds(args.pid) - server_cpu0) / wall * 100
    client_cpu = (own_cpu_seconds() - client_cpu0) / wall * 100
    elapsed = max(sent_at.values()) - min(sent_at.values())
    latencies = [(seen_at[c] - t) * 1000 for c, t in sent_at.items() if c in seen_at]
    acks = [(acked_at[c] - t) * 1000 for c, t in sent_at.items() if c in acked_at]
    lost = len(sent_at) - len(latencies)
    counts = sorted(per_agent.values())
    print(f"messages: {len(sent_at)} sent by {len(senders)} visitors over {elapsed:.1f} s ({len(sent_at) / max(elapsed, 0.001):.0f} msgs/s) "
          f"to {len(agents)} agents ({counts[0]}-{counts[-1]} each); not delivered: {lost}")
    print(f"send -> delivered to the agent: p50 {percentile(latencies, 50):.1f} ms, p95 {percentile(latencies, 95):.1f} ms, "
          f"p99 {percentile(latencies, 99):.1f} ms, max {max(latencies or [0]):.1f} ms (goal p99 < 20 ms)")
    print(f"send -> chat.ack (committed): p50 {percentile(acks, 50):.1f} ms, p99 {percentile(acks, 99):.1f} ms")
    print(f"CPU during the message phase: server {server_cpu:.0f}% of one core, this load client {client_cpu:.0f}% "
          f"(machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print(f"server RSS at the end: {rss_kib(args.pid) / 1024:.1f} MiB")
    return 0 if lost == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

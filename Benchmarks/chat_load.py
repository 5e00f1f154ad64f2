#!/usr/bin/env python3
"""Load client for Benchmarks/chat.sh: drives a running `frontdesk serve` over its chat sockets.

Phases (all on loopback, in one asyncio process):
  1. IDLE: open N visitor sockets (hello/welcome each) and hold them; the server's RSS is read
     from /proc before and after, giving KiB per socket.
  2. PRESENCE: one agent flips its presence; time until every visitor socket has the
     `presence.agent` frame (repeated, median and worst reported).
  3. MESSAGES: 10 agents online; M visitors each send one message per second for D seconds
     (M msgs/s in all); latency = visitor's chat.send -> the assigned agent's chat.message.
     Agents acknowledge each message `delivered`, as the console does.
Prints the figures; exits non-zero if a phase could not complete.
"""
import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import urllib.request

from websockets.asyncio.client import connect


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def frame(type_, data, ref=None):
    out = {"v": 1, "type": type_, "data": data}
    if ref:
        out["ref"] = ref
    return json.dumps(out, separators=(",", ":"))


def percentile(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    k = max(0, min(len(values) - 1, int(round(p / 100 * (len(values) - 1)))))
    return values[k]


class Visitor:
    def __init__(self, ws):
        self.ws = ws
        self.conversation = None
        self.presence_waiter = None
        self.acks = {}

    async def reader(self):
        try:
            async for raw in self.ws:
                f = json.loads(raw)
                t = f.get("type")
                if t == "presence.agent":
                    w = self.presence_waiter
                    if w is not None and not w.done():
                        w.set_result(time.perf_counter())
                elif t == "chat.ack":
                    c = f["data"]["conversation"]["id"]
                    self.conversation = c
                    w = self.acks.pop(f["data"]["clientMessageId"], None)
                    if w is not None and not w.done():
                        w.set_result(time.perf_counter())
        except Exception:
            pass


class Agent:
    def __init__(self, ws, name):
        self.ws = ws
        self.name = name
        self.received = {}  # clientMessageId -> time seen
        self.count = 0

    async def reader(self):
        try:
            async for raw in self.ws:
                f = json.loads(raw)
                if f.get("type") == "chat.message":
                    m = f["data"]["message"]
                    if m.get("sender") == "visitor" and m.get("clientMessageId"):
                        self.received[m["clientMessageId"]] = time.perf_counter()
                        self.count += 1
                        await self.ws.send(frame("chat.receipt", {"conversationId": m["conversationId"], "messageId": m["id"], "status": "delivered"}))
        except Exception:
            pass


def sign_in(base, email, password):
    body = json.dumps({"email": email, "password": password}).encode()
    req = urllib.request.Request(base + "/api/v1/admin/session", data=body, method="POST",
                                 headers={"Content-Type": "application/json", "Origin": base})
    with urllib.request.urlopen(req) as resp:
        cookie = resp.headers.get("Set-Cookie").split(";")[0]
    return cookie


async def open_agent(base, ws_base, email, password):
    cookie = await asyncio.to_thread(sign_in, base, email, password)
    ws = await connect(ws_base + "/api/v1/admin/ws", additional_headers={"Cookie": cookie, "Origin": base},
                       max_size=1 << 22, compression=None, ping_interval=None, open_timeout=60)
    await ws.send(frame("hello", {"status": "online"}, "h"))
    while True:
        f = json.loads(await ws.recv())
        if f.get("type") == "welcome":
            break
    return Agent(ws, email)


async def open_visitor(ws_base, sem):
    async with sem:
        ws = await connect(ws_base + "/api/v1/ws", max_size=1 << 20, compression=None, ping_interval=None,
                           open_timeout=120, close_timeout=1)
        await ws.send(frame("hello", {}, "h"))
        while True:
            f = json.loads(await ws.recv())
            if f.get("type") == "welcome":
                break
        return Visitor(ws)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--idle", type=int, default=10000)
    ap.add_argument("--senders", type=int, default=1000)
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("--agents", type=int, default=10)
    ap.add_argument("--password", default="bench-password-123")
    args = ap.parse_args()
    base = f"http://127.0.0.1:{args.port}"
    ws_base = f"ws://127.0.0.1:{args.port}"

    # Agents first, so visitors meet an available desk.
    agents = [await open_agent(base, ws_base, f"agent{i}@bench.test", args.password) for i in range(args.agents)]
    flipper = await open_agent(base, ws_base, "presence@bench.test", args.password)
    agent_tasks = [asyncio.create_task(a.reader()) for a in agents]
    flip_task = asyncio.create_task(flipper.reader())
    await asyncio.sleep(0.5)

    # 1. Idle sockets and memory.
    rss_before = rss_kib(args.pid)
    t0 = time.perf_counter()
    sem = asyncio.Semaphore(200)
    visitors = await asyncio.gather(*[open_visitor(ws_base, sem) for _ in range(args.idle)])
    opened = time.perf_counter() - t0
    readers = [asyncio.create_task(v.reader()) for v in visitors]
    await asyncio.sleep(2)
    rss_after = rss_kib(args.pid)
    per_socket = (rss_after - rss_before) / max(1, len(visitors))
    print(f"idle visitor sockets held: {len(visitors)} (opened in {opened:.1f} s)")
    print(f"server RSS: {rss_before / 1024:.1f} MiB before, {rss_after / 1024:.1f} MiB with the sockets open "
          f"-> {per_socket:.1f} KiB per socket (goal: total <= 300 MiB; Centrifugo publishes ~30 KiB)")

    # 2. One presence change broadcast to every visitor.
    times = []
    for status in ["away", "online", "away", "online", "away"]:
        loop = asyncio.get_running_loop()
        for v in visitors:
            v.presence_waiter = loop.create_future()
        start = time.perf_counter()
        await flipper.ws.send(frame("presence.set", {"status": status}))
        done = await asyncio.wait_for(asyncio.gather(*[v.presence_waiter for v in visitors]), timeout=60)
        times.append((max(done) - start) * 1000)
        await asyncio.sleep(0.3)
    print(f"presence change to {len(visitors)} visitors: median {statistics.median(times):.0f} ms, worst {max(times):.0f} ms "
          f"(goal < 150 ms; includes this Python client reading every frame)")

    # 3. Messages: `senders` visitors, one message per second each.
    senders = visitors[: args.senders]
    latencies = []
    ack_latencies = []
    sent = 0
    lost = 0
    loop = asyncio.get_running_loop()

    async def sender(index, v):
        nonlocal sent
        await asyncio.sleep(index / len(senders))  # spread evenly over each second
        pending = []
        for n in range(args.seconds):
            cid = f"b{index}-{n}"
            ack = loop.create_future()
            v.acks[cid] = ack
            start = time.perf_counter()
            await v.ws.send(frame("chat.send", {"clientMessageId": cid, "text": f"message {n} from visitor {index}"}))
            sent += 1
            pending.append((cid, start, ack))
            await asyncio.sleep(1)
        return pending

    t0 = time.perf_counter()
    results = await asyncio.gather(*[sender(i, v) for i, v in enumerate(senders)])
    await asyncio.sleep(2)
    elapsed = time.perf_counter() - t0 - 2
    seen = {}
    for a in agents:
        seen.update(a.received)
    for pending in results:
        for cid, start, ack in pending:
            if cid in seen:
                latencies.append((seen[cid] - start) * 1000)
            else:
                lost += 1
            if ack.done():
                ack_latencies.append((ack.result() - start) * 1000)
    per_agent = sorted(a.count for a in agents)
    print(f"messages: {sent} sent by {len(senders)} visitors in {elapsed:.1f} s ({sent / elapsed:.0f} msgs/s) to {len(agents)} agents "
          f"(per agent {per_agent[0]}-{per_agent[-1]}); not delivered: {lost}")
    print(f"send -> delivered to agent: p50 {percentile(latencies, 50):.1f} ms, p95 {percentile(latencies, 95):.1f} ms, "
          f"p99 {percentile(latencies, 99):.1f} ms, max {max(latencies or [0]):.1f} ms (goal p99 < 20 ms)")
    print(f"send -> chat.ack (committed): p50 {percentile(ack_latencies, 50):.1f} ms, p99 {percentile(ack_latencies, 99):.1f} ms")
    print(f"server RSS at the end: {rss_kib(args.pid) / 1024:.1f} MiB")

    for t in readers + agent_tasks + [flip_task]:
        t.cancel()
    return 0 if lost == 0 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

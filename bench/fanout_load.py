"""The load side of the fan-out benchmark, run as its own process.

N receivers sit in one room; one writer creates markers, first in a steady stream, then
in a burst. Each op's text carries its send time, so receivers can tell the delivery
latency of every event (a sample of "probe" receivers decode; the rest only count). The
server's CPU time is read from /proc around each phase. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import time
import uuid
from dataclasses import dataclass, field

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from imagechat_tui import wire

COMPRESSION: str | None = None  # "deflate" with --compression
SUBPROTOCOLS: list[Subprotocol] | None = None  # [imagechat.msgpack.v1] with --binary
STAMP = re.compile(rb"t=(\d{19})")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


WIRE_BYTES = 0  # every byte the receivers' sockets delivered, WebSocket framing included


class CountingConnection(ClientConnection):
    """Counts raw bytes as they come off the socket, before any decompression."""

    def data_received(self, data: bytes) -> None:
        global WIRE_BYTES
        WIRE_BYTES += len(data)
        super().data_received(data)


def server_rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def events_in(frame: str | bytes) -> int:
    """How many events a frame carries: JSON text, or imagechat.msgpack.v1 binary
    (an event is an array [tag 1-3, ...], a batch [4, [events]])."""
    if isinstance(frame, str):
        return frame.count('"broadcastId"')
    if frame[1] in (1, 2, 3):
        return 1
    if frame[1] == 4:  # the events array's header: fixarray or array 16
        return frame[2] & 0x0F if frame[2] & 0xF0 == 0x90 else int.from_bytes(frame[3:5], "big")
    return 0


def server_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


@dataclass
class Receiver:
    ws: ClientConnection
    probe: bool
    events: int = 0
    frames: int = 0
    bytes: int = 0
    latencies_ns: list[int] = field(default_factory=list)
    single_event_frame: int = 0  # size of one frame that carried exactly one event

    async def run(self) -> None:
        try:
            while True:
                message = await self.ws.recv()
                now = time.time_ns()
                n = events_in(message)
                if not n:
                    continue  # presence, joined, snapshot
                frame = message.encode() if isinstance(message, str) else message
                self.events += n
                self.frames += 1
                self.bytes += len(frame)
                if n == 1 and not self.single_event_frame:
                    self.single_event_frame = len(frame)
                if self.probe:
                    self.latencies_ns.extend(now - int(t) for t in STAMP.findall(frame))
        except Exception:
            return


def create_op(phase: str, i: int) -> str:
    return json.dumps(
        {
            "op": "create",
            "broadcastId": str(uuid.uuid4()),
            "chat": {
                "id": str(uuid.uuid4()),
                "x": round(i % 100 + 0.5, 2),
                "y": 50.0,
                "text": f"{phase} {i} t={time.time_ns()}",
            },
        }
    )


def tokens_for(home: str | None, count: int) -> list[str | None]:
    """One viewer per connection, as in real life (and per-user connection limits)."""
    if home is None:
        return [None] * count
    from pathlib import Path

    from imagechat_tui.auth import TenantStore

    store = TenantStore.in_home(Path(home))
    return [store.mint(tenant="local", user_id=f"viewer-{i}") for i in range(count)]


async def open_client(url: str, token: str | None, room: str) -> ClientConnection:
    ws = await connect(
        url,
        compression=COMPRESSION,
        subprotocols=SUBPROTOCOLS,
        max_size=2**22,
        create_connection=CountingConnection,
        open_timeout=60,
        ping_interval=None,
    )
    if token is not None:
        await ws.send(json.dumps({"op": "join", "room": room, "token": token, "since": None}))
        while True:  # joined, then snapshot
            frame = json.loads(await ws.recv())
            if frame["type"] == "snapshot":
                break
    return ws


async def wait_for(receivers: list[Receiver], target: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(r.events >= target for r in receivers):
            return True
        await asyncio.sleep(0.005)
    return False


def percentile(values: list[int], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] / 1e6  # ms


async def main(args: argparse.Namespace) -> dict[str, object]:
    receivers: list[Receiver] = []
    tokens = tokens_for(args.home, args.clients + 1)
    rss0 = server_rss_bytes(args.server_pid)
    # Connect in waves so the server's accept queue is not the thing measured.
    for start in range(0, args.clients, 100):
        wave = await asyncio.gather(
            *(
                open_client(args.url, tokens[i], args.room)
                for i in range(start, min(args.clients, start + 100))
            )
        )
        receivers.extend(
            # Probes spread evenly over the join order: a server that writes to its
            # subscribers in join order must not look faster by timing only the first.
            Receiver(ws, probe=(len(receivers) + i) % max(1, args.clients // args.probes) == 0)
            for i, ws in enumerate(wave)
        )
    await asyncio.sleep(args.settle)
    # What 1,000 idle joined connections cost the server (RSS growth per connection).
    rss_per_connection = (server_rss_bytes(args.server_pid) - rss0) / len(receivers)
    writer = await open_client(args.url, tokens[-1], args.room)
    tasks = [asyncio.create_task(r.run()) for r in receivers]
    drain_writer = asyncio.create_task(Receiver(writer, probe=False).run())
    await asyncio.sleep(args.settle)  # presence traffic from the joins dies down

    results: dict[str, object] = {
        "clients": args.clients,
        "rss_kib_per_connection": round(rss_per_connection / 1024, 1),
    }
    sent = 0

    async def phase(name: str, count: int, rate: float | None) -> None:
        nonlocal sent
        for r in receivers:
            r.latencies_ns.clear()
        frames0 = sum(r.frames for r in receivers)
        bytes0 = sum(r.bytes for r in receivers)
        cpu0 = server_cpu_seconds(args.server_pid)
        if args.mark_signal and sent == 0:
            # bench/timed_metrics.py: before the first phase, then after each (two signals
            # back to back would arrive as one)
            os.kill(args.server_pid, signal.SIGUSR1)
        wire0 = WIRE_BYTES
        t0 = time.perf_counter()
        for i in range(count):
            if rate:
                await asyncio.sleep(max(0.0, t0 + i / rate - time.perf_counter()))
            await writer.send(create_op(name, i))
        sent += count
        complete = await wait_for(receivers, sent, timeout=120)
        elapsed = time.perf_counter() - t0
        cpu = server_cpu_seconds(args.server_pid) - cpu0
        if args.mark_signal:
            os.kill(args.server_pid, signal.SIGUSR1)
        wire = WIRE_BYTES - wire0
        deliveries = count * len(receivers)
        latencies = [lat for r in receivers for lat in r.latencies_ns]
        results[name] = {
            "events": count,
            "complete": complete,
            "deliveries": deliveries,
            "frames": sum(r.frames for r in receivers) - frames0,
            "bytes": sum(r.bytes for r in receivers) - bytes0,
            "wire_bytes_per_delivery": round(wire / deliveries, 1),
            "seconds": round(elapsed, 3),
            "delivered_per_s": round(deliveries / elapsed),
            "server_cpu_s": round(cpu, 3),
            "cpu_us_per_delivery": round(cpu / deliveries * 1e6, 3),
            "p50_ms": round(percentile(latencies, 0.50), 2),
            "p99_ms": round(percentile(latencies, 0.99), 2),
            "latency_samples": len(latencies),
        }

    await phase("warmup", 10, rate=50)
    await phase("steady", args.steady_events, rate=args.steady_rate)
    await phase("burst", args.burst, rate=None)
    results["new_marker_frame_bytes"] = next(
        (r.single_event_frame for r in receivers if r.single_event_frame), 0
    )
    for r in [*receivers, Receiver(writer, False)]:
        await r.ws.close()
    for t in [*tasks, drain_writer]:
        t.cancel()
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument(
        "--home", default=None, help="IMAGECHAT_HOME to mint tokens from (ours); none for the relay"
    )
    parser.add_argument("--room", default="bench")
    parser.add_argument("--server-pid", type=int, required=True)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--probes", type=int, default=50)
    parser.add_argument("--steady-events", type=int, default=100)
    parser.add_argument("--steady-rate", type=float, default=20.0)
    parser.add_argument("--burst", type=int, default=300)
    parser.add_argument("--settle", type=float, default=2.0)
    parser.add_argument(
        "--mark-signal",
        action="store_true",
        help="send the server SIGUSR1 before the first phase and after each one "
        "(bench/timed_metrics.py)",
    )
    parser.add_argument("--compression", action="store_true", help="negotiate permessage-deflate")
    parser.add_argument("--binary", action="store_true", help=f"offer {wire.SUBPROTOCOL}")
    arguments = parser.parse_args()
    COMPRESSION = "deflate" if arguments.compression else None
    SUBPROTOCOLS = [Subprotocol(wire.SUBPROTOCOL)] if arguments.binary else None
    print(json.dumps(asyncio.run(main(arguments))))

"""The load side of the join benchmark (bench/joins.py), run as its own process.

N viewers join one room, at most ``--concurrency`` joins in flight. A join is, for our
server, the WebSocket handshake, ``join`` with the viewer's own token, ``joined`` and
the snapshot; for the join relay (bench/join_relay.py) the handshake, the same ``join``
(with a token-sized stand-in) and its one reply; for the bare relay (which has no rooms)
the handshake alone (``--handshake-only``). Every viewer
keeps reading, and counts the presence frames it gets and their bytes (the message as
sent, before any compression). The server's CPU is read from /proc from before the first
join until presence has gone quiet (every viewer saw the final count, then ``--settle``
seconds). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from dataclasses import dataclass

from fanout_load import CountingConnection, server_cpu_seconds, server_rss_bytes, tokens_for
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from imagechat_tui import wire


@dataclass
class Viewer:
    ws: ClientConnection
    presence_frames: int = 0
    presence_bytes: int = 0
    catch_up_bytes: int = 0
    last_count: int = 0

    async def run(self) -> None:
        try:
            async for message in self.ws:
                if isinstance(message, str) and message.startswith('{"type":"presence"'):
                    self.presence_frames += 1
                    self.presence_bytes += len(message.encode())
                    self.last_count = json.loads(message)["count"]
        except Exception:
            return


#: What the join relay's viewers send as their token: as long as one we mint.
STAND_IN_TOKEN = "x" * 220


async def open_viewer(
    url: str, token: str | None, room: str, options: dict[str, object], relay_join: bool
) -> Viewer:
    ws = await connect(url, **options)  # type: ignore[arg-type]
    viewer = Viewer(ws)
    if token is None and relay_join:  # the join relay: the same join, one reply
        await ws.send(
            json.dumps({"op": "join", "room": room, "token": STAND_IN_TOKEN, "since": None})
        )
        viewer.catch_up_bytes += len(await ws.recv())
    elif token is not None:
        await ws.send(json.dumps({"op": "join", "room": room, "token": token, "since": None}))
        while True:  # joined, then the snapshot's parts; presence may come between
            message = await ws.recv()
            if isinstance(message, str) and message.startswith('{"type":"presence"'):
                viewer.presence_frames += 1
                viewer.presence_bytes += len(message.encode())
                viewer.last_count = json.loads(message)["count"]
                continue
            viewer.catch_up_bytes += len(message)
            frame = json.loads(message)
            if frame["type"] == "snapshot" and not frame["more"]:
                break
            if frame["type"] == "error":
                raise SystemExit(f"join refused: {frame}")
    return viewer


async def seed(url: str, token: str, room: str, markers: int) -> None:
    """Give the room ``markers`` markers with a reply each, so the snapshot is real."""
    ws = await connect(url, max_size=2**22)  # plain JSON: events come as text
    await ws.send(json.dumps({"op": "join", "room": room, "token": token, "since": None}))
    ops = []
    for i in range(markers):
        chat = str(uuid.uuid4())
        ops.append(
            {
                "op": "create",
                "broadcastId": str(uuid.uuid4()),
                "chat": {
                    "id": chat,
                    "x": i % 100 + 0.5,
                    "y": 40.0,
                    "text": f"marker {i}: the button is two pixels off",
                },
            }
        )
        ops.append(
            {
                "op": "update",
                "broadcastId": str(uuid.uuid4()),
                "chatId": chat,
                "change": {"kind": "comment", "comment": {"id": str(uuid.uuid4()), "text": "ok"}},
            }
        )
    for op in ops:
        await ws.send(json.dumps(op))
    seen = 0
    while seen < len(ops):
        frame = json.loads(await asyncio.wait_for(ws.recv(), 60))
        if frame.get("type") == "batch":
            seen += len(frame["events"])
        elif frame.get("type") in ("new-image-chat", "image-chat-updated"):
            seen += 1
        elif frame.get("type") == "error":
            raise SystemExit(f"seeding failed: {frame}")
    await ws.close()


async def main(args: argparse.Namespace) -> dict[str, object]:
    options: dict[str, object] = {
        "compression": "deflate" if args.compression else None,
        "subprotocols": [Subprotocol(wire.SUBPROTOCOL)] if args.binary else None,
        "max_size": 2**22,
        "create_connection": CountingConnection,
        "open_timeout": 120,
        "ping_interval": None,
    }
    tokens = tokens_for(args.home, args.clients + 1)
    if args.home is not None and args.markers:
        assert tokens[-1] is not None
        await seed(args.url, tokens[-1], args.room, args.markers)
        await asyncio.sleep(1.0)  # the writer's leave is announced and done with
    viewers: list[Viewer] = []
    tasks: list[asyncio.Task[None]] = []
    gate = asyncio.Semaphore(args.concurrency)

    async def join(i: int) -> None:
        async with gate:
            viewer = await open_viewer(
                args.url, tokens[i], args.room, options, not args.handshake_only
            )
        viewers.append(viewer)
        tasks.append(asyncio.create_task(viewer.run()))

    rss0 = server_rss_bytes(args.server_pid)
    cpu0 = server_cpu_seconds(args.server_pid)
    t0 = time.perf_counter()
    await asyncio.gather(*(join(i) for i in range(args.clients)))
    joined_s = time.perf_counter() - t0
    cpu_joined = server_cpu_seconds(args.server_pid) - cpu0
    if args.home is not None:  # presence: wait until every viewer saw everyone, then quiet
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline and any(v.last_count != args.clients for v in viewers):
            await asyncio.sleep(0.05)
        complete = all(v.last_count == args.clients for v in viewers)
    else:
        complete = True
    await asyncio.sleep(args.settle)
    cpu = server_cpu_seconds(args.server_pid) - cpu0
    rss = server_rss_bytes(args.server_pid) - rss0
    n = len(viewers)
    result = {
        "clients": n,
        "joined_s": round(joined_s, 3),
        "joins_per_s": round(n / joined_s, 1),
        "cpu_s": round(cpu, 3),
        "cpu_ms_per_join": round(cpu / n * 1000, 4),
        "cpu_ms_per_join_until_joined": round(cpu_joined / n * 1000, 4),
        "presence_frames_per_viewer": round(sum(v.presence_frames for v in viewers) / n, 2),
        "presence_bytes_per_viewer": round(sum(v.presence_bytes for v in viewers) / n, 1),
        "presence_bytes_total": sum(v.presence_bytes for v in viewers),
        "catch_up_bytes_per_viewer": round(sum(v.catch_up_bytes for v in viewers) / n, 1),
        "presence_complete": complete,
        "rss_kib_per_connection": round(rss / n / 1024, 1),
    }
    for task in tasks:
        task.cancel()
    for viewer in viewers:
        viewer.ws.transport.abort()
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--home", default=None, help="IMAGECHAT_HOME to mint tokens (ours)")
    parser.add_argument("--room", default="bench")
    parser.add_argument("--server-pid", type=int, required=True)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--markers", type=int, default=50)
    parser.add_argument("--settle", type=float, default=2.5)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--compression", action="store_true")
    parser.add_argument("--binary", action="store_true")
    parser.add_argument("--handshake-only", action="store_true", help="the bare relay")
    print(json.dumps(asyncio.run(main(parser.parse_args()))))

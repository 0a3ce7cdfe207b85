"""The load side of bench/reconnect_storm.py, run as its own process: it starts the
server, connects N viewers, kills the server with SIGKILL, starts it again on the same
port (and, for ours, the same data directory) and times the viewers' return. Prints one
JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from asyncio.subprocess import PIPE, Process
from pathlib import Path

from fanout import free_port
from fanout_load import server_cpu_seconds, tokens_for
from joins_load import seed
from websockets.asyncio.client import connect

from imagechat_tui.backoff import Backoff
from imagechat_tui.client.connection import Connection, ConnState
from imagechat_tui.model import Actor
from imagechat_tui.protocol import User
from imagechat_tui.replica import Replica

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ROOM = "storm"
TIMEOUT = 120.0


async def start_server(kind: str, port: int, home: Path, tree: Path) -> Process:
    """Start a server and return once it says it is listening (its first line on
    stdout: the relay's "ready", ours "imagechat-tui serving on ..."), which a probe
    connection, queued behind a storm's, would learn late."""
    if kind == "relay":
        cmd = [sys.executable, str(HERE / "bare_relay.py"), "--port", str(port)]
    else:
        cmd = [sys.executable, "-m", "imagechat_tui", "serve", "--port", str(port)]
        cmd += ["--log-level", "warning"]
    env = {**os.environ, "IMAGECHAT_HOME": str(home), "PYTHONPATH": str(tree)}
    proc = await asyncio.create_subprocess_exec(
        *cmd, env=env, cwd=tree, stdout=PIPE, stderr=subprocess.DEVNULL
    )
    assert proc.stdout is not None
    if not await asyncio.wait_for(proc.stdout.readline(), TIMEOUT):
        raise SystemExit(f"server exited with {await proc.wait()}")
    return proc


class RelayViewer:
    """A bare client that reconnects after the app's backoff rule."""

    def __init__(self, url: str, backoff: Backoff, rng: random.Random) -> None:
        self.url, self.backoff, self.rng = url, backoff, rng
        self.connected = asyncio.Event()
        self.back_at: float | None = None

    async def run(self) -> None:
        attempt = 0
        while True:
            try:
                async with connect(self.url, open_timeout=5, ping_interval=None) as ws:
                    attempt = 0
                    self.back_at = time.monotonic()
                    self.connected.set()
                    async for _ in ws:
                        pass
            except Exception:
                pass
            self.connected.clear()
            attempt += 1
            await asyncio.sleep(self.backoff.delay(attempt, self.rng))


class AppViewer:
    """The app's own Connection and Replica; back when connected at the server's seq."""

    def __init__(self, url: str, token: str, user_id: str) -> None:
        self.replica = Replica(ROOM, Actor(User(id=user_id, name=user_id)))
        self.connection = Connection(url, token, self.replica, on_state=self._state)
        self.connected = asyncio.Event()
        self.back_at: float | None = None

    def _state(self, state: ConnState) -> None:
        if state.connected:
            self.back_at = time.monotonic()
            self.connected.set()
        else:
            self.connected.clear()

    async def run(self) -> None:
        await self.connection.run()


async def main(args: argparse.Namespace) -> dict[str, object]:
    port = free_port()
    url = f"ws://127.0.0.1:{port}/ws"
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        proc = await start_server(args.kind, port, home, args.tree)
        viewers: list[RelayViewer | AppViewer]
        seq = 0
        if args.kind == "relay":
            rng = random.Random(1)
            viewers = [RelayViewer(url, Backoff(), rng) for _ in range(args.clients)]
        else:
            tokens = tokens_for(str(home), args.clients + 1)
            assert tokens[-1] is not None
            await seed(url, tokens[-1], ROOM, args.markers)
            seq = 2 * args.markers
            viewers = []
            for i, token in enumerate(tokens[:-1]):
                assert token is not None
                viewers.append(AppViewer(url, token, f"viewer-{i}"))
        tasks = []
        gate = asyncio.Semaphore(100)  # the first joins, a hundred at a time

        async def start(viewer: RelayViewer | AppViewer) -> None:
            async with gate:
                tasks.append(asyncio.create_task(viewer.run()))
                await viewer.connected.wait()

        await asyncio.wait_for(asyncio.gather(*(start(v) for v in viewers)), TIMEOUT)
        await asyncio.sleep(1.0)  # presence settles

        killed = time.monotonic()
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
        await asyncio.sleep(args.down)  # an outage longer than a restart (--down)
        proc = await start_server(args.kind, port, home, args.tree)  # at once, as supervisors do
        up = time.monotonic()
        cpu_up = server_cpu_seconds(proc.pid)  # its start-up's CPU is not the storm's
        deadline = up + TIMEOUT
        while time.monotonic() < deadline and not all(_back(v, seq, killed) for v in viewers):
            await asyncio.sleep(0.01)
        all_back = all(_back(v, seq, killed) for v in viewers)
        last = max((v.back_at or deadline) for v in viewers)
        cpu = server_cpu_seconds(proc.pid) - cpu_up
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 30)
        except TimeoutError:
            proc.kill()
            await proc.wait()
    n = len(viewers)
    return {
        "kind": args.kind,
        "clients": n,
        "restart_s": round(up - killed, 3),  # until the new server is listening
        "all_back_s": round(last - killed, 3),
        "after_restart_s": round(last - up, 3),
        # the new process's CPU from answering until all are back
        "cpu_s": round(cpu, 3),
        "cpu_ms_per_rejoin": round(cpu / n * 1000, 3),
        "all_back": all_back,
    }


def _back(viewer: RelayViewer | AppViewer, seq: int, killed: float) -> bool:
    """Connected again since the kill (and, for the app, at the server's seq)."""
    if not viewer.connected.is_set() or viewer.back_at is None or viewer.back_at < killed:
        return False
    return not isinstance(viewer, AppViewer) or viewer.replica.seq == seq


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--kind", choices=("ours", "relay"), required=True)
    parser.add_argument("--tree", type=Path, default=ROOT, help="the server's checkout")
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--markers", type=int, default=50)
    parser.add_argument("--down", type=float, default=0.0, help="seconds before the restart")
    print(json.dumps(asyncio.run(main(parser.parse_args()))))

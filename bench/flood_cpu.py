"""Server CPU spent on a flood of 60 KiB frames from one joined client.

    python bench/flood_cpu.py [--frames 5000] [--baseline-tree DIR] [--repeat 3]

The server (``imagechat-tui serve``, default limits: 50 frames/s, bursts of 1,000) runs
as its own process. One client joins and sends ``--frames`` create ops with 60,000
characters of text as fast as the socket takes them, while reading every answer; all
but the first ~1,000 are over the rate budget and must be refused. Reported: the
server's CPU seconds (from /proc/PID/stat) from the first frame to the last answer, per
1,000 frames, and as a share of one core over that time. With ``--baseline-tree`` (a
checkout of another commit) the same runs for that tree, alternating, with the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def flood(url: str, token: str, frames: int, pid: int) -> tuple[float, float, int]:
    async with connect(url, compression=None, max_size=2**24) as ws:
        await ws.send(json.dumps({"op": "join", "room": "flood", "token": token}))
        while json.loads(await ws.recv())["type"] != "snapshot":
            pass
        text = "x" * 60_000
        payloads = [
            json.dumps(
                {
                    "op": "create",
                    "broadcastId": str(uuid.uuid4()),
                    "chat": {"id": str(uuid.uuid4()), "x": 1, "y": 1, "text": text},
                }
            )
            for _ in range(frames)
        ]
        answers = {"rate-limited": 0}

        async def read() -> None:
            seen = 0
            while seen < frames:
                frame = json.loads(await ws.recv())
                if frame["type"] == "error":
                    seen += 1
                    if frame["code"] == "rate-limited":
                        answers["rate-limited"] += 1

        cpu0, wall0 = cpu_seconds(pid), time.perf_counter()
        reader = asyncio.create_task(read())
        for payload in payloads:
            await ws.send(payload)
        await reader
        return cpu_seconds(pid) - cpu0, time.perf_counter() - wall0, answers["rate-limited"]


def run_once(tree: Path, frames: int) -> tuple[float, float, int]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    with tempfile.TemporaryDirectory() as home:
        env["IMAGECHAT_HOME"] = home
        port = free_port()
        token = subprocess.run(
            [sys.executable, "-m", "imagechat_tui", "token", "--user", "u"],
            env=env,
            cwd=tree,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        server = subprocess.Popen(
            [sys.executable, "-m", "imagechat_tui", "serve", "--port", str(port)],
            env=env,
            cwd=tree,  # `-m` puts the working directory first on sys.path
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(400):
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).is_success:
                        break
                time.sleep(0.05)
            return asyncio.run(flood(f"ws://127.0.0.1:{port}/ws", token, frames, server.pid))
        finally:
            server.terminate()
            server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=5000)
    parser.add_argument("--baseline-tree", type=Path, help="another checkout to compare with")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    trees = {"this tree": ROOT}
    if args.baseline_tree:
        trees["baseline"] = args.baseline_tree
    runs: dict[str, list[tuple[float, float, int]]] = {name: [] for name in trees}
    for _ in range(args.repeat):
        for name, tree in trees.items():
            runs[name].append(run_once(tree, args.frames))
    print(f"{args.frames} frames of 60 KiB from one client; median of {args.repeat} runs")
    medians = {}
    for name, results in runs.items():
        cpu = statistics.median(r[0] for r in results)
        wall = statistics.median(r[1] for r in results)
        share = statistics.median(r[0] / r[1] for r in results)
        refused = statistics.median(r[2] for r in results)
        medians[name] = cpu
        print(
            f"{name:<10}: server CPU {cpu:6.2f} s ({cpu / args.frames * 1000:.3f} s per "
            f"1,000 frames), {share:4.0%} of a core over {wall:.2f} s; {refused:.0f} rate-limited"
        )
    if "baseline" in medians:
        print(f"CPU this/baseline: {medians['this tree'] / medians['baseline']:.2f}x")


if __name__ == "__main__":
    main()

"""Server CPU per connection that never sends a byte: what a connection flood costs.

    python bench/connection_cost.py [--connections 4000] [--repeat 3] [--baseline-tree DIR]

``imagechat-tui serve`` (defaults) in its own process; this one opens ``--connections``
TCP connections from 40 addresses (127.0.0.2-41), 200 at a time, and closes them, and
reads the server's CPU time (user + system, /proc) before and after: microseconds per
connection. With ``--baseline-tree`` (a checkout of another commit) the same is run there
too, alternately, and the ratio of the medians is printed. CPU time, not wall time, so it
reads through a busy box better than a latency does (one tick is 10 ms: keep
``--connections`` in the thousands).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from fanout import free_port, raise_fd_limit, wait_healthy  # noqa: E402


def server_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def flood(port: int, count: int, batch: int = 200) -> None:
    loop = asyncio.get_running_loop()
    for _ in range(0, count, batch):
        socks = []
        for i in range(batch):
            sock = socket.socket()
            sock.setblocking(False)
            sock.bind((f"127.0.0.{2 + i % 40}", 0))
            await loop.sock_connect(sock, ("127.0.0.1", port))
            socks.append(sock)
        await asyncio.sleep(0.05)  # the server accepts them
        for sock in socks:
            sock.close()
        await asyncio.sleep(0.05)  # and sees them go


def cost(tree: Path, count: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        args = ["serve", "--port", str(port), "--home", tmp, "--log-level", "warning"]
        proc = subprocess.Popen(
            [sys.executable, "-m", "imagechat_tui", *args],
            cwd=tree,
            stdout=subprocess.DEVNULL,
        )
        try:
            wait_healthy(port, proc)
            time.sleep(0.5)
            before = server_cpu_seconds(proc.pid)
            asyncio.run(flood(port, count))
            time.sleep(1)
            spent = server_cpu_seconds(proc.pid) - before
        finally:
            proc.terminate()
            proc.wait(30)
    return spent / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--connections", type=int, default=4000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline-tree", type=Path)
    args = parser.parse_args()
    raise_fd_limit()
    trees = {"this tree": HERE.parent}
    if args.baseline_tree is not None:
        trees = {"baseline": args.baseline_tree.resolve(), **trees}
    runs: dict[str, list[float]] = {name: [] for name in trees}
    for _ in range(args.repeat):
        for name, tree in trees.items():
            runs[name].append(cost(tree, args.connections))
            print(f"{name}: {runs[name][-1]:.1f} µs per connection", flush=True)
    medians = {name: statistics.median(values) for name, values in runs.items()}
    for name, value in medians.items():
        print(f"{name}: median {value:.1f} µs per connection ({args.repeat} runs)")
    if args.baseline_tree is not None:
        print(f"this tree / baseline: {medians['this tree'] / medians['baseline']:.2f}x")


if __name__ == "__main__":
    main()

"""How long ``imagechat-tui serve`` takes to stop on SIGTERM with dead peers connected.

    python bench/stop_time.py [--baseline-tree DIR] [--repeat 3]

The server runs as its own process. Connected to it: 5 healthy joined clients, 5 peers
that opened TCP and never sent the HTTP upgrade (half-open), and 5 joined clients in a
child process that is then frozen with SIGSTOP (dead: their kernel still ACKs, nobody
answers the close frame). Then SIGTERM, and the seconds until the server process exits.
With ``--baseline-tree`` (a checkout of another commit, e.g. main before a change) the
same is measured for that tree's server, alternating runs, and the ratio printed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parent.parent
HEALTHY, HALF_OPEN, DEAD = 5, 5, 5

_FROZEN_CLIENTS = """
import json, sys, time
from websockets.sync.client import connect
url, token, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
clients = []
for _ in range(n):
    ws = connect(url, compression=None)
    ws.send(json.dumps({"op": "join", "room": "stop", "token": token}))
    while json.loads(ws.recv())["type"] != "snapshot":
        pass
    clients.append(ws)
print("ready", flush=True)
time.sleep(3600)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_once(tree: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    with tempfile.TemporaryDirectory() as home:
        env["IMAGECHAT_HOME"] = home
        port = free_port()
        token, frozen_token = (  # two users: at most 8 connections each
            subprocess.run(
                [sys.executable, "-m", "imagechat_tui", "token", "--user", user],
                env=env,
                cwd=tree,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            for user in ("u", "v")
        )
        server = subprocess.Popen(
            [sys.executable, "-m", "imagechat_tui", "serve", "--port", str(port)],
            env=env,
            cwd=tree,  # `-m` puts the working directory first on sys.path
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        frozen: subprocess.Popen[str] | None = None
        sockets: list[socket.socket] = []
        healthy = []
        try:
            for _ in range(400):
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).is_success:
                        break
                time.sleep(0.05)
            url = f"ws://127.0.0.1:{port}/ws"
            for _ in range(HEALTHY):
                ws = connect(url, compression=None)
                ws.send(json.dumps({"op": "join", "room": "stop", "token": token}))
                while json.loads(ws.recv())["type"] != "snapshot":
                    pass
                healthy.append(ws)
            for _ in range(HALF_OPEN):
                sockets.append(socket.create_connection(("127.0.0.1", port)))
            frozen = subprocess.Popen(
                [sys.executable, "-c", _FROZEN_CLIENTS, url, frozen_token, str(DEAD)],
                env=env,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert frozen.stdout is not None and frozen.stdout.readline().strip() == "ready"
            frozen.send_signal(signal.SIGSTOP)
            started = time.perf_counter()
            server.send_signal(signal.SIGTERM)
            # The healthy clients answer the close frame as a library does.
            server.wait(timeout=60)
            return time.perf_counter() - started
        finally:
            for ws in healthy:
                with contextlib.suppress(Exception):
                    ws.close()
            for sock in sockets:
                sock.close()
            if frozen is not None:
                frozen.send_signal(signal.SIGCONT)
                frozen.kill()
                frozen.wait()
            if server.poll() is None:
                server.kill()
                server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--baseline-tree", type=Path, help="another checkout to compare with")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    ours, base = [], []
    for _ in range(args.repeat):
        ours.append(run_once(ROOT))
        if args.baseline_tree:
            base.append(run_once(args.baseline_tree))
    print(
        f"{HEALTHY} healthy, {HALF_OPEN} half-open, {DEAD} dead peers; "
        f"SIGTERM to exit, median of {args.repeat}"
    )
    print(f"this tree : {statistics.median(ours):6.2f} s  (runs: {[round(t, 2) for t in ours]})")
    if base:
        b = statistics.median(base)
        print(f"baseline  : {b:6.2f} s  (runs: {[round(t, 2) for t in base]})")
        print(f"this/baseline: {statistics.median(ours) / b:.2f}x")


if __name__ == "__main__":
    main()

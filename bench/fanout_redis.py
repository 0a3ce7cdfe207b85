"""The Redis hop: fan-out over two nodes (PostgreSQL + Redis) against one node, one run.

    python bench/fanout_redis.py [--clients 300] [--events 200] [--rate 40] [--writers 4] [--repeat 3]

Both setups store in PostgreSQL (a throwaway cluster, fresh database each), so the
difference is the hop: (A) one node, in-process fan-out only; (B) two nodes with
``--broker redis://``, receivers and writers spread evenly over them. The load (the
receivers and the writers, several so that no connection nears its rate limit) runs in
a separate process. Reports server CPU per delivered event (nodes, plus redis-server
for B) and delivery latency p50/p99, and the B/A ratio. Needs the PostgreSQL and
redis-server binaries (the same ones the tests use). Defaults are modest for 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STAMP = re.compile(rb"t=(\d{19})")
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


# --- the load process ------------------------------------------------------------------


async def load(args: argparse.Namespace) -> dict[str, object]:
    from websockets.asyncio.client import connect

    from imagechat_tui.auth import TenantStore

    urls = args.urls.split(",")
    pids = [int(p) for p in args.pids.split(",")]
    store = TenantStore.in_home(Path(args.home))
    total = args.clients + args.writers
    tokens = [store.mint(tenant="local", user_id=f"v{i}") for i in range(total)]

    async def open_one(i: int):  # type: ignore[no-untyped-def]
        ws = await connect(urls[i % len(urls)], compression=None, open_timeout=60, max_size=2**22)
        await ws.send(json.dumps({"op": "join", "room": "bench", "token": tokens[i]}))
        while json.loads(await ws.recv())["type"] != "snapshot":
            pass
        return ws

    conns = []
    for start in range(0, total, 100):
        conns += await asyncio.gather(*(open_one(i) for i in range(start, min(total, start + 100))))
    receivers, writers = conns[: args.clients], conns[args.clients :]
    counts = [0] * len(receivers)
    latencies: list[int] = []

    async def receive(k: int) -> None:
        with contextlib.suppress(Exception):
            async for frame in receivers[k]:
                data = frame if isinstance(frame, bytes) else frame.encode()
                n = data.count(b'"broadcastId"')
                if n:
                    now = time.time_ns()
                    counts[k] += n
                    latencies.extend(now - int(t) for t in STAMP.findall(data))

    async def drain(ws) -> None:  # type: ignore[no-untyped-def]
        with contextlib.suppress(Exception):
            async for _ in ws:
                pass

    tasks = [asyncio.create_task(receive(k)) for k in range(len(receivers))]
    tasks += [asyncio.create_task(drain(w)) for w in writers]
    await asyncio.sleep(args.settle)
    latencies.clear()
    cpu0 = [cpu_seconds(p) for p in pids]
    t0 = time.perf_counter()
    for i in range(args.events):
        await asyncio.sleep(max(0.0, t0 + i / args.rate - time.perf_counter()))
        op = {
            "op": "create",
            "broadcastId": str(uuid.uuid4()),
            "chat": {
                "id": str(uuid.uuid4()),
                "x": 50.0,
                "y": 50.0,
                "text": f"{i} t={time.time_ns()}",
            },
        }
        await writers[i % len(writers)].send(json.dumps(op))
    deadline = time.monotonic() + 60
    while min(counts) < args.events and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - t0
    cpu = [cpu_seconds(p) - c for p, c in zip(pids, cpu0, strict=True)]
    deliveries = sum(counts)
    latencies.sort()
    for ws in conns:
        await ws.close()
    for task in tasks:
        task.cancel()
    return {
        "complete": min(counts) >= args.events,
        "deliveries": deliveries,
        "seconds": round(elapsed, 2),
        "cpu_s": [round(c, 3) for c in cpu],
        "cpu_us_per_delivery": round(sum(cpu) / deliveries * 1e6, 3),
        "p50_ms": round(latencies[len(latencies) // 2] / 1e6, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] / 1e6, 2),
    }


# --- the driver ------------------------------------------------------------------------


@contextlib.contextmanager
def nodes(
    count: int, home: Path, database: str, broker: str | None
) -> Iterator[list[tuple[str, int]]]:
    from tests.scale.nodes import Node

    started = [Node(home, database, broker) for _ in range(count)]
    try:
        yield [(n.url, n.process.pid) for n in started]
    finally:
        for n in started:
            n.stop()


def run_load(urls: list[str], pids: list[int], home: Path, args: argparse.Namespace) -> dict:  # type: ignore[type-arg]
    command = [sys.executable, __file__, "--load", "--urls", ",".join(urls)]
    command += ["--pids", ",".join(map(str, pids)), "--home", str(home)]
    for name in ("clients", "events", "rate", "writers", "settle"):
        command += [f"--{name}", str(getattr(args, name))]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def median_run(runs: list[dict]) -> dict:  # type: ignore[type-arg]
    """Each figure's median over the runs (CPU per node summed first)."""
    return {
        key: statistics.median(r[key] for r in runs)
        for key in ("cpu_us_per_delivery", "p50_ms", "p99_ms")
    } | {"cpu_s": [statistics.median(col) for col in zip(*(r["cpu_s"] for r in runs), strict=True)]}


def main(args: argparse.Namespace) -> None:
    from tests.services import Postgres, Redis

    pg, redis = Postgres(), Redis()
    pg.start()
    redis.start()
    singles, doubles = [], []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp)
            for _ in range(args.repeat):  # alternating, so drifts in load hit both alike
                with nodes(1, home, pg.new_database(), None) as one:
                    singles.append(run_load([u for u, _ in one], [p for _, p in one], home, args))
                assert redis.process is not None
                with nodes(2, home, pg.new_database(), redis.url) as two:
                    pids = [p for _, p in two]
                    doubles.append(
                        run_load([u for u, _ in two], [*pids, redis.process.pid], home, args)
                    )
    finally:
        redis.destroy()
        pg.destroy()
    print(json.dumps({"one_node": singles, "two_nodes_redis": doubles}, indent=1))
    single, double = median_run(singles), median_run(doubles)
    ratio = double["cpu_us_per_delivery"] / single["cpu_us_per_delivery"]
    runs = [
        round(d["cpu_us_per_delivery"] / s["cpu_us_per_delivery"], 2)
        for s, d in zip(singles, doubles, strict=True)
    ]
    print(
        f"\n{args.clients} receivers, {args.events} events at {args.rate}/s from {args.writers} "
        f"writers; medians of {args.repeat} alternating runs (ratio per run: {runs})\n"
        f"one node, in-process:  {single['cpu_us_per_delivery']:.2f} us CPU/delivery, "
        f"p50 {single['p50_ms']} ms, p99 {single['p99_ms']} ms\n"
        f"two nodes over Redis:  {double['cpu_us_per_delivery']:.2f} us CPU/delivery "
        f"(nodes {double['cpu_s'][:2]} s, redis {double['cpu_s'][2]} s), "
        f"p50 {double['p50_ms']} ms, p99 {double['p99_ms']} ms\n"
        f"Redis hop: {ratio:.2f}x CPU per delivered event (target < 1.3x); "
        f"{double['p50_ms'] - single['p50_ms']:+.2f} ms p50, "
        f"{double['p99_ms'] - single['p99_ms']:+.2f} ms p99"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=300)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--rate", type=float, default=40.0, help="events per second, all writers")
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--settle", type=float, default=6.0)
    parser.add_argument("--repeat", type=int, default=3, help="alternating runs; medians")
    parser.add_argument("--load", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--urls", help=argparse.SUPPRESS)
    parser.add_argument("--pids", help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.load:
        print(json.dumps(asyncio.run(load(arguments))))
    else:
        main(arguments)

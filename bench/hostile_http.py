"""Hostile HTTP clients beside joined viewers: what the attack costs the viewers.

    python bench/hostile_http.py [--viewers 500] [--events 100] [--rate 20] [--repeat 2]
                                 [--idle 10000] [--slow 500] [--bodies 20] [--garbage 50]
                                 [--attacker-nice 0]

``imagechat-tui serve`` (defaults) in its own process; in this one, ``--viewers`` joined
viewers in one room and a writer sending ``--events`` markers at ``--rate``/s (each
carries its send time; 50 probe viewers time every delivery); in a third process
(bench/hostile_attacker.py, at ``--attacker-nice``) the attack: connections that never send a byte, slowloris
heads, 26 MB unauthenticated uploads and malformed requests, all reopened as the server
drops them. Quiet and attacked phases alternate (quiet, attack, quiet, attack, ...); each
reports the viewers' p50/p99 delivery latency, the server's peak RSS during the phase and
the time a fresh client takes to join (connect, joined, snapshot), ten times per phase.
The baseline is the quiet phase of the same run: the table gives attack/quiet ratios of
the medians. Raw results go to bench/results/hostile-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
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
from typing import Any, cast

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import fanout_load  # noqa: E402
from fanout import free_port, raise_fd_limit, wait_healthy  # noqa: E402
from fanout_load import (  # noqa: E402
    CountingConnection,
    Receiver,
    create_op,
    open_client,
    percentile,
    server_cpu_seconds,
    server_rss_bytes,
    wait_for,
)
from websockets.asyncio.client import ClientConnection, connect  # noqa: E402


async def timed_join(port: int, token: str) -> tuple[ClientConnection, dict[str, float]]:
    """A fresh client's join, timed by step: the TCP handshake (the kernel's: a SYN the
    full listen queue dropped shows here as ~1 s), the upgrade (the wait in the accept
    queue plus the server's loop until it answers 101), then join to snapshot."""
    loop = asyncio.get_running_loop()
    at, t0 = time.time(), time.perf_counter()
    sock = socket.socket()
    sock.setblocking(False)
    try:
        await loop.sock_connect(sock, ("127.0.0.1", port))
    except BaseException:
        sock.close()
        raise
    t1 = time.perf_counter()
    ws = await connect(
        f"ws://127.0.0.1:{port}/ws",
        sock=sock,
        compression=fanout_load.COMPRESSION,
        subprotocols=fanout_load.SUBPROTOCOLS,
        max_size=2**22,
        create_connection=CountingConnection,
        open_timeout=60,
        ping_interval=None,
    )
    t2 = time.perf_counter()
    await ws.send(json.dumps({"op": "join", "room": "bench", "token": token, "since": None}))
    while json.loads(await ws.recv())["type"] != "snapshot":
        pass
    t3 = time.perf_counter()
    steps = {"connect": t1 - t0, "upgrade": t2 - t1, "snapshot": t3 - t2, "total": t3 - t0}
    return ws, {"at": at, **{k: v * 1000 for k, v in steps.items()}}


async def join_client(port: int, tokens: list[str], joins: int, spacing: float) -> None:
    """``--join-client``: ``joins`` fresh joins, ``spacing`` s apart; one JSON line out."""
    steps: list[dict[str, float]] = []
    failed = 0
    for i in range(joins):
        try:
            ws, step = await timed_join(port, tokens[i % len(tokens)])
        except Exception:  # refused at the connection limit: the app would retry
            failed += 1
        else:
            steps.append(step)
            await ws.close()
        await asyncio.sleep(spacing)
    print(json.dumps({"steps": steps, "failed": failed}))


def accept_queue(port: int) -> int:
    """Connections waiting in the server's accept queue (the listening socket's Recv-Q)."""
    out = subprocess.run(
        ["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=False
    ).stdout.split()
    return int(out[1]) if len(out) > 1 else -1


async def sample_queue(port: int, seen: list[int], stop: asyncio.Event) -> None:
    while not stop.is_set():
        seen.append(await asyncio.to_thread(accept_queue, port))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.2)


async def loop_lag(lags: list[float], stop: asyncio.Event) -> None:
    """This process's own loop lag (the joiner shares it with the 500 viewers)."""
    while not stop.is_set():
        t0 = time.perf_counter()
        await asyncio.sleep(0.01)
        lags.append((time.perf_counter() - t0 - 0.01) * 1000)


def mint(home: Path, count: int) -> list[str]:
    from imagechat_tui.auth import TenantStore

    store = TenantStore.in_home(home)
    if not store.exists("local"):
        store.add("local")
    return [store.mint(tenant="local", user_id=f"viewer-{i}") for i in range(count)]


async def sample_rss(pid: int, peak: list[int], stop: asyncio.Event) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], server_rss_bytes(pid))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.1)


async def server_probe(pid: int, home: Path) -> dict[str, Any]:
    """The server's loop stalls and collector pauses since the last call
    (bench/stall_probe_serve.py, on SIGUSR1)."""
    out = home / "probe.jsonl"
    lines = len(out.read_text().splitlines()) if out.exists() else 0
    os.kill(pid, signal.SIGUSR1)
    while not out.exists() or len(out.read_text().splitlines()) <= lines:
        await asyncio.sleep(0.05)
    result: dict[str, Any] = json.loads(out.read_text().splitlines()[-1])
    return result


async def phase(
    name: str,
    args: argparse.Namespace,
    pid: int,
    home: Path,
    url: str,
    receivers: list[Receiver],
    writer: object,
    tokens: list[str],
    sent: int,
) -> dict[str, object]:
    for r in receivers:
        r.latencies_ns.clear()
    peak, stop = [server_rss_bytes(pid)], asyncio.Event()
    sampler = asyncio.create_task(sample_rss(pid, peak, stop))
    queue: list[int] = []
    lags: list[float] = []
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    queue_sampler = asyncio.create_task(sample_queue(port, queue, stop))
    lag_sampler = asyncio.create_task(loop_lag(lags, stop))
    cpu0, wall0 = server_cpu_seconds(pid), time.perf_counter()
    probe = await server_probe(pid, home)  # starts the server's probe over

    # The fresh client is a process of its own, as a real one is: in this one its
    # connect and reads would wait behind the 500 viewers' frames (this loop's lag).
    spacing = args.events / args.rate / (args.joins + 2)
    joiner = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--join-client",
        str(port),
        "--joins",
        str(args.joins),
        "--spacing",
        str(spacing),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    joined_out = asyncio.create_task(joiner.communicate("\n".join(tokens).encode()))
    t0 = time.perf_counter()
    for i in range(args.events):
        await asyncio.sleep(max(0.0, t0 + i / args.rate - time.perf_counter()))
        await writer.send(create_op(name, i))  # type: ignore[attr-defined]
    complete = await wait_for(receivers, sent + args.events, timeout=120)
    out, _ = await joined_out
    joined = json.loads(out)
    steps, failed_joins = joined["steps"], joined["failed"]
    joins = [step["total"] for step in steps]
    cpu = (server_cpu_seconds(pid) - cpu0) / (time.perf_counter() - wall0)
    probe = await server_probe(pid, home)
    stop.set()
    await asyncio.gather(sampler, queue_sampler, lag_sampler)
    latencies = [lat for r in receivers for lat in r.latencies_ns]
    by_step = {
        f"join_{name}_ms": [round(s[name], 1) for s in steps]
        for name in ("connect", "upgrade", "snapshot", "total")
    }
    return {
        "phase": name,
        "complete": complete,
        "p50_ms": round(percentile(latencies, 0.50), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "peak_rss_mib": round(peak[0] / 2**20, 1),
        "join_p50_ms": round(statistics.median(joins), 1) if joins else None,
        "join_max_ms": round(max(joins), 1) if joins else None,
        "join_p99_ms": round(sorted(joins)[int(0.99 * (len(joins) - 1))], 1) if joins else None,
        "joins_failed": failed_joins,
        "server_cpu": round(cpu, 2),
        "accept_queue_max": max(queue, default=-1),
        "accept_queue_median": statistics.median(queue) if queue else -1,
        "bench_loop_lag_max_ms": round(max(lags, default=0), 1),
        "server_loop_stall_max_ms": probe["loop_stall_max_ms"],
        "server_gc_full_count": probe["gc_full"]["count"],
        "server_gc_full_max_ms": probe["gc_full"]["max_ms"],
        "server_gc_ms_per_s": round(
            (probe["gc_full"]["total_ms"] + probe["gc_young"]["total_ms"])
            / (time.perf_counter() - wall0),
            1,
        ),
        "server_gc_objects": probe["objects"],
        # what the loop's stalls over 50 ms were made of (stall_probe_serve.py)
        "server_stalls": probe.get("stalls", {}),
        "server_stall_longest": probe.get("longest", {}),
        "server_loop_thread": probe.get("loop", {}),
        **by_step,
    }


async def run(args: argparse.Namespace, port: int, pid: int, home: Path) -> list[dict[str, object]]:
    url = f"ws://127.0.0.1:{port}/ws"
    tokens = mint(home, args.viewers + 12)
    receivers: list[Receiver] = []
    for start in range(0, args.viewers, 100):
        wave = await asyncio.gather(
            *(
                open_client(url, tokens[i], "bench")
                for i in range(start, min(args.viewers, start + 100))
            )
        )
        receivers += [
            Receiver(ws, probe=(len(receivers) + i) % max(1, args.viewers // 50) == 0)
            for i, ws in enumerate(wave)
        ]
    writer = await open_client(url, tokens[args.viewers], "bench")
    tasks = [asyncio.create_task(r.run()) for r in receivers]
    drain = asyncio.create_task(Receiver(writer, probe=False).run())
    await asyncio.sleep(2)
    results: list[dict[str, object]] = []
    sent = 0
    spare = tokens[args.viewers + 1 :]
    for _ in range(args.repeat):
        results.append(await phase("quiet", args, pid, home, url, receivers, writer, spare, sent))
        sent += args.events
        attacker = subprocess.Popen(  # noqa: ASYNC220 (started once per phase)
            [
                *(["nice", "-n", str(args.attacker_nice)] if args.attacker_nice else []),
                sys.executable,
                str(HERE / "hostile_attacker.py"),
                "--port",
                str(port),
                "--idle",
                str(args.idle),
                "--slow",
                str(args.slow),
                "--bodies",
                str(args.bodies),
                "--garbage",
                str(args.garbage),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert attacker.stdout is not None
        line = await asyncio.to_thread(attacker.stdout.readline)
        assert line.strip() == "attacking", line
        result = await phase("attack", args, pid, home, url, receivers, writer, spare, sent)
        sent += args.events
        attacker.send_signal(signal.SIGTERM)
        counts, _ = await asyncio.to_thread(attacker.communicate, None, 60)
        result["attack"] = json.loads(counts.strip().splitlines()[-1]) if counts.strip() else {}
        results.append(result)
        await asyncio.sleep(12)  # the attack's leftovers time out (header timeout 10 s)
    for r in [*receivers, Receiver(writer, False)]:  # type: ignore[arg-type]
        await r.ws.close()
    for t in [*tasks, drain]:
        t.cancel()
    return results


def report(results: list[dict[str, object]]) -> str:
    def med(phase: str, key: str) -> float:
        return statistics.median(float(r[key]) for r in results if r["phase"] == phase)  # type: ignore[arg-type]

    rows = [
        ("viewer delivery p50 (ms)", "p50_ms"),
        ("viewer delivery p99 (ms)", "p99_ms"),
        ("server peak RSS (MiB)", "peak_rss_mib"),
        ("fresh join p50 (ms)", "join_p50_ms"),
        ("fresh join p99 (ms)", "join_p99_ms"),
        ("fresh join, slowest (ms)", "join_max_ms"),
        ("fresh joins that failed", "joins_failed"),
        ("server CPU (cores)", "server_cpu"),
        ("accept queue, most seen", "accept_queue_max"),
        ("bench loop lag, most (ms)", "bench_loop_lag_max_ms"),
        ("server loop stall, longest (ms)", "server_loop_stall_max_ms"),
        ("server full collections", "server_gc_full_count"),
        ("server full collection, longest (ms)", "server_gc_full_max_ms"),
        ("server GC pauses (ms per s)", "server_gc_ms_per_s"),
        ("objects the collector tracks", "server_gc_objects"),
    ]
    lines = ["| metric | quiet | attack | attack/quiet |", "|---|---:|---:|---:|"]
    for label, key in rows:
        quiet, attack = med("quiet", key), med("attack", key)
        ratio = f"{attack / quiet:.2f}x" if quiet else "-"
        lines.append(f"| {label} | {quiet:g} | {attack:g} | {ratio} |")
    lines.append("server loop stalls over 50 ms, all phases pooled (stall_probe_serve.py):")
    for phase in ("quiet", "attack"):
        rs = [r for r in results if r["phase"] == phase]
        total = {k: sum(probe_part(r, "server_stalls").get(k, 0) for r in rs) for k in STALL_PARTS}
        wall = total["wall_ms"] or 1
        loop = {
            k: sum(probe_part(r, "server_loop_thread").get(k, 0) for r in rs) for k in STALL_PARTS
        }
        lwall = loop["wall_ms"] or 1
        lines.append(
            f"  {phase}: {total['count']:g} stalls, {total['wall_ms']:g} ms: waiting for a core "
            f"{total['runq_ms'] / wall:.0%}, on CPU {total['cpu_ms'] / wall:.0%}, asleep "
            f"{total['asleep_ms'] / wall:.0%} (other threads' CPU {total['other_threads_cpu_ms']:g} ms, "
            f"switches {total['vcsw']:g} voluntary / {total['ivcsw']:g} involuntary); whole phase, "
            f"loop thread: on CPU {loop['cpu_ms'] / lwall:.0%}, waiting for a core "
            f"{loop['runq_ms'] / lwall:.0%}, asleep {loop['asleep_ms'] / lwall:.0%}"
        )
        splits = [probe_part(r, "server_stall_longest") for r in rs]
        longest = max(splits, key=lambda d: d.get("wall_ms", 0), default={})
        if longest:
            lines.append("    longest: " + ", ".join(f"{k} {v:g}" for k, v in longest.items()))
    lines.append("fresh join by step, all phases pooled: p50 / p99 / max (ms)")
    for phase in ("quiet", "attack"):
        parts = []
        for step in ("connect", "upgrade", "snapshot"):
            values = sorted(v for r in results if r["phase"] == phase for v in r[f"join_{step}_ms"])  # type: ignore[attr-defined]
            if values:
                p99 = values[int(0.99 * (len(values) - 1))]
                parts.append(f"{step} {statistics.median(values):g} / {p99:g} / {values[-1]:g}")
        lines.append(f"  {phase}: " + "; ".join(parts))
    return "\n".join(lines)


def probe_part(result: dict[str, object], key: str) -> dict[str, float]:
    return cast(dict[str, float], result.get(key) or {})


STALL_PARTS = (
    "count",
    "wall_ms",
    "cpu_ms",
    "runq_ms",
    "asleep_ms",
    "other_threads_cpu_ms",
    "vcsw",
    "ivcsw",
)


def serve_and_run(args: argparse.Namespace, tree: Path, nice: int = 0) -> list[dict[str, object]]:
    """One server (``imagechat-tui serve`` from ``tree``, at ``nice``), its viewers and the phases."""
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        mint(home, 0)
        port = free_port()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-P",  # the tree's own package, not this checkout's (editable install)
                str(HERE / "stall_probe_serve.py"),
                "serve",
                "--port",
                str(port),
                "--home",
                tmp,
                "--log-level",
                "warning",
            ],
            cwd=tree,
            env={
                **os.environ,
                "PYTHONPATH": str(tree),
                "IMAGECHAT_BENCH_PROBE": str(home / "probe.jsonl"),
            },
            preexec_fn=(lambda: os.nice(nice)) if nice else None,
        )
        try:
            wait_healthy(port, proc)
            return asyncio.run(run(args, port, proc.pid, home))
        finally:
            proc.terminate()
            proc.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--viewers", type=int, default=500)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--joins", type=int, default=30, help="fresh joins per phase")
    parser.add_argument("--idle", type=int, default=10_000)
    parser.add_argument("--slow", type=int, default=500)
    parser.add_argument("--bodies", type=int, default=20)
    parser.add_argument("--garbage", type=int, default=50)
    # On a small shared box the attacker competes with the server for a core: niced, it
    # takes what the server leaves (what a remote attacker's CPU would cost it: nothing).
    parser.add_argument("--attacker-nice", type=int, default=0)
    # A checkout of another commit: its server runs too, alternating with this tree's
    # (one server, its viewers and a quiet and an attacked phase each, --repeat times).
    parser.add_argument("--baseline-tree", type=Path)
    # This tree's server (not the baseline's) at another priority (negative: root only):
    # with --baseline-tree . the same code at two priorities, in turns in one run.
    parser.add_argument("--server-nice", type=int, default=0)
    parser.add_argument("--join-client", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--spacing", type=float, default=0.2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.join_client:
        tokens = sys.stdin.read().split()
        asyncio.run(join_client(args.join_client, tokens, args.joins, args.spacing))
        return
    raise_fd_limit()
    trees = {"this tree": ROOT}
    if args.baseline_tree is not None:
        trees = {"baseline": args.baseline_tree.resolve(), **trees}
    repeat, args.repeat = args.repeat, 1
    results: dict[str, list[dict[str, object]]] = {name: [] for name in trees}
    for _ in range(repeat):
        for name, tree in trees.items():
            load = os.getloadavg()[0]
            nice = args.server_nice if name == "this tree" else 0
            for result in serve_and_run(args, tree, nice):
                result["load"] = round(load, 2)
                results[name].append(result)
    args.repeat = repeat
    out = HERE / "results" / f"hostile-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    meta = {**vars(args), "baseline_tree": str(args.baseline_tree)}
    out.write_text(json.dumps({"args": meta, "trees": results}, indent=1))
    print(
        f"{args.viewers} joined viewers, {args.events} events at {args.rate}/s per phase; "
        f"medians of {args.repeat} quiet and {args.repeat} attacked phases; "
        f"load {min(r['load'] for rs in results.values() for r in rs)}"  # type: ignore[type-var]
        f"-{max(r['load'] for rs in results.values() for r in rs)}"  # type: ignore[type-var]
    )
    for name, rows in results.items():
        print(f"\n{name} ({trees[name]})")
        print(report(rows))
    print(f"raw results: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

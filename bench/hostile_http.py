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
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from fanout import free_port, raise_fd_limit, wait_healthy  # noqa: E402
from fanout_load import Receiver, create_op, open_client, percentile, server_rss_bytes, wait_for  # noqa: E402


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


async def phase(
    name: str,
    args: argparse.Namespace,
    pid: int,
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
    joins: list[float] = []
    failed_joins = 0

    async def fresh_joins() -> None:
        nonlocal failed_joins
        for i in range(10):
            t0 = time.perf_counter()
            try:
                ws = await open_client(url, tokens[i % len(tokens)], "bench")
            except Exception:  # refused at the connection limit: the app would retry
                failed_joins += 1
            else:
                joins.append((time.perf_counter() - t0) * 1000)
                await ws.close()
            await asyncio.sleep(args.events / args.rate / 12)

    joiner = asyncio.create_task(fresh_joins())
    t0 = time.perf_counter()
    for i in range(args.events):
        await asyncio.sleep(max(0.0, t0 + i / args.rate - time.perf_counter()))
        await writer.send(create_op(name, i))  # type: ignore[attr-defined]
    complete = await wait_for(receivers, sent + args.events, timeout=120)
    await joiner
    stop.set()
    await sampler
    latencies = [lat for r in receivers for lat in r.latencies_ns]
    return {
        "phase": name,
        "complete": complete,
        "p50_ms": round(percentile(latencies, 0.50), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "peak_rss_mib": round(peak[0] / 2**20, 1),
        "join_p50_ms": round(statistics.median(joins), 1) if joins else None,
        "join_max_ms": round(max(joins), 1) if joins else None,
        "joins_failed": failed_joins,
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
        results.append(await phase("quiet", args, pid, url, receivers, writer, spare, sent))
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
        result = await phase("attack", args, pid, url, receivers, writer, spare, sent)
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
        ("fresh join, slowest of 10 (ms)", "join_max_ms"),
        ("fresh joins that failed, of 10", "joins_failed"),
    ]
    lines = ["| metric | quiet | attack | attack/quiet |", "|---|---:|---:|---:|"]
    for label, key in rows:
        quiet, attack = med("quiet", key), med("attack", key)
        ratio = f"{attack / quiet:.2f}x" if quiet else "-"
        lines.append(f"| {label} | {quiet:g} | {attack:g} | {ratio} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--viewers", type=int, default=500)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--idle", type=int, default=10_000)
    parser.add_argument("--slow", type=int, default=500)
    parser.add_argument("--bodies", type=int, default=20)
    parser.add_argument("--garbage", type=int, default=50)
    # On a small shared box the attacker competes with the server for a core: niced, it
    # takes what the server leaves (what a remote attacker's CPU would cost it: nothing).
    parser.add_argument("--attacker-nice", type=int, default=0)
    args = parser.parse_args()
    raise_fd_limit()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        mint(home, 0)
        port = free_port()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "imagechat_tui",
                "serve",
                "--port",
                str(port),
                "--home",
                tmp,
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
        )
        try:
            wait_healthy(port, proc)
            results = asyncio.run(run(args, port, proc.pid, home))
        finally:
            proc.terminate()
            proc.wait(30)
    out = HERE / "results" / f"hostile-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"args": vars(args), "phases": results}, indent=1))
    print(
        f"{args.viewers} joined viewers, {args.events} events at {args.rate}/s per phase; "
        f"medians of {args.repeat} quiet and {args.repeat} attacked phases"
    )
    print(report(results))
    print(f"raw results: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

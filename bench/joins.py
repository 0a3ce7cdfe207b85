"""Join benchmark: a mass join into one room, our server against the bare relay.

    python bench/joins.py [--clients 1000,2000] [--repeat 3] [--markers 50]
                          [--baseline-tree DIR] [--profile DIR]

Contenders, each server in its own process, run in turns (relay, ours[, before], relay,
ours, ...), the load (bench/joins_load.py) in another process:

- **relay** (the baseline of every ratio): bench/join_relay.py, the least a join must
  cost: the handshake with the same deflate and subprotocol offer as ours, the viewer's
  ``join`` read, and one reply of ``--reply-bytes`` (about our snapshot's size) made once
  and written to every joiner (it has no rooms, tokens, presence, timers or metrics);
- **handshake** (for reference, the baseline before 2026-12-04 19:00): bench/bare_relay.py
  without compression, where a join is the WebSocket handshake alone;
- **ours**: ``imagechat-tui serve`` with its defaults, viewers as the app connects
  (permessage-deflate, ``imagechat.msgpack.v1``), each with its own token, joining a
  room of ``--markers`` markers (a reply each): handshake, ``join``, ``joined``, the
  snapshot, and the presence that follows;
- **before** (with ``--baseline-tree``): the same from another checkout (e.g. main
  before a change).

Reports, per N: server CPU per join (from the first join until presence is quiet),
joins per second, presence frames and bytes per viewer, memory per joined connection;
medians of the runs, ratios to the relay, the machine's load average around each run.
``--profile DIR`` runs ours once more under cProfile and writes DIR/joins-N.prof.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from fanout import bare_relay, free_port, our_server, raise_fd_limit, relay_process, wait_healthy

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

METRICS = (
    ("server CPU per join (ms)", "cpu_ms_per_join"),
    ("joins per second", "joins_per_s"),
    ("seconds to join all", "joined_s"),
    ("presence frames per viewer", "presence_frames_per_viewer"),
    ("presence bytes per viewer", "presence_bytes_per_viewer"),
    ("memory per joined connection (KiB)", "rss_kib_per_connection"),
    ("catch-up bytes per viewer (as decoded)", "catch_up_bytes_per_viewer"),
)


def run_load(
    url: str,
    pid: int,
    home: str | None,
    n: int,
    args: argparse.Namespace,
    handshake_only: bool = False,
) -> dict:  # type: ignore[type-arg]
    cmd = [
        sys.executable,
        str(HERE / "joins_load.py"),
        "--url",
        url,
        "--server-pid",
        str(pid),
        "--clients",
        str(n),
        "--concurrency",
        str(args.concurrency),
        "--markers",
        str(args.markers),
    ]
    if home:
        cmd += ["--home", home]
    if handshake_only:
        cmd += ["--handshake-only"]
    else:  # as the app connects
        cmd += ["--compression", "--binary"]
    env = {**os.environ, "PYTHONPATH": f"{HERE}:{ROOT}"}
    load0 = os.getloadavg()[0]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, check=False)
    if out.returncode != 0:
        raise SystemExit(f"load failed:\n{out.stderr}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["loadavg"] = round((load0 + os.getloadavg()[0]) / 2, 2)
    return result  # type: ignore[no-any-return]


@contextlib.contextmanager
def join_relay(reply_bytes: int) -> Iterator[tuple[str, int]]:
    with relay_process("join_relay.py", "--reply-bytes", str(reply_bytes)) as relay:
        yield relay


@contextlib.contextmanager
def profiled_server(home: Path, out: Path) -> Iterator[tuple[str, int, str]]:
    """Ours under cProfile (bench/profiled_serve.py): SIGUSR1 starts it, SIGUSR2 stops
    it and writes ``out``."""
    port = free_port()
    env = {**os.environ, "IMAGECHAT_HOME": str(home), "PYTHONPATH": f"{HERE}:{ROOT}"}
    proc = subprocess.Popen(
        [
            sys.executable,
            str(HERE / "profiled_serve.py"),
            str(out),
            "serve",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
    )
    try:
        wait_healthy(port, proc)
        yield f"ws://127.0.0.1:{port}/ws", proc.pid, str(home)
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:  # still closing 1,000s of connections, profiled
            proc.kill()
            proc.wait()


def median(runs: list[dict], key: str) -> float:  # type: ignore[type-arg]
    return statistics.median(r[key] for r in runs)


def report(n: int, runs: dict[str, list[dict]]) -> str:  # type: ignore[type-arg]
    names = list(runs)
    others = [x for x in names if x != "relay"]
    lines = [
        f"\n{n} viewers joining one room; medians of {len(runs['relay'])} alternating runs "
        f"(load average {min(r['loadavg'] for rs in runs.values() for r in rs)}-"
        f"{max(r['loadavg'] for rs in runs.values() for r in rs)})",
        "",
        "| metric | "
        + " | ".join(names)
        + " | "
        + " | ".join(f"{x} / relay" for x in others)
        + " |",
        "|---|" + "---:|" * (len(names) + len(others)),
    ]
    for label, key in METRICS:
        values = {x: median(runs[x], key) for x in names}
        base = values["relay"]
        ratios = [f"{values[x] / base:.2f}x" if base else "n/a" for x in others]
        lines.append(
            f"| {label} | "
            + " | ".join(str(values[x]) for x in names)
            + " | "
            + " | ".join(ratios)
            + " |"
        )
    per_run = {
        x: [
            round(r["cpu_ms_per_join"] / b["cpu_ms_per_join"], 2)
            for r, b in zip(runs[x], runs["relay"], strict=True)
        ]
        for x in others
    }
    lines.append(f"\nCPU per join / relay, run by run: {per_run}")
    incomplete = [x for x in names if not all(r["presence_complete"] for r in runs[x])]
    if incomplete:
        lines.append(f"INCOMPLETE presence (not every viewer saw the final count): {incomplete}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", default="1000,2000", help="viewer counts, comma-separated")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=100, help="joins in flight")
    parser.add_argument("--markers", type=int, default=50, help="markers in the room")
    parser.add_argument("--baseline-tree", type=Path, help="another checkout to run as 'before'")
    parser.add_argument("--profile", type=Path, help="also profile ours once per N here")
    parser.add_argument(
        "--reply-bytes", type=int, default=24_000, help="the join relay's reply (ours: ~24 KB)"
    )
    parser.add_argument(
        "--handshake",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also run the handshake-only relay (the baseline before 2026-12-04 19:00)",
    )
    args = parser.parse_args()
    raise_fd_limit()
    out: dict[str, object] = {"args": {k: str(v) for k, v in vars(args).items()}}
    for n in (int(x) for x in args.clients.split(",")):
        runs: dict[str, list[dict]] = {"relay": [], "ours": []}  # type: ignore[type-arg]
        if args.baseline_tree:
            runs["before"] = []
        if args.handshake:
            runs["handshake"] = []
        for _ in range(args.repeat):
            with join_relay(args.reply_bytes) as (url, pid):
                runs["relay"].append(run_load(url, pid, None, n, args))
            if args.handshake:
                with bare_relay(False) as (url, pid):
                    runs["handshake"].append(run_load(url, pid, None, n, args, True))
            for name, tree in (("ours", ROOT), ("before", args.baseline_tree)):
                if name not in runs:
                    continue
                assert tree is not None
                with (
                    tempfile.TemporaryDirectory() as tmp,
                    our_server(Path(tmp), True, tree=tree) as (
                        url,
                        pid,
                        home,
                    ),
                ):
                    runs[name].append(run_load(url, pid, home, n, args))
        if args.repeat:
            print(report(n, runs), flush=True)
        out[str(n)] = runs
        if args.profile:
            args.profile.mkdir(parents=True, exist_ok=True)
            prof = args.profile / f"joins-{n}.prof"
            with (
                tempfile.TemporaryDirectory() as tmp,
                profiled_server(Path(tmp), prof) as (
                    url,
                    pid,
                    home,
                ),
            ):
                os.kill(pid, signal.SIGUSR1)
                run_load(url, pid, home, n, args)
                os.kill(pid, signal.SIGUSR2)
                while not prof.exists():
                    time.sleep(0.05)
            print(f"profile: {prof}")
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    path = results / f"joins-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(out, indent=2))
    print(f"\nraw results: {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

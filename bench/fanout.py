"""Fan-out benchmark: our server against bare relays, one run.

    python bench/fanout.py [--clients 1000] [--steady-events 100] [--steady-rate 20]
                           [--burst 300] [--repeat 3]

Five contenders, each server in its own process, the load (N receivers and one writer in
one room, bench/fanout_load.py) in another, run in turns (A B C D, A B C D, ...):

- **ours, app defaults**: ``imagechat-tui serve`` with its defaults, clients offering
  what the app offers (permessage-deflate and the ``imagechat.msgpack.v1`` subprotocol);
- **ours, app defaults, --no-metrics**: the same without counting anything for /metrics
  (the baseline of the metrics' cost, printed as its own ratio; on a shared box the
  run-to-run noise is larger than that cost: bench/metrics_cost.py measures it inside
  the server);
- **ours, no compression**: ``serve --no-compression``, plain JSON clients;
- **bare relay** (the baseline): ``websockets.broadcast`` forwarding each frame as is,
  no compression (bench/bare_relay.py);
- **Node ws relay**: the same relay on Node's ``ws`` package (bench/node/relay.js;
  skipped with a note when node or its ``npm install`` is missing).

Reports, for a steady stream and a burst: delivered events/s, p50/p99 latency, server
CPU per delivered event, wire bytes per delivered event; memory per idle joined
connection (server RSS growth over N connections). Medians of the runs, ratios to the
bare relay. Raw results go to bench/results/fanout-<time>.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
NODE_RELAY = HERE / "node" / "relay.js"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raise_fd_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def wait_healthy(port: int, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(400):
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return
        time.sleep(0.05)
    raise SystemExit("server did not become healthy")


@contextlib.contextmanager
def our_server(
    home: Path, compression: bool, metrics: bool = True, tree: Path = ROOT
) -> Iterator[tuple[str, int, str]]:
    """``imagechat-tui serve`` from ``tree`` (this checkout, or another one to compare)."""
    port = free_port()
    env = {**os.environ, "IMAGECHAT_HOME": str(home), "PYTHONPATH": str(tree)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "imagechat_tui",
            "serve",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--compression" if compression else "--no-compression",
            "--metrics" if metrics else "--no-metrics",
        ],
        env=env,
        cwd=tree,
    )
    try:
        wait_healthy(port, proc)
        yield f"ws://127.0.0.1:{port}/ws", proc.pid, str(home)
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, and SIGKILL if it has not gone in 30 s (a loaded machine, a long drain):
    the next contender must not wait on this one."""
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def bare_relay(compression: bool) -> Iterator[tuple[str, int]]:
    with relay_process("bare_relay.py", *(["--compression"] if compression else [])) as relay:
        yield relay


@contextlib.contextmanager
def relay_process(script: str, *args: str) -> Iterator[tuple[str, int]]:
    """One of bench/'s relays (``script``, given ``args``) on a free port: its URL and pid
    once it prints "ready"."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(HERE / script), "--port", str(port), *args],
        stdout=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        proc.stdout.readline()  # "ready"
        yield f"ws://127.0.0.1:{port}/ws", proc.pid
    finally:
        proc.terminate()
        proc.wait(30)


@contextlib.contextmanager
def node_relay() -> Iterator[tuple[str, int]]:
    port = free_port()
    proc = subprocess.Popen(
        ["node", str(NODE_RELAY), str(port)], stdout=subprocess.PIPE, cwd=NODE_RELAY.parent
    )
    try:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != b"ready":
            raise SystemExit("the node relay did not start")
        yield f"ws://127.0.0.1:{port}/ws", proc.pid
    finally:
        proc.terminate()
        proc.wait(30)


def node_missing() -> str | None:
    """Why the Node relay cannot run, or None."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not (NODE_RELAY.parent / "node_modules" / "ws").is_dir():
        return "ws is not installed (cd bench/node && npm install)"
    return None


def run_load(
    url: str, pid: int, home: str | None, args: argparse.Namespace, flags: list[str]
) -> dict[str, object]:
    cmd = [
        sys.executable,
        str(HERE / "fanout_load.py"),
        "--url",
        url,
        "--server-pid",
        str(pid),
        "--clients",
        str(args.clients),
        "--steady-events",
        str(args.steady_events),
        "--steady-rate",
        str(args.steady_rate),
        "--burst",
        str(args.burst),
        *flags,
    ]
    if home:
        cmd += ["--home", home]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, check=False)
    if out.returncode != 0:
        raise SystemExit(f"load failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "n/a"


CONTENDERS = {
    "ours": "ours, app defaults",
    "ours-nometrics": "ours, app defaults, --no-metrics",
    "ours-plain": "ours, no compression",
    "relay": "bare relay",
    "node": "Node ws relay",
}


def report(results: dict[str, dict], runs: int) -> str:  # type: ignore[type-arg]
    names = [n for n in CONTENDERS if n in results]
    others = [n for n in names if n != "relay"]
    base = results["relay"]
    first = results[names[0]]
    lines = [
        f"{first['clients']} receivers in one room, one writer; medians of {runs} "
        "alternating runs; ratios to the bare relay",
        "",
        "| phase | metric | "
        + " | ".join(CONTENDERS[n] for n in names)
        + " | "
        + " | ".join(f"{CONTENDERS[n]} / relay" for n in others)
        + " |",
        "|---|---|" + "---:|" * (len(names) + len(others)),
    ]

    def row(label: str, name: str, get) -> None:  # type: ignore[no-untyped-def]
        values = {n: get(results[n]) for n in names}
        cells = [str(values[n]) for n in names]
        cells += [ratio(values[n], values["relay"]) for n in others]
        lines.append(f"| {label} | {name} | " + " | ".join(cells) + " |")

    for phase in ("steady", "burst"):
        label = f"{phase} ({base[phase]['events']} events)"
        for name, key in (
            ("delivered events/s", "delivered_per_s"),
            ("p50 latency (ms)", "p50_ms"),
            ("p99 latency (ms)", "p99_ms"),
            ("server CPU per delivered event (µs)", "cpu_us_per_delivery"),
            ("wire bytes per delivered event", "wire_bytes_per_delivery"),
        ):
            row(label, name, lambda r, k=key, ph=phase: r[ph][k])
            label = ""
    row(
        "one new marker",
        "wire bytes (steady stream)",
        lambda r: r["steady"]["wire_bytes_per_delivery"],
    )
    row("one new marker", "message bytes, uncompressed", lambda r: r["new_marker_frame_bytes"])
    row("idle", "memory per joined connection (KiB)", lambda r: r["rss_kib_per_connection"])
    if "ours" in results and "ours-nometrics" in results:
        lines.append("\nThe cost of metrics (ours, app defaults / the same with --no-metrics):\n")
        for phase in ("steady", "burst"):
            with_m = results["ours"][phase]["cpu_us_per_delivery"]
            without = results["ours-nometrics"][phase]["cpu_us_per_delivery"]
            cost = f"{with_m / without:.3f}x" if without else "n/a"
            lines.append(
                f"- {phase}: server CPU per delivered event {with_m} µs / {without} µs = {cost}"
            )
    incomplete = [
        f"{n}/{p}" for n in names for p in ("steady", "burst") if not results[n][p]["complete"]
    ]
    if incomplete:
        lines.append(
            f"\nINCOMPLETE (not every event reached every client): {', '.join(incomplete)}"
        )
    return "\n".join(lines)


def median_run(runs: list[dict]) -> dict:  # type: ignore[type-arg]
    """Each number is the median over the runs; ``complete`` only if every run was."""
    merged: dict = {}  # type: ignore[type-arg]
    for key, first in runs[0].items():
        if isinstance(first, dict):
            merged[key] = median_run([r[key] for r in runs])
        elif isinstance(first, bool):
            merged[key] = all(r[key] for r in runs)
        else:
            merged[key] = statistics.median(r[key] for r in runs)
    return merged


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--steady-events", type=int, default=100)
    parser.add_argument("--steady-rate", type=float, default=20.0)
    parser.add_argument("--burst", type=int, default=300)
    parser.add_argument(
        "--repeat", type=int, default=3, help="alternate runs; report each metric's median"
    )
    parser.add_argument(
        "--only", default=",".join(CONTENDERS), help="contenders to run (comma-separated)"
    )
    args = parser.parse_args()
    raise_fd_limit()
    chosen = [n for n in args.only.split(",") if n in CONTENDERS]
    if "relay" not in chosen:
        chosen.append("relay")  # the baseline of every ratio
    missing = node_missing()
    if "node" in chosen and missing:
        print(f"note: Node ws relay skipped: {missing}")
        chosen.remove("node")
    runs: dict[str, list[dict]] = {n: [] for n in chosen}  # type: ignore[type-arg]
    for _ in range(args.repeat):
        for name in chosen:
            if name in ("ours", "ours-nometrics", "ours-plain"):
                compression = name != "ours-plain"
                flags = ["--compression", "--binary"] if compression else []
                with (
                    tempfile.TemporaryDirectory() as tmp,
                    our_server(Path(tmp), compression, name != "ours-nometrics") as (
                        url,
                        pid,
                        home,
                    ),
                ):
                    runs[name].append(run_load(url, pid, home, args, flags))
            else:
                with bare_relay(False) if name == "relay" else node_relay() as (url, pid):
                    runs[name].append(run_load(url, pid, None, args, []))
    results = {n: median_run(r) for n, r in runs.items()}
    print(report(results, args.repeat))
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    out = out_dir / f"fanout-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({"args": vars(args), "runs": runs}, indent=2))
    print(f"\nraw results: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

"""Fan-out benchmark: our server against a bare ``websockets.broadcast`` relay, one run.

    python bench/fanout.py [--clients 1000] [--steady-events 100] [--steady-rate 20] [--burst 300]

Each server runs in its own process; the load (N receivers and one writer in one room)
runs in another. Reports delivered events/s, p50/p99 delivery latency, bytes per
new-marker frame and server CPU per delivered event, for a steady stream and a burst,
and our/bare ratios. Raw results go to bench/results/fanout-<time>.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
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
def our_server(home: Path, compression: bool) -> Iterator[tuple[str, int, str]]:
    port = free_port()
    env = {**os.environ, "IMAGECHAT_HOME": str(home)}
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
        ],
        env=env,
        cwd=ROOT,
    )
    try:
        wait_healthy(port, proc)
        yield f"ws://127.0.0.1:{port}/ws", proc.pid, str(home)
    finally:
        proc.terminate()
        proc.wait(30)


@contextlib.contextmanager
def bare_relay(compression: bool) -> Iterator[tuple[str, int]]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            str(HERE / "bare_relay.py"),
            "--port",
            str(port),
            *(["--compression"] if compression else []),
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        proc.stdout.readline()  # "ready"
        yield f"ws://127.0.0.1:{port}/ws", proc.pid
    finally:
        proc.terminate()
        proc.wait(30)


def run_load(url: str, pid: int, home: str | None, args: argparse.Namespace) -> dict[str, object]:
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
    ]
    if home:
        cmd += ["--home", home]
    if args.compression:
        cmd.append("--compression")
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
    if out.returncode != 0:
        raise SystemExit(f"load failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def ws_frame_bytes(payload: int) -> int:
    """Bytes of a server-to-client WebSocket frame (unmasked) with this payload."""
    return payload + (2 if payload < 126 else 4 if payload < 65536 else 10)


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "n/a"


def report(ours: dict, bare: dict, compression: bool, runs: int) -> str:  # type: ignore[type-arg]
    lines = [
        f"clients: {ours['clients']} receivers in one room, one writer; "
        f"compression: {'permessage-deflate' if compression else 'none'}; "
        f"median of {runs} alternating runs",
        "",
        "| phase | metric | ours | bare relay | ours/bare |",
        "|---|---|---:|---:|---:|",
    ]
    for phase in ("steady", "burst"):
        o, b = ours[phase], bare[phase]
        rows = [
            ("delivered events/s", o["delivered_per_s"], b["delivered_per_s"]),
            ("p50 latency (ms)", o["p50_ms"], b["p50_ms"]),
            ("p99 latency (ms)", o["p99_ms"], b["p99_ms"]),
            (
                "server CPU per delivered event (µs)",
                o["cpu_us_per_delivery"],
                b["cpu_us_per_delivery"],
            ),
            (
                "wire bytes per delivered event",
                o["wire_bytes_per_delivery"],
                b["wire_bytes_per_delivery"],
            ),
            (
                "frames sent per event per client",
                round(o["frames"] / o["deliveries"], 3),
                round(b["frames"] / b["deliveries"], 3),
            ),
        ]
        label = f"{phase} ({o['events']} events)"
        for name, a, c in rows:
            lines.append(f"| {label} | {name} | {a} | {c} | {ratio(a, c)} |")
            label = ""
    o_bytes = ws_frame_bytes(ours["new_marker_frame_bytes"])
    b_bytes = ws_frame_bytes(bare["new_marker_frame_bytes"])
    lines.append(
        f"| one new marker | WebSocket frame, uncompressed | {o_bytes} | {b_bytes} | {ratio(o_bytes, b_bytes)} |"
    )
    incomplete = [
        f"{n}/{p}"
        for n, r in (("ours", ours), ("bare", bare))
        for p in ("steady", "burst")
        if not r[p]["complete"]
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
        "--no-compression",
        dest="compression",
        action="store_false",
        help="no permessage-deflate (default: negotiated on both servers, as our app does)",
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="alternate runs; report each metric's median"
    )
    args = parser.parse_args()
    raise_fd_limit()
    ours_runs, bare_runs = [], []
    for _ in range(args.repeat):
        with (
            tempfile.TemporaryDirectory() as tmp,
            our_server(Path(tmp), args.compression) as (url, pid, home),
        ):
            ours_runs.append(run_load(url, pid, home, args))
        with bare_relay(args.compression) as (url, pid):
            bare_runs.append(run_load(url, pid, None, args))
    ours, bare = median_run(ours_runs), median_run(bare_runs)
    print(report(ours, bare, args.compression, args.repeat))
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    out = results / f"fanout-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({"args": vars(args), "ours": ours_runs, "bare": bare_runs}, indent=2))
    print(f"\nraw results: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

"""The CPU the metrics' hooks take on the fan-out path, measured inside the server.

    python bench/metrics_cost.py [--clients 1000] [--steady-events 100] [--steady-rate 20]
                                 [--burst 300] [--repeat 3]

bench/fanout.py compares "ours" with and without --no-metrics end to end, but on a
shared box the server's CPU per delivered event varies by 10-30 % from run to run (how
many viewers fall behind and are written batches changes with the load), far more than
the metrics cost. This runs the same load (bench/fanout_load.py, app defaults:
permessage-deflate and the binary subprotocol) against ``imagechat-tui serve`` started by
bench/timed_metrics.py, which counts the thread CPU time spent inside every
``NodeMetrics`` hook, and reads it at the same instants as the server's CPU. Per phase:
the server's CPU per delivered event, the hooks' (the wrapper's own cost, calibrated at
start, subtracted from both), and the ratio a server without the hooks would see:
``server / (server - hooks)``. Work outside the hooks that exists only for metrics (a
clock read per broadcast, a frame's wire length per batch) is not in the figure; it is
in fanout.py's end-to-end ratio. Medians of the runs; raw results go to
bench/results/metrics-cost-<time>.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from fanout import HERE, ROOT, free_port, raise_fd_limit, run_load, wait_healthy

PHASES = ("warmup", "steady", "burst")


@contextlib.contextmanager
def timed_server(home: Path, marks: Path) -> Iterator[tuple[int, int]]:
    port = free_port()
    env = {
        **os.environ,
        "IMAGECHAT_HOME": str(home),
        "PYTHONPATH": str(ROOT),
        "IMAGECHAT_BENCH_MARKS": str(marks),
    }
    command = [sys.executable, str(HERE / "timed_metrics.py"), "serve", "--port", str(port)]
    command += ["--log-level", "warning", "--compression", "--metrics"]
    proc = subprocess.Popen(command, env=env, cwd=ROOT)
    try:
        wait_healthy(port, proc)
        yield port, proc.pid
    finally:
        proc.terminate()
        proc.wait(30)


def one_run(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        marks = Path(tmp) / "marks"
        with timed_server(Path(tmp), marks) as (port, pid):
            url = f"ws://127.0.0.1:{port}/ws"
            load = run_load(url, pid, tmp, args, ["--compression", "--binary", "--mark-signal"])
        lines = marks.read_text().split("\n")
    _, counted, whole = lines[0].split()
    points = [tuple(map(int, line.split())) for line in lines[1:] if line]
    assert len(points) == len(PHASES) + 1, points  # before the first phase, after each
    out: dict[str, dict[str, float]] = {}
    for i, phase in enumerate(PHASES):
        (ns0, calls0), (ns1, calls1) = points[i], points[i + 1]
        calls = calls1 - calls0
        hooks_s = (ns1 - ns0 - calls * float(counted)) / 1e9
        server_s = load[phase]["server_cpu_s"] - calls * float(whole) / 1e9  # type: ignore[index]
        deliveries = load[phase]["deliveries"]  # type: ignore[index]
        out[phase] = {
            "deliveries": deliveries,
            "hook_calls": calls,
            "server_cpu_s": server_s,
            "hooks_cpu_s": hooks_s,
            "server_us_per_delivery": server_s / deliveries * 1e6,
            "hooks_us_per_delivery": hooks_s / deliveries * 1e6,
            "with_over_without": server_s / (server_s - hooks_s),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--steady-events", type=int, default=100)
    parser.add_argument("--steady-rate", type=float, default=20.0)
    parser.add_argument("--burst", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    raise_fd_limit()
    runs = [one_run(args) for _ in range(args.repeat)]
    print(f"{args.clients} receivers, one writer; medians of {args.repeat} runs\n")
    print(
        "| phase | server CPU per delivered event (µs) | in the metrics' hooks (µs) "
        "| hook calls per 1,000 deliveries | with / without hooks |"
    )
    print("|---|---:|---:|---:|---:|")
    for phase in ("steady", "burst"):
        med = {k: statistics.median(r[phase][k] for r in runs) for k in runs[0][phase]}
        spread = [f"{r[phase]['with_over_without']:.4f}" for r in runs]
        print(
            f"| {phase} | {med['server_us_per_delivery']:.3f} | {med['hooks_us_per_delivery']:.4f} "
            f"| {med['hook_calls'] / med['deliveries'] * 1000:.1f} "
            f"| {med['with_over_without']:.4f}x (runs: {', '.join(spread)}) |"
        )
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    out = out_dir / f"metrics-cost-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({"args": vars(args), "runs": runs}, indent=2))
    print(f"\nraw results: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

"""``imagechat-tui serve`` with the CPU time spent inside the metrics' hooks counted.

    IMAGECHAT_BENCH_MARKS=FILE python bench/timed_metrics.py serve ...

Used by bench/metrics_cost.py. Every ``NodeMetrics`` hook the node calls (``delivered``,
``broadcast``, ``op``, ``committed``, ...) is wrapped to add the thread CPU time it took
to a total; on each SIGUSR1 (sent by bench/fanout_load.py ``--mark-signal`` where it
reads the server's CPU around a phase) one line ``<ns in hooks> <calls>`` is appended to
FILE. The first line is the wrapper's own cost, measured at start on a wrapped no-op:
``calibration <ns counted per call> <ns per call in all>``, for the reader to subtract.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imagechat_tui.server import metrics

HOOKS = (
    "delivered",
    "broadcast",
    "joined",
    "join_refused",
    "op",
    "frame_refused",
    "closed",
    "committed",
    "upload",
    "upload_refused",
)
SPENT = [0, 0]  # ns, calls
clock = time.thread_time_ns


def timed(fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = clock()
        try:
            return fn(*args, **kwargs)
        finally:
            SPENT[0] += clock() - t0
            SPENT[1] += 1

    return wrapper


def calibrate(n: int = 200_000) -> tuple[float, float]:
    """(ns the wrapper counts around a no-op, ns a wrapped no-op costs in all), per call."""

    def noop() -> None:
        return None

    wrapped = timed(noop)
    t0 = clock()
    for _ in range(n):
        noop()
    bare = clock() - t0
    t0 = clock()
    for _ in range(n):
        wrapped()
    whole = clock() - t0
    counted = SPENT[0]
    SPENT[0] = SPENT[1] = 0
    return counted / n, (whole - bare) / n


def main() -> None:
    marks = Path(os.environ["IMAGECHAT_BENCH_MARKS"])
    counted, whole = calibrate()
    marks.write_text(f"calibration {counted:.1f} {whole:.1f}\n")
    for name in HOOKS:
        setattr(metrics.NodeMetrics, name, timed(getattr(metrics.NodeMetrics, name)))

    def mark(_signum: int, _frame: object) -> None:
        with marks.open("a") as out:
            out.write(f"{SPENT[0]} {SPENT[1]}\n")

    signal.signal(signal.SIGUSR1, mark)
    from imagechat_tui.cli import main as cli

    sys.argv = ["imagechat-tui", *sys.argv[1:]]
    cli()


if __name__ == "__main__":
    main()

"""``imagechat-tui serve`` with its event loop's stalls and the garbage collector's pauses
recorded (bench/hostile_http.py runs its servers under this).

    IMAGECHAT_BENCH_PROBE=FILE python bench/stall_probe_serve.py serve ...

Each SIGUSR1 appends one JSON line to FILE about the time since the previous one and
starts over: ``loop_stall_max_ms`` (the longest overshoot of a 1 ms sleep: the longest
the loop ran something else), ``gc_full`` / ``gc_young`` (collections of the oldest
generation and of the two young ones: count, total and longest ms) and ``objects`` (what
the collector tracks, at the signal). A full collection holds the GIL: nothing else of
the server runs meanwhile.

What a stall is made of (``stalls``: every stall of the loop over 50 ms, summed, and
``longest``: the longest one's breakdown): the loop thread's wall time split into its own
CPU (``cpu_ms``, CLOCK_THREAD_CPUTIME_ID), time runnable on a run queue waiting for a core
(``runq_ms``, field 2 of /proc/thread-self/schedstat: the scheduler's, not the server's)
and the rest, asleep (``asleep_ms``: a blocking system call on the loop, or waiting for
the GIL), with the other threads' CPU meanwhile (``other_threads_cpu_ms``: the GIL's
holders) and the loop thread's context switches (voluntary: it blocked; involuntary: it
was preempted). ``loop`` is the same split for the whole interval.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import resource
import signal
import sys
import time
from typing import Any

from imagechat_tui.server import node

OUT = os.environ["IMAGECHAT_BENCH_PROBE"]
pauses: dict[str, list[float]] = {"full": [], "young": []}
stall = [0.0]
started = [0.0]
tasks: list[asyncio.Task[None]] = []
STALL_S = 0.050  # a stall worth splitting
FIELDS = ("wall_ms", "cpu_ms", "runq_ms", "asleep_ms", "other_threads_cpu_ms", "vcsw", "ivcsw")


class ThreadClock:
    """The loop thread's wall, CPU, run-queue wait, process CPU and switches, at once."""

    def __init__(self) -> None:
        self.schedstat = os.open("/proc/thread-self/schedstat", os.O_RDONLY)

    def read(self) -> tuple[float, float, float, float, int, int]:
        runq_ns = int(os.pread(self.schedstat, 128, 0).split()[1])
        usage = resource.getrusage(resource.RUSAGE_THREAD)
        return (
            time.perf_counter(),
            time.thread_time(),
            runq_ns / 1e9,
            time.process_time(),
            usage.ru_nvcsw,
            usage.ru_nivcsw,
        )


def split(a: tuple[float, ...], b: tuple[float, ...]) -> dict[str, float]:
    wall, cpu, runq, proc = (b[i] - a[i] for i in range(4))
    return {
        "wall_ms": wall * 1000,
        "cpu_ms": cpu * 1000,
        "runq_ms": runq * 1000,
        "asleep_ms": max(0.0, wall - cpu - runq) * 1000,
        "other_threads_cpu_ms": max(0.0, proc - cpu) * 1000,
        "vcsw": b[4] - a[4],
        "ivcsw": b[5] - a[5],
    }


stalls: dict[str, float] = dict.fromkeys(("count", *FIELDS), 0.0)
longest: dict[str, float] = {}
interval_start: list[tuple[float, ...]] = []


def on_gc(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        started[0] = time.perf_counter()
    else:
        kind = "full" if info["generation"] == 2 else "young"
        pauses[kind].append((time.perf_counter() - started[0]) * 1000)


def report() -> None:
    line: dict[str, Any] = {"loop_stall_max_ms": round(stall[0] * 1000, 1)}
    for kind, values in pauses.items():
        line[f"gc_{kind}"] = {
            "count": len(values),
            "total_ms": round(sum(values), 1),
            "max_ms": round(max(values, default=0.0), 1),
        }
        values.clear()
    line["objects"] = len(gc.get_objects())
    line["stalls"] = {k: round(v, 1) for k, v in stalls.items()}
    line["longest"] = {k: round(v, 1) for k, v in longest.items()}
    now = clock.read()
    if interval_start:
        line["loop"] = {k: round(v, 1) for k, v in split(interval_start[0], now).items()}
    interval_start[:] = [now]
    stalls.update(dict.fromkeys(stalls, 0.0))
    longest.clear()
    stall[0] = 0.0
    with open(OUT, "a") as out:
        out.write(json.dumps(line) + "\n")


clock = ThreadClock()


async def probe() -> None:
    while True:
        before = clock.read()
        await asyncio.sleep(0.001)
        after = clock.read()
        overshoot = after[0] - before[0] - 0.001
        stall[0] = max(stall[0], overshoot)
        if overshoot > STALL_S:
            parts = split(before, after)
            stalls["count"] += 1
            for key in FIELDS:
                stalls[key] += parts[key]
            if parts["wall_ms"] > longest.get("wall_ms", 0.0):
                longest.update(parts)


start_server = node.start_server


async def probed_start(*args: Any, **kwargs: Any) -> Any:
    running = await start_server(*args, **kwargs)
    loop = asyncio.get_running_loop()
    tasks.append(loop.create_task(probe()))
    loop.add_signal_handler(signal.SIGUSR1, report)
    return running


node.start_server = probed_start  # type: ignore[assignment]  # run_until_signalled's
gc.callbacks.append(on_gc)

from imagechat_tui.cli import main  # noqa: E402

sys.argv[0] = "imagechat-tui"
main()

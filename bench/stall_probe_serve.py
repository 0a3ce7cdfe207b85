"""``imagechat-tui serve`` with its event loop's stalls and the garbage collector's pauses
recorded (bench/hostile_http.py runs its servers under this).

    IMAGECHAT_BENCH_PROBE=FILE python bench/stall_probe_serve.py serve ...

Each SIGUSR1 appends one JSON line to FILE about the time since the previous one and
starts over: ``loop_stall_max_ms`` (the longest overshoot of a 1 ms sleep: the longest
the loop ran something else), ``gc_full`` / ``gc_young`` (collections of the oldest
generation and of the two young ones: count, total and longest ms) and ``objects`` (what
the collector tracks, at the signal). A full collection holds the GIL: nothing else of
the server runs meanwhile.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
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
    stall[0] = 0.0
    with open(OUT, "a") as out:
        out.write(json.dumps(line) + "\n")


async def probe() -> None:
    while True:
        t0 = time.perf_counter()
        await asyncio.sleep(0.001)
        stall[0] = max(stall[0], time.perf_counter() - t0 - 0.001)


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

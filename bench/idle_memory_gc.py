"""Memory per idle joined connection against the serve process's collector settings.

    python bench/idle_memory_gc.py [--clients 2000] [--repeat 3] [--thresholds 700,20000]
                                   [--baseline-tree DIR ...]

``imagechat-tui serve`` (app defaults) in turns: without server/heap.py's settle (CPython's
collector as is: the commit before 6705ba0), and settled with each young threshold of
``--thresholds``; with ``--baseline-tree`` (a checkout of another commit, repeatable)
that tree's ``serve`` as it is, too. The load is bench/fanout_load.py's (N receivers join one room, RSS
growth per connection after they settle; a token steady stream and burst). Medians of
the runs and their ratio to the unsettled server, same run.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from fanout import free_port, raise_fd_limit, run_load, stop, wait_healthy  # noqa: E402

#: Runs ``imagechat-tui serve`` with heap.settle replaced or its threshold set (argv[1]).
SERVE = (
    "import sys; from imagechat_tui.server import heap; setting = sys.argv.pop(1); "
    "setattr(heap, 'settle', lambda: None) if setting == 'none' "
    "else setattr(heap, 'YOUNG_THRESHOLD', int(setting)); "
    "from imagechat_tui.entry import main; main()"
)


@contextlib.contextmanager
def server(home: Path, setting: str) -> Iterator[tuple[str, int]]:
    """``setting``: "none", a young threshold, or another tree's path (its serve as is)."""
    port = free_port()
    tree = Path(setting) if "/" in setting else ROOT
    env = {**os.environ, "IMAGECHAT_HOME": str(home), "PYTHONPATH": str(tree)}
    run = ["-m", "imagechat_tui"] if tree != ROOT else ["-c", SERVE, setting]
    cmd = [sys.executable, *run, "serve", "--port", str(port)]
    proc = subprocess.Popen([*cmd, "--log-level", "warning"], env=env, cwd=tree)
    try:
        wait_healthy(port, proc)
        yield f"ws://127.0.0.1:{port}/ws", proc.pid
    finally:
        stop(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--thresholds", default="700,20000")
    parser.add_argument("--baseline-tree", action="append", default=[])
    args = parser.parse_args()
    args.steady_events, args.steady_rate, args.burst = 20, 20.0, 20
    raise_fd_limit()
    settings = ["none", *args.thresholds.split(","), *map(str, map(Path, args.baseline_tree))]
    kib: dict[str, list[float]] = {s: [] for s in settings}
    for _ in range(args.repeat):
        for setting in settings:
            with tempfile.TemporaryDirectory() as tmp, server(Path(tmp), setting) as (url, pid):
                result = run_load(url, pid, tmp, args, ["--compression", "--binary"])
            kib[setting].append(float(result["rss_kib_per_connection"]))  # type: ignore[arg-type]
            print(setting, kib[setting][-1], flush=True)
    base = statistics.median(kib["none"])
    for setting in settings:
        med = statistics.median(kib[setting])
        label = f"settled, young {setting}"
        if setting == "none":
            label = "unsettled (before 6705ba0)"
        elif "/" in setting:
            label = f"tree {setting}"
        print(f"{label:28} {med:6.1f} KiB  {med / base:.2f}x  runs {kib[setting]}")


if __name__ == "__main__":
    main()

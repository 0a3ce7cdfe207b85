"""How long ``imagechat-tui --help`` takes, against ``python -c "import typer"`` (the floor
of any typer CLI) in the same run; issue 20's target is under 2x.

    python bench/cli_startup.py [--repeat 15] [--command "serve --help"]

Each round starts a fresh process of each contender, in turns, so load from other
processes hits them alike; prints the medians of wall time, the ratio, and the machine's
load average while measuring. ``--baseline-tree DIR`` (a checkout of another commit, e.g.
main before a change) also times that tree's CLI, run with PYTHONPATH=DIR.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _time(argv: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    # From a neutral directory: `python -m` puts the working directory first on sys.path.
    done = subprocess.run(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=tempfile.gettempdir()
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{shlex.join(argv)} failed: {done.stderr.decode()[-500:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--command", default="--help", help="the CLI's arguments to time")
    parser.add_argument("--baseline-tree", type=Path, help="also time this checkout's CLI")
    args = parser.parse_args()

    python = sys.executable
    ours = [python, "-m", "imagechat_tui", *shlex.split(args.command)]
    contenders: dict[str, tuple[list[str], dict[str, str] | None]] = {
        'python -c "import typer"': ([python, "-c", "import typer"], None),
        f"imagechat-tui {args.command}": (ours, None),
    }
    if args.baseline_tree:
        env = {**os.environ, "PYTHONPATH": str(args.baseline_tree.resolve())}
        contenders[f"baseline tree: imagechat-tui {args.command}"] = (ours, env)
    for argv, env in contenders.values():  # warm the page cache and .pyc files
        _time(argv, env)
    times: dict[str, list[float]] = {name: [] for name in contenders}
    load_before = os.getloadavg()[0]
    for _ in range(args.repeat):
        for name, (argv, env) in contenders.items():
            times[name].append(_time(argv, env))
    load_after = os.getloadavg()[0]

    floor = statistics.median(times['python -c "import typer"'])
    print(
        f"{args.repeat} rounds, median wall time; load average {load_before:.2f} -> "
        f"{load_after:.2f} on {os.cpu_count()} cores"
    )
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"  {name:<48} {median * 1000:7.1f} ms  {median / floor:5.2f}x")


if __name__ == "__main__":
    main()

"""CPU of ``imagechat-tui IMAGE`` before the app runs: a fresh process imports the entry
point (entry.py; cli.py in a tree without it), the launch and the app module and
resolves the image (loads it, mints the local token in an empty home), then reports its
own CPU time (not typer's parsing, which entry.py skips: bench/app_startup.py has it). No terminal, no server: the imports and
the work the first frame waits for, less noisy than bench/app_startup.py's pty timing.

Run: .venv/bin/python -m bench.launch_cpu [--repeat 9] [--baseline-tree DIR]

Bytecode is compiled first (bench/app_startup.py's ``compile_bytecode``). Rounds
alternate between this tree and ``DIR`` (run with PYTHONPATH=DIR); prints medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.app_startup import compile_bytecode

IMAGE = Path(__file__).parents[1] / "examples" / "dashboard.png"
PROBE = """
import resource, sys
from rich.console import Console
try:  # the entry point of `imagechat-tui FILE` (a tree before entry.py: the CLI)
    import imagechat_tui.entry
except ImportError:
    import imagechat_tui.cli
from imagechat_tui.client.target import resolve
from imagechat_tui.tui import launch
from imagechat_tui.tui.app import ImageChatApp
resolve(sys.argv[1], None, None, None, None, Console(stderr=True))
used = resource.getrusage(resource.RUSAGE_SELF)
print((used.ru_utime + used.ru_stime) * 1e3)
"""


def cpu_ms(env: dict[str, str]) -> float:
    with tempfile.TemporaryDirectory() as home:
        done = subprocess.run(
            [sys.executable, "-P", "-c", PROBE, str(IMAGE)],  # -P: PYTHONPATH's tree wins
            env={**env, "IMAGECHAT_HOME": home},
            capture_output=True,
            text=True,
            check=True,
        )
    return float(done.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--baseline-tree", type=Path)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    trees = {"this tree": env}
    if args.baseline_tree:
        trees["baseline tree"] = {**env, "PYTHONPATH": str(args.baseline_tree.resolve())}
    compile_bytecode([Path(__file__).parents[1], *filter(None, [args.baseline_tree])])
    for tree_env in trees.values():
        cpu_ms(tree_env)  # warm the page cache
    times: dict[str, list[float]] = {label: [] for label in trees}
    load = os.getloadavg()[0]
    for _ in range(args.repeat):
        for label, tree_env in trees.items():
            times[label].append(cpu_ms(tree_env))
    print(f"{args.repeat} rounds; load average {load:.2f} -> {os.getloadavg()[0]:.2f}")
    for label, values in times.items():
        print(f"  {label:14} CPU to resolve() done  {statistics.median(values):6.0f} ms (median)")


if __name__ == "__main__":
    main()

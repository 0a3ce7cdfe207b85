"""Time to the first paint of ``imagechat-tui IMAGE``, against a minimal Textual app.

Run: .venv/bin/python -m bench.app_startup [--repeat 7] [--size 120x36] [--baseline-tree DIR]

Each contender is a fresh process on a real pseudo-terminal (``TERM=xterm-256color``,
truecolor); the clock runs from the fork until the image's first cells (a half block,
"▀") are written. Contenders, in turns each round so load from others hits them alike:

- **minimal Textual app**: ``App`` with one ``Static`` of half blocks (the floor of any
  Textual app: Python, Textual's import, its driver, one frame);
- **fresh home**: ``imagechat-tui IMAGE`` with a new, empty ``IMAGECHAT_HOME``: it
  finds no local server and starts one (the server is stopped after each round);
- **server up**: the same with the local server of a kept home already running.

Each runs in a network namespace of its own (``unshare --net``; root), so the local
default port meets no other user's server. ``--baseline-tree DIR`` (a checkout of
another commit) also times that tree's app, run with PYTHONPATH=DIR.

Bytecode: every contender runs with compiled ``.pyc`` files, as an installed wheel has
them (``compile_bytecode``; without them each start compiles its imports anew, and a
shell with PYTHONDONTWRITEBYTECODE=1 never writes any).

Prints medians and the ratios to the minimal app, and the machine's load average.
Targets (issue 20): fresh home under 0.8 s, server up under 0.5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

from bench.terminal_bytes_bench import Terminal, bench_image

HALF_BLOCK = "▀".encode()
MINIMAL_APP = """
from textual.app import App
from textual.widgets import Static

class Minimal(App):
    def compose(self):
        yield Static("\\u2580" * 40)

Minimal().run()
"""


async def first_paint(
    argv: list[str], env: dict[str, str], size: tuple[int, int]
) -> tuple[float, float]:
    """Seconds from starting ``argv`` on a pty until it writes a half block: wall time,
    and the CPU time the process had used by then (less disturbed by the box's load)."""
    start = time.perf_counter()
    terminal = Terminal(argv, size[0], size[1], env)
    try:
        await terminal.until_written(HALF_BLOCK, timeout=60.0)
        wall = time.perf_counter() - start
        return wall, _cpu_seconds(terminal.pid)
    finally:
        await terminal.close()


def _cpu_seconds(pid: int) -> float:
    """User and system time of ``pid`` so far (``/proc/PID/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Namespace:
    """A network namespace of its own (``unshare --net``, loopback up), held open by a
    sleeping process: the app's local default port there meets no one else's server
    (the box is shared; the default port is per OS user, and every engineer is root)."""

    def __init__(self) -> None:
        self.holder = subprocess.Popen(
            ["unshare", "--net", "sh", "-c", "ip link set lo up && exec sleep 100000"]
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            state = subprocess.run(
                ["nsenter", f"--net=/proc/{self.holder.pid}/ns/net", "ip", "-o", "link"],
                capture_output=True,
                text=True,
                check=False,
            ).stdout
            if "lo:" in state and "UP" in state:
                return
            time.sleep(0.05)
        raise SystemExit("could not set up a network namespace (unshare, nsenter)")

    def argv(self, argv: list[str]) -> list[str]:
        return ["nsenter", f"--net=/proc/{self.holder.pid}/ns/net", "--", *argv]

    def close(self) -> None:
        self.holder.terminate()
        self.holder.wait()


def compile_bytecode(trees: list[Path]) -> None:
    """Compile the site-packages and each tree's package to ``.pyc`` (what an installed
    wheel has); fails if a tree's app module still has none."""
    site = Path(sysconfig.get_paths()["purelib"])
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-j", "0", str(site), *map(str, trees)],
        env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
        stdout=subprocess.DEVNULL,
        check=True,
    )
    for tree in trees:
        cache = tree / "imagechat_tui" / "tui" / "__pycache__"
        if not list(cache.glob("app.*.pyc")):
            raise SystemExit(f"no bytecode in {cache}")


def servers_of(home: Path) -> list[int]:
    """The pids of processes whose ``IMAGECHAT_HOME`` is ``home`` (the local server the
    app started there: detached, it outlives the app)."""
    found = []
    needle = f"IMAGECHAT_HOME={home}\0".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes() + b"\0":
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def stop_servers(home: Path) -> None:
    pids = servers_of(home)
    for pid in pids:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in pids):
        for pid in pids:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
        time.sleep(0.05)


def stop_all(work: Path) -> None:
    for home in [work / "kept", *work.glob("fresh-*")]:
        stop_servers(home)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--size", default="120x36")
    parser.add_argument("--baseline-tree", type=Path, help="also time this checkout's app")
    args = parser.parse_args()
    cols, rows = (int(n) for n in args.size.split("x"))
    size = (cols, rows)
    work = Path(tempfile.mkdtemp(prefix="app-startup-"))
    image = work / "shot.png"
    bench_image(image)
    env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    trees: dict[str, dict[str, str]] = {"": env}
    if args.baseline_tree:
        trees["baseline tree: "] = {**env, "PYTHONPATH": str(args.baseline_tree.resolve())}
    compile_bytecode([Path(__file__).parents[1], *filter(None, [args.baseline_tree])])
    python = sys.executable
    # -P: no working directory first on sys.path, or `-m imagechat_tui` run from a
    # checkout imports that checkout's package ahead of --baseline-tree's PYTHONPATH.
    ours = [python, "-P", "-m", "imagechat_tui", str(image)]
    minimal = [python, "-P", "-c", MINIMAL_APP]
    up, fresh = Namespace(), Namespace()  # one with a server up, one for fresh homes
    kept = work / "kept"
    times: dict[str, list[tuple[float, float]]] = {"minimal Textual app": []}
    for label in trees:
        times[f"{label}fresh home"] = []
        times[f"{label}server up"] = []
    load_before = os.getloadavg()[0]
    try:
        await first_paint(up.argv(minimal), env, size)  # warm the page cache
        await first_paint(up.argv(ours), {**env, "IMAGECHAT_HOME": str(kept)}, size)
        for round_ in range(args.repeat):
            times["minimal Textual app"].append(await first_paint(up.argv(minimal), env, size))
            for label, tree_env in trees.items():
                home = work / f"fresh-{round_}-{len(label)}"
                fresh_env = {**tree_env, "IMAGECHAT_HOME": str(home)}
                times[f"{label}fresh home"].append(
                    await first_paint(fresh.argv(ours), fresh_env, size)
                )
                stop_servers(home)
                up_env = {**tree_env, "IMAGECHAT_HOME": str(kept)}
                times[f"{label}server up"].append(await first_paint(up.argv(ours), up_env, size))
    finally:
        stop_all(work)
        up.close()
        fresh.close()
    load_after = os.getloadavg()[0]
    floor = [statistics.median(t[i] for t in times["minimal Textual app"]) for i in (0, 1)]
    print(
        f"{args.repeat} rounds, {cols}x{rows} pty, medians of the time to the first image"
        f" cells (wall, and the process's CPU by then); load average {load_before:.2f} ->"
        f" {load_after:.2f} on {os.cpu_count()} cores"
    )
    for name, samples in times.items():
        wall, cpu = (statistics.median(t[i] for t in samples) for i in (0, 1))
        print(
            f"  {name:<36} wall {wall * 1000:6.0f} ms {wall / floor[0]:5.2f}x"
            f"   cpu {cpu * 1000:6.0f} ms {cpu / floor[1]:5.2f}x"
        )


if __name__ == "__main__":
    asyncio.run(main())

"""How long ``imagechat-tui serve`` takes from exec to listening, against a minimal
``websockets.serve`` process (bench/bare_relay.py) in the same run.

    python bench/serve_startup.py [--repeat 15] [--baseline-tree DIR] [--profile]

Each round starts a fresh process of each contender, in turns, and times it until a TCP
connect to its port succeeds (*accepting*: a client from then on waits in the backlog
instead of being refused into its backoff) and until its first line on stdout (*ready*:
the relay's "ready", ours "imagechat-tui serving on ...", printed once it answers
handshakes); then kills it with SIGKILL, so that every start of ours but the
first is a restart after a crash on the same data directory, as in a reconnect storm
(bench/reconnect_storm.py). ``--baseline-tree DIR`` (a checkout of another commit) also
times that tree's server, run with PYTHONPATH=DIR. ``--profile`` writes a cProfile of one
start of ours to bench/results/serve-startup.prof (it stops at the listening line).
Prints medians, ratios to the relay and the load average while measuring.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from fanout import free_port

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def time_to_listening(argv: list[str], env: dict[str, str], port: int) -> tuple[float, float]:
    """Seconds from exec until a TCP connect to ``port`` succeeds, and until the
    process's first line on stdout; then SIGKILL."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tempfile.gettempdir()
    )
    accepting: list[float] = []

    def probe() -> None:
        while proc.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            except OSError:
                time.sleep(0.002)
                continue
            accepting.append(time.perf_counter() - start)
            return

    prober = threading.Thread(target=probe)
    prober.start()
    assert proc.stdout is not None
    line = proc.stdout.readline()
    ready = time.perf_counter() - start
    prober.join()
    proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate()
    if not line or not accepting:
        raise SystemExit(f"{argv} exited before listening: {err.decode()[-800:]}")
    return accepting[0], ready


def ours(python: str, port: int) -> list[str]:
    return [python, "-m", "imagechat_tui", "serve", "--port", str(port), "--log-level", "warning"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--baseline-tree", type=Path, help="also time this checkout's server")
    parser.add_argument("--profile", action="store_true", help="cProfile one start of ours")
    args = parser.parse_args()
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        base = {k: v for k, v in os.environ.items() if not k.startswith("IMAGECHAT_")}
        trees = {"ours": ROOT} | (
            {"before": args.baseline_tree.resolve()} if args.baseline_tree else {}
        )
        envs = {
            name: {**base, "IMAGECHAT_HOME": f"{tmp}/{name}", "PYTHONPATH": str(tree)}
            for name, tree in trees.items()
        }

        def start(name: str) -> tuple[float, float]:
            port = free_port()
            if name == "relay":
                argv = [python, str(HERE / "bare_relay.py"), "--port", str(port)]
            else:
                argv = ours(python, port)
            return time_to_listening(argv, envs.get(name, base), port)

        names = ["relay", *trees]
        for name in names:  # warm the page cache and .pyc files; ours creates its database
            start(name)
        if args.profile:
            out = HERE / "results" / "serve-startup.prof"
            out.parent.mkdir(exist_ok=True)
            cmd = [python, "-m", "cProfile", "-o", str(out), *ours(python, free_port())[1:]]
            # cProfile writes its file at exit: stop it with SIGINT, an orderly close.
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, env=envs["ours"])
            assert proc.stdout is not None
            proc.stdout.readline()
            proc.send_signal(signal.SIGINT)
            proc.wait()
            print(f"profile: {out.relative_to(ROOT)} (python -m pstats)")
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
        load_before = os.getloadavg()[0]
        for _ in range(args.repeat):
            for name in names:
                times[name].append(start(name))
        load_after = os.getloadavg()[0]
    floor = [statistics.median(t[i] for t in times["relay"]) for i in (0, 1)]
    print(
        f"{args.repeat} rounds, median ms from exec (ours restarted after SIGKILL on the same"
        f" data directory); .pyc {'off' if os.environ.get('PYTHONDONTWRITEBYTECODE') else 'on'};"
        f" load average {load_before:.2f} -> {load_after:.2f} on {os.cpu_count()} cores"
    )
    print(f"  {'':<48} {'accepting':>17}  {'ready':>17}")
    labels = {
        "relay": "minimal websockets.serve (bench/bare_relay.py)",
        "ours": "imagechat-tui serve",
        "before": f"imagechat-tui serve, {args.baseline_tree}",
    }
    for name, samples in times.items():
        medians = [statistics.median(t[i] for t in samples) for i in (0, 1)]
        cells = [f"{m * 1000:8.1f} {m / f:6.2f}x" for m, f in zip(medians, floor, strict=True)]
        print(f"  {labels[name]:<48} {cells[0]:>17}  {cells[1]:>17}")


if __name__ == "__main__":
    main()

"""Reconnect storm: N viewers connected, kill -9 the server, restart it, time until every
viewer is back and resynced. Ours with the app's real client, against the bare relay.

    python bench/reconnect_storm.py [--clients 1000] [--repeat 3] [--markers 50]
                                    [--down SECONDS] [--baseline-tree DIR]

``--down`` keeps the server down that long before restarting it (an outage longer than a
restart: a deploy, a host reboot). Each run (the load in its own process, bench/reconnect_storm_load.py, which also runs
the server so that it can kill and restart it at once, as a supervisor would):

- **ours**: ``imagechat-tui serve`` on a data directory on disk, N viewers each a real
  ``imagechat_tui.client.connection.Connection`` (its backoff, jitter, ``since``,
  binary frames and deflate, as the app runs it) with its own token and ``Replica``,
  in a room of ``--markers`` markers. *Back* is the Connection in state ``connected``
  again with its replica at the server's seq (joined with ``since``, recovered);
- **before** (with ``--baseline-tree DIR``): ours from another checkout, its server and
  its client (``Connection``, ``Backoff``);
- **relay** (the baseline): bench/bare_relay.py, N bare websockets clients that
  reconnect after the same ``Backoff`` rule (``imagechat_tui.backoff``); back is the
  handshake done.

Reports, medians of the runs: seconds from the kill until the restarted server answers
(``restart``), until every viewer is back (``all back``), the difference (``after
restart``: the join rate and the backoff's wait), and the new server's CPU per rejoin;
ratios to the relay; the load average around each run. Raw results go to
bench/results/reconnect-storm-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from fanout import raise_fd_limit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

METRICS = (
    ("seconds until the server answers again", "restart_s"),
    ("seconds until every viewer is back", "all_back_s"),
    ("seconds from the restart until all are back", "after_restart_s"),
    ("server CPU per rejoin (ms)", "cpu_ms_per_rejoin"),
)


def run(name: str, args: argparse.Namespace) -> dict[str, object]:
    kind = "relay" if name == "relay" else "ours"
    tree = args.baseline_tree if name == "before" else ROOT
    cmd = [
        sys.executable,
        str(HERE / "reconnect_storm_load.py"),
        "--kind",
        kind,
        "--tree",
        str(tree),
        "--clients",
        str(args.clients),
        "--markers",
        str(args.markers),
        "--down",
        str(args.down),
    ]
    # The viewers' client (Connection, Backoff) comes from the same tree as the server.
    env = {**os.environ, "PYTHONPATH": f"{HERE}:{tree}"}
    load0 = os.getloadavg()[0]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{out.stderr[-4000:]}")
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    result["loadavg"] = round((load0 + os.getloadavg()[0]) / 2, 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--markers", type=int, default=50)
    parser.add_argument(
        "--down", type=float, default=0.0, help="seconds the server stays down before restarting"
    )
    parser.add_argument("--baseline-tree", type=Path, help="another checkout, run as 'before'")
    args = parser.parse_args()
    raise_fd_limit()
    runs: dict[str, list[dict[str, object]]] = {"relay": [], "ours": []}
    if args.baseline_tree:
        runs["before"] = []
    for _ in range(args.repeat):
        for kind in runs:
            runs[kind].append(run(kind, args))
            print(kind, runs[kind][-1], flush=True)
    loads = [float(r["loadavg"]) for rs in runs.values() for r in rs]  # type: ignore[arg-type]
    print(
        f"\nreconnect storm of {args.clients} viewers; medians of {args.repeat} alternating"
        f" runs (load average {min(loads)}-{max(loads)})\n"
    )
    names = list(runs)
    print(
        "| metric | "
        + " | ".join(names)
        + " | "
        + " | ".join(f"{x} / relay" for x in names[1:])
        + " |\n|---|"
        + "---:|" * (2 * len(names) - 1)
    )
    for label, key in METRICS:
        values = [statistics.median(float(r[key]) for r in runs[x]) for x in names]  # type: ignore[arg-type]
        ratios = [f"{v / values[0]:.2f}x" if values[0] else "n/a" for v in values[1:]]
        print(
            f"| {label} | "
            + " | ".join(f"{v:.3f}" for v in values)
            + " | "
            + " | ".join(ratios)
            + " |"
        )
    back = all(r["all_back"] for rs in runs.values() for r in rs)
    if not back:
        print("NOT ALL BACK in some run (see the raw results)")
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    path = results / f"reconnect-storm-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(
        json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "runs": runs}, indent=2)
    )
    print(f"\nraw results: {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

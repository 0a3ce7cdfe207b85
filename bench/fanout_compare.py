"""Before/after table from ``bench/fanout.py`` raw results of two trees.

    python bench/fanout_compare.py --before A.json [B.json ...] --after C.json [D.json ...]

Each file holds one fanout.py invocation's alternating runs (ours and the bare relay).
The runs of all files on one side are pooled and each metric's median taken, as
fanout.py does for one invocation; run the two trees' invocations alternately too. The
table gives our server's figure before and after, after/before, and ours/bare on each
side (the relay ran in the same invocations, so its ratio absorbs the machine's load).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fanout import median_run

METRICS = (
    ("delivered events/s", "delivered_per_s"),
    ("p50 latency (ms)", "p50_ms"),
    ("p99 latency (ms)", "p99_ms"),
    ("server CPU per delivered event (µs)", "cpu_us_per_delivery"),
    ("wire bytes per delivered event", "wire_bytes_per_delivery"),
)


def pooled(paths: list[Path]) -> tuple[dict, dict, int]:  # type: ignore[type-arg]
    ours, bare = [], []
    for path in paths:
        raw = json.loads(path.read_text())
        # fanout.py's files: {"runs": {"ours": [...], "relay": [...], ...}}, or the
        # older {"ours": [...], "bare": [...]}.
        runs = raw.get("runs") or {"ours": raw["ours"], "relay": raw["bare"]}
        ours += runs["ours"]
        bare += runs["relay"]
    return median_run(ours), median_run(bare), len(ours)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", type=Path, nargs="+", required=True)
    parser.add_argument("--after", type=Path, nargs="+", required=True)
    args = parser.parse_args()
    b_ours, b_bare, b_runs = pooled(args.before)
    a_ours, a_bare, a_runs = pooled(args.after)
    print(f"median of {b_runs} runs before, {a_runs} after\n")
    print("| phase | metric | before | after | after/before | ours/bare before | ours/bare after |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for phase in ("steady", "burst"):
        label = f"{phase} ({int(a_ours[phase]['events'])} events)"
        for name, key in METRICS:
            before, after = b_ours[phase][key], a_ours[phase][key]
            rb = before / b_bare[phase][key]
            ra = after / a_bare[phase][key]
            print(
                f"| {label} | {name} | {before:g} | {after:g} | {after / before:.2f}x "
                f"| {rb:.2f}x | {ra:.2f}x |"
            )
            label = ""


if __name__ == "__main__":
    main()

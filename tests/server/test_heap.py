"""The serve process's garbage collector (server/heap.py): start-up's objects frozen and
young collections rarer, in the process that serves, not in whoever imports the node."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from imagechat_tui.server.heap import YOUNG_THRESHOLD
from tests.server.logged_node import logged_node


def test_settle_freezes_what_exists_and_raises_the_young_threshold() -> None:
    # In a child process: freezing this one would keep the test session's garbage.
    code = (
        "import gc, json; from imagechat_tui.server import heap; "
        "before = gc.get_threshold(); heap.settle(); "
        "print(json.dumps([before, gc.get_threshold(), gc.get_freeze_count()]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after, frozen = json.loads(out.stdout)
    assert after == [YOUNG_THRESHOLD, before[1], before[2]]
    assert frozen > 1000  # the imported modules' objects, at least


def test_serve_settles_the_collector_once_it_is_up(tmp_path: Path) -> None:
    with logged_node(tmp_path, "--log-level", "debug") as (_port, log):
        # /health answers while start-up still awaits its first readiness check; the
        # "serving on" line is printed after the collector is settled.
        deadline = time.monotonic() + 60
        while "imagechat-tui serving on" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
    lines = [line for line in log.read_text().splitlines() if "garbage collector settled" in line]
    assert len(lines) == 1, log.read_text()[-2000:]
    assert f"a young collection every {YOUNG_THRESHOLD}" in lines[0]

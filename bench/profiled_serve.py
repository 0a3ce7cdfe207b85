"""``imagechat-tui serve`` with cProfile switched on and off by signals, so a profile
holds only the window being measured (a mass join, a storm), not start-up's imports.

    python bench/profiled_serve.py OUT.prof serve --port N ...

SIGUSR1 starts profiling, SIGUSR2 stops it and writes OUT.prof (bench/joins.py
``--profile`` sends both around the load).
"""

from __future__ import annotations

import cProfile
import signal
import sys
from types import FrameType

from imagechat_tui.cli import main

profile = cProfile.Profile()
out = sys.argv.pop(1)


def start(_signum: int, _frame: FrameType | None) -> None:
    profile.enable()


def stop(_signum: int, _frame: FrameType | None) -> None:
    profile.disable()
    profile.dump_stats(out)


signal.signal(signal.SIGUSR1, start)
signal.signal(signal.SIGUSR2, stop)
sys.argv[0] = "imagechat-tui"
main()

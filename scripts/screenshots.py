"""Write SVG screenshots of the real app in its main states to screenshots/.

Run: python scripts/screenshots.py
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the fixed demo states live with the tests

from tests.tui.demo import DemoApp, DemoState  # noqa: E402

OUT = ROOT / "screenshots"
SHOTS: list[tuple[str, DemoState, tuple[int, int]]] = [
    ("main-view", "main", (160, 48)),
    ("main-view-80x24", "main", (80, 24)),
    ("offline-banner", "offline", (120, 36)),
    ("reconnecting", "reconnecting", (120, 36)),
]


async def shoot(name: str, state: DemoState, size: tuple[int, int]) -> None:
    app = DemoApp(state)
    async with app.run_test(size=size) as pilot:
        await pilot.pause(0.2)
        (OUT / f"{name}.svg").write_text(app.export_screenshot(title=name), "utf-8")


def main() -> None:
    os.environ["TZ"] = "UTC"
    time.tzset()
    OUT.mkdir(exist_ok=True)
    for name, state, size in SHOTS:
        asyncio.run(shoot(name, state, size))
        print(OUT / f"{name}.svg")


if __name__ == "__main__":
    main()

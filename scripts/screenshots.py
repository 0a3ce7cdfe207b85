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

from textual.widgets._footer import FooterKey  # noqa: E402

from tests.tui.demo import DemoApp, DemoState  # noqa: E402

OUT = ROOT / "screenshots"
MULTI_LINE = ["r", *"Two things:", "ctrl+j", *"1. the label", "alt+enter", *"2. the icon"]
SHOTS: list[tuple[str, DemoState, tuple[int, int], list[str]]] = [
    ("main-view", "main", (160, 48), []),
    ("main-view-80x24", "main", (80, 24), []),
    ("offline-banner", "offline", (120, 36), []),
    ("reconnecting", "reconnecting", (120, 36), []),
    # The thread focused on a three-line comment; a reply being written; a delete.
    ("multi-line-thread", "main", (120, 36), ["tab", "tab", "end"]),
    ("composer-multi-line", "main", (120, 36), MULTI_LINE),
    ("undo-notice", "main", (120, 36), ["tab", "tab", "end", "x"]),
    # A region, a mention of you in the thread, a marker with unseen activity marked new.
    ("region-and-mention", "activity", (160, 48), []),
    ("help-80x24", "main", (80, 24), ["question_mark"]),
    ("help-160x48", "main", (160, 48), ["question_mark"]),
]


async def shoot(name: str, state: DemoState, size: tuple[int, int], keys: list[str]) -> None:
    app = DemoApp(state)
    async with app.run_test(size=size) as pilot:
        for _ in range(100):  # the footer fills in once the bindings are known
            if app.screen_stack[0].query(FooterKey):
                break
            await pilot.pause(0.05)
        await pilot.pause(0.2)
        if keys:
            await pilot.press(*keys)
            await pilot.pause(0.2)
        (OUT / f"{name}.svg").write_text(app.export_screenshot(title=name), "utf-8")


def main() -> None:
    os.environ["TZ"] = "UTC"
    time.tzset()
    OUT.mkdir(exist_ok=True)
    for name, state, size, keys in SHOTS:
        asyncio.run(shoot(name, state, size, keys))
        print(OUT / f"{name}.svg")


if __name__ == "__main__":
    main()

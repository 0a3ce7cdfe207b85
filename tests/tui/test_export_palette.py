"""Export from inside the app: the command palette writes the review next to the user."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.tui.helpers import Reviewing, until


async def test_palette_exports_the_room_as_csv(
    alice: Reviewing,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    app, pilot, bob = alice
    chat_id = bob.create(40, 60, "=1+1 is not a formula here")
    bob.reply(chat_id, "second thought")
    await until(
        pilot, lambda: sum(len(c.comments) for c in app.link.replica.confirmed.chats.values()) == 2
    )
    await pilot.press("ctrl+p")
    await pilot.press(*"export review as csv")
    await until(pilot, lambda: app.screen.query("CommandList").first().option_count > 0)
    await pilot.press("enter")
    written = tmp_path / "imagechat-review.csv"
    await until(pilot, lambda: written.exists())
    await until(
        pilot, lambda: any("Exported 1 marker" in str(n.message) for n in app._notifications)
    )
    rows = list(csv.DictReader(io.StringIO(written.read_text("utf-8-sig"), newline="")))
    assert [r["text"] for r in rows] == ["'=1+1 is not a formula here", "second thought"]
    assert [r["marker"] for r in rows] == ["1", "1"]

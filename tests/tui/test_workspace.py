"""The workspace screen draws what the review says, once per change."""

from __future__ import annotations

import pytest

from imagechat_tui.tui.widgets.image_view import ImageView
from imagechat_tui.tui.workspace import Workspace
from tests.tui.helpers import Reviewing, until

SIZE = (120, 36)


async def test_a_created_marker_draws_the_room_once_sent_and_once_confirmed(
    alice: Reviewing, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Enter draws the new marker at once (the prediction); the server's event, which
    can differ from it (its number, its time), draws it once more; nothing else does."""
    drawn: list[int] = []
    show = ImageView.show

    def counted(view: ImageView, *args: object, **kwargs: object) -> None:
        drawn.append(len(alice.app.link.replica.pending))
        show(view, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ImageView, "show", counted)
    app, pilot, bob = alice
    assert isinstance(app.screen, Workspace)
    await pilot.press("n")
    await until(pilot, lambda: app.review.draft is not None)
    await pilot.press(*"a label")
    drawn.clear()
    await pilot.press("enter")
    await until(pilot, lambda: len(bob.replica.view.chats) == 1 and len(drawn) >= 2)
    await pilot.pause()
    assert drawn == [1, 0]  # sent (one op pending), then confirmed (none)

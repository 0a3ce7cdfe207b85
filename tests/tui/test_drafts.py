"""Drafts are kept per marker until sent or discarded on purpose: Escape keeps the text
(a refused, too-long reply too), each marker has its own, and a restart of the app on
the same machine finds them again. The real app (Pilot) against a real server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from imagechat_tui.server.node import RunningServer, ServerConfig, start_server
from imagechat_tui.tui.widgets.comment_input import CommentInput
from imagechat_tui.tui.widgets.dialogs import ConfirmScreen
from tests.tui.helpers import RemoteClient, make_app, until

SIZE = (120, 36)


def composer_text(app: object) -> str:
    return app.query_one(CommentInput).value  # type: ignore[attr-defined,no-any-return]


async def test_escape_keeps_the_draft_per_marker_and_a_restart_finds_it(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    bob = RemoteClient(server.url, mint_token("bob"))
    try:
        await bob.connected()
        first = bob.create(20.0, 20.0, "first")
        second = bob.create(60.0, 60.0, "second")
        long_text = "x" * 2050  # over the 2,000-character limit: refused at enter
        app = make_app(server.url, mint_token("alice"))
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: len(app.link.replica.view.chats) == 2)
            app.workspace.select(first)
            await pilot.press("r")
            app.query_one(CommentInput).value = long_text
            await pilot.press("enter")  # refused: too long
            await pilot.pause()
            assert app.query_one(CommentInput).display
            await pilot.press("escape")  # used to throw the text away
            await until(pilot, lambda: not app.query_one(CommentInput).display)
            assert "Draft kept" in str(app.query_one("#status").render())
            app.workspace.select(second)
            await pilot.press("r")
            assert composer_text(app) == ""  # #2 has its own draft
            await pilot.press(*"about two", "escape")
            app.workspace.select(first)
            await pilot.press("r")
            assert composer_text(app) == long_text
            await pilot.press("escape")
        # The app again, on the same machine: the drafts are still there.
        again = make_app(server.url, mint_token("alice"))
        async with again.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: len(again.link.replica.view.chats) == 2)
            again.workspace.select(second)
            await pilot.press("r")
            assert composer_text(again) == "about two"
            await pilot.press("enter")  # sent: the draft is done with
            await until(pilot, lambda: len(bob.replica.view.chats[second].comments) == 2)
            await pilot.press("r")
            assert composer_text(again) == ""
            await pilot.press("escape")
            # Clearing the text and pressing escape discards on purpose, after asking.
            again.workspace.select(first)
            await pilot.press("r")
            assert composer_text(again) == long_text
            again.query_one(CommentInput).value = ""  # all of it deleted
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(again.screen, ConfirmScreen))
            assert "Discard your draft (2,050 characters)?" in again.screen.question
            await pilot.press("escape")  # no: escape never loses text
            await until(pilot, lambda: not again.query_one(CommentInput).display)
            await pilot.press("r")
            assert composer_text(again) == long_text  # kept
            again.query_one(CommentInput).value = ""  # all of it deleted
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(again.screen, ConfirmScreen))
            await pilot.press("y")  # discarded, as asked
            await until(pilot, lambda: not again.query_one(CommentInput).display)
            await pilot.press("r")
            assert composer_text(again) == ""
    finally:
        await bob.close()


async def test_a_draft_open_while_the_server_goes_away_and_comes_back_is_intact(
    home: Path, mint_token: Callable[..., str]
) -> None:
    first = await start_server(ServerConfig(port=0, home=home))
    port = first.port
    bob = RemoteClient(first.url, mint_token("bob"))
    await bob.connected()
    chat_id = bob.create(20.0, 20.0, "first")
    app = make_app(first.url, mint_token("alice"))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: chat_id in app.link.replica.view.chats)
        await bob.close()
        app.workspace.select(chat_id)
        await pilot.press("r", *"half a thought")
        await first.close()
        await until(pilot, lambda: not app.link.connected)
        await pilot.press(*", and the rest")  # still writing, offline
        second = await start_server(ServerConfig(port=port, home=home))
        try:
            app.action_retry()
            await until(pilot, lambda: app.link.connected)
            await pilot.pause()
            assert app.query_one(CommentInput).display
            assert composer_text(app) == "half a thought, and the rest"
            await pilot.press("enter")
            await until(pilot, lambda: len(app.link.replica.view.chats[chat_id].comments) == 2)
            assert app.link.replica.view.chats[chat_id].comments[-1].text == (
                "half a thought, and the rest"
            )
        finally:
            await second.close()

"""The image is on the screen before the link is connected (issue 20: a start that
feels instant): the app draws it first, then connects (and finds or starts the local
server) while it is shown."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from imagechat_tui.client.local_server import DEFAULT_HOST, DEFAULT_PORT
from imagechat_tui.client.target import _server_and_token
from imagechat_tui.protocol import User
from imagechat_tui.tui.app import ImageChatApp
from imagechat_tui.tui.launch import build_connection
from imagechat_tui.tui.widgets.image_view import ImageView
from tests.tui import helpers
from tests.tui.helpers import ROOM, until


async def test_the_image_is_drawn_while_the_link_is_still_connecting() -> None:
    """A server that accepts the TCP connection and never answers the WebSocket
    handshake: the link stays "connecting", and the image is painted meanwhile."""
    accepted = asyncio.Event()
    held: list[asyncio.StreamWriter] = []

    async def silent(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)  # kept open, never answered
        accepted.set()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    link = build_connection(f"ws://127.0.0.1:{port}/ws", "t", ROOM, User(id="a", name="a"))
    app = ImageChatApp(helpers.test_image(), link)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            view = app.workspace.query_one(ImageView)
            await until(pilot, accepted.is_set)  # the link is trying now
            await pilot.pause()
            assert link.state.kind == "connecting"
            region = view.content_region
            painted = app.screen._compositor.render_strips()
            image_rows = [painted[y].crop(region.x, region.right).text for y in region.line_range]
            assert sum(row.count("▀") for row in image_rows) > region.width * region.height // 2
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


def test_the_launch_leaves_finding_the_local_server_to_the_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no server named, the launch does not look for the local one (nor start it,
    nor wait for it) before the app runs: the link's first attempt does, while the image
    is on the screen. (Before, the launch waited for the server's /health first.)"""
    monkeypatch.setenv("IMAGECHAT_HOME", str(tmp_path))
    url, token, remint, keeper = _server_and_token(None, None)
    assert url == f"ws://{DEFAULT_HOST}:{DEFAULT_PORT}/ws" and token and remint is not None
    assert keeper is not None and keeper.process is None  # nothing started yet
    assert not (tmp_path / "server.log").exists()  # no server was started

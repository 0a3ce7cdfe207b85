"""The embedded local server dies under the app: the app that started it starts it again."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from pathlib import Path

from imagechat_tui.client.connection import Backoff
from imagechat_tui.client.local_server import (
    LocalServerKeeper,
    ensure_local_server,
    local_token,
)
from imagechat_tui.protocol import User
from imagechat_tui.tui.app import ImageChatApp
from imagechat_tui.tui.launch import build_connection
from tests.tui import helpers
from tests.tui.helpers import ROOM, until


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_killed_local_server_is_started_again_and_the_app_rejoins(home: Path) -> None:
    port = free_port()
    started = await asyncio.to_thread(ensure_local_server, port=port, home=home)
    assert started.process is not None
    keeper = LocalServerKeeper(started, host="127.0.0.1", port=port, home=home)
    connection = build_connection(
        started.url,
        local_token(home),
        ROOM,
        User(id="me", name="me"),
        keeper=keeper,
        backoff=Backoff(base=0.05, cap=0.3),
    )
    app = ImageChatApp(helpers.test_image(), connection, remint_token=lambda: local_token(home))
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await until(pilot, lambda: connection.connected)
            await pilot.press("n", *"before", "enter")
            await until(pilot, lambda: len(app.replica.confirmed.chats) == 1)
            os.kill(started.process.pid, signal.SIGKILL)  # the server we started, by pid
            await until(pilot, lambda: not connection.connected)
            await until(pilot, lambda: keeper.restarts == 1, timeout=30)
            await until(pilot, lambda: connection.connected, timeout=30)
            assert keeper.process is not None and keeper.process.pid != started.process.pid
            # The same data directory: what was there before is there again.
            assert len(app.replica.view.chats) == 1
            await pilot.press("n", *"after", "enter")
            await until(pilot, lambda: len(app.replica.confirmed.chats) == 2)
    finally:
        for process in (started.process, keeper.process):
            if process is not None and process.poll() is None:
                process.terminate()
                await asyncio.to_thread(process.wait)


async def test_a_server_it_did_not_start_is_left_alone(home: Path) -> None:
    """Found running (another terminal's): not ours to restart."""
    port = free_port()
    theirs = await asyncio.to_thread(ensure_local_server, port=port, home=home)
    assert theirs.process is not None
    try:
        found = await asyncio.to_thread(ensure_local_server, port=port, home=home)
        keeper = LocalServerKeeper(found, host="127.0.0.1", port=port, home=home)
        theirs.process.kill()
        await asyncio.to_thread(theirs.process.wait)
        await keeper.revive()
        assert keeper.restarts == 0 and keeper.process is None
    finally:
        if theirs.process.poll() is None:
            theirs.process.kill()
            await asyncio.to_thread(theirs.process.wait)

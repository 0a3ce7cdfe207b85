"""The embedded local server dies under the app: any app on it starts it again."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from pathlib import Path

from imagechat_tui.client.connection import Backoff
from imagechat_tui.client.local_server import (
    Announce,
    LocalServerKeeper,
    ensure_local_server,
    is_healthy,
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
            await until(pilot, lambda: len(app.link.replica.confirmed.chats) == 1)
            os.kill(started.process.pid, signal.SIGKILL)  # the server we started, by pid
            await until(pilot, lambda: not connection.connected)
            await until(pilot, lambda: keeper.restarts == 1, timeout=30)
            await until(pilot, lambda: connection.connected, timeout=30)
            assert keeper.process is not None and keeper.process.pid != started.process.pid
            # The same data directory: what was there before is there again.
            assert len(app.link.replica.view.chats) == 1
            await pilot.press("n", *"after", "enter")
            await until(pilot, lambda: len(app.link.replica.confirmed.chats) == 2)
    finally:
        for process in (started.process, keeper.process):
            if process is not None and process.poll() is None:
                process.terminate()
                await asyncio.to_thread(process.wait)


class Recording(LocalServerKeeper):
    """A real keeper that also keeps what it announced."""

    said: list[str]

    async def revive(self, announce: Announce | None = None) -> None:
        self.said = getattr(self, "said", [])

        def both(text: str) -> None:
            self.said.append(text)
            if announce is not None:
                announce(text)

        await super().revive(both)


async def test_an_app_that_found_the_server_running_brings_it_back_and_says_so(
    home: Path,
) -> None:
    """The server another terminal started dies: this app starts it again, in words."""
    port = free_port()
    theirs = await asyncio.to_thread(ensure_local_server, port=port, home=home)
    assert theirs.process is not None
    found = await asyncio.to_thread(ensure_local_server, port=port, home=home)
    assert found.process is None
    keeper = Recording(found, host="127.0.0.1", port=port, home=home)
    connection = build_connection(
        found.url,
        local_token(home),
        ROOM,
        User(id="me", name="me"),
        keeper=keeper,
        backoff=Backoff(base=0.05, cap=0.3),
    )
    reasons: list[str] = []
    app = ImageChatApp(helpers.test_image(), connection, remint_token=lambda: local_token(home))
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await until(pilot, lambda: connection.connected)
            theirs.process.kill()
            await asyncio.to_thread(theirs.process.wait)
            await until(pilot, lambda: not connection.connected)
            reasons.append(connection.state.reason)
            await until(pilot, lambda: keeper.restarts == 1, timeout=30)
            await until(pilot, lambda: connection.connected, timeout=30)
    finally:
        for process in (theirs.process, keeper.process):
            if process is not None and process.poll() is None:
                process.terminate()
                await asyncio.to_thread(process.wait)
    assert "The local sync server is not running; starting it again…" in keeper.said
    # Our words for a refused connection, not the OS's "Connect call failed (...)".
    assert all("Connect call failed" not in r for r in reasons), reasons


async def test_two_apps_finding_it_gone_together_start_one_server(home: Path) -> None:
    port = free_port()
    theirs = await asyncio.to_thread(ensure_local_server, port=port, home=home)
    assert theirs.process is not None
    found = await asyncio.to_thread(ensure_local_server, port=port, home=home)
    one = Recording(theirs, host="127.0.0.1", port=port, home=home)
    two = Recording(found, host="127.0.0.1", port=port, home=home)
    theirs.process.kill()
    await asyncio.to_thread(theirs.process.wait)
    try:
        await asyncio.gather(one.revive(), two.revive())
        started = [k.process for k in (one, two) if k.process is not None]
        assert len(started) == 1 and one.restarts + two.restarts == 1
        assert started[0].poll() is None and is_healthy(theirs.url)
    finally:
        for keeper in (one, two):
            if keeper.process is not None and keeper.process.poll() is None:
                keeper.process.terminate()
                await asyncio.to_thread(keeper.process.wait)

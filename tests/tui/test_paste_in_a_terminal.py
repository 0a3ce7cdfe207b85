"""A real bracketed paste, escape sequences and all, written to the app's terminal (a
pseudo-terminal running the app as a process, so its own input driver and parser read
it) against a real server: it lands as text, and never acts."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

from imagechat_tui.server.node import RunningServer
from tests.tui.helpers import alice_in_a_terminal_with_her_marker

HOSTILE = "\x1b[31m s x m v D u \x1b[0m\x1b[1;2A\x1bs\x1b\r"


def paste(text: str) -> bytes:
    """What a terminal sends for a paste when the app asked for bracketed paste."""
    return f"\x1b[200~{text}\x1b[201~".encode()


async def test_a_pasted_escape_sequence_never_presses_a_key(
    home: Path, server: RunningServer, mint_token: Callable[..., str]
) -> None:
    async with alice_in_a_terminal_with_her_marker(home, server.url, mint_token) as (
        terminal,
        bob,
        chat_id,
    ):
        # Alice's own marker, selected: s would resolve it, D ask to delete it, m move
        # it, x delete a comment, v hide resolved pins.
        # The composer is closed and the image has focus: the paste lands nowhere.
        terminal.log.clear()
        os.write(terminal.fd, paste(HOSTILE))
        await terminal.until_written(b"Pasted text goes into a comment")
        written = b"".join(terminal.log)
        assert b"Moving #" not in written and b"Delete marker" not in written

        # Into the composer it lands as text (escapes made visible), line breaks kept.
        os.write(terminal.fd, b"r")
        await terminal.until_written(b"Reply to #1")
        os.write(terminal.fd, paste("line one\rline two " + HOSTILE))
        os.write(terminal.fd, b"\r")
        async with asyncio.timeout(15):
            while len(bob.replica.view.chats[chat_id].comments) < 2:
                await asyncio.sleep(0.02)
        # Ops from one connection arrive in order: had the paste pressed s or x, their
        # effect would be here already.
        chat = bob.replica.view.chats[chat_id]
        assert not chat.resolved and len(chat.comments) == 2
        assert chat.comments[1].text == ("line one\nline two ␛[31m s x m v D u ␛[0m␛[1;2A␛s␛\n")

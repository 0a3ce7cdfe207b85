"""The socket ``serve`` binds before it imports and sets up the rest of the node
(server/listener.py): a client that connects during a restart is queued and then
answered, not refused into its backoff."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from imagechat_tui.server.listener import bind_early
from imagechat_tui.server.node import ServerConfig, start_server
from tests.wsclient import WsClient


async def test_a_join_that_arrives_before_the_node_is_set_up_is_answered(
    home: Path, mint_token: Callable[..., str]
) -> None:
    listener = bind_early("127.0.0.1", 0)
    assert listener is not None
    port = listener.getsockname()[1]
    # Nothing serves yet, and the connect is not refused: the kernel queues it.
    early = socket.create_connection(("127.0.0.1", port), timeout=5)
    early.close()
    url = f"ws://127.0.0.1:{port}/ws"
    joining = asyncio.create_task(WsClient.joined(url, mint_token("alice")))
    # The client's connect starts at start_server's first await, before it serves.
    running = await start_server(ServerConfig(port=port, home=home), listener)
    try:
        client, joined, _ = await joining
        assert joined["type"] == "joined"
        assert running.port == port
        await client.ws.close()
    finally:
        await running.close()


def test_a_host_name_is_left_to_the_server_to_bind() -> None:
    # "localhost" may be two addresses (::1 and 127.0.0.1): asyncio binds them all.
    assert bind_early("localhost", 0) is None


def test_an_address_in_use_fails_at_once() -> None:
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    try:
        with pytest.raises(OSError, match="in use"):
            bind_early("127.0.0.1", busy.getsockname()[1])
    finally:
        busy.close()

"""The socket ``serve`` binds before it imports and sets up the rest of the node
(server/listener.py): a client that connects during a restart is queued and then
answered, not refused into its backoff."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from imagechat_tui.server.listener import BACKLOG, bind_early
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


def _listen_queue(port: int) -> int:
    """The kernel's accept-queue limit of the socket listening on ``port`` (ss's Send-Q
    for a listening socket), capped by net.core.somaxconn."""
    out = subprocess.run(
        ["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout
    return int(out.split()[2])


@pytest.mark.parametrize("bound_early", [True, False])
async def test_the_listening_queue_is_deep_whoever_binds(home: Path, bound_early: bool) -> None:
    """asyncio's create_server listens with 100 (its default) even on a socket bound with
    4096: the kernel then drops the SYNs of a reconnect storm or a flood past 100, and
    they retry a second later. The node listens again with BACKLOG afterwards."""
    if shutil.which("ss") is None and not os.environ.get("CI"):
        pytest.skip("ss (iproute2) is not installed")  # .ci/run installs it
    listener = bind_early("127.0.0.1", 0) if bound_early else None
    port = listener.getsockname()[1] if listener is not None else _free_port()
    running = await start_server(ServerConfig(port=port, home=home), listener)
    try:
        assert _listen_queue(port) == min(BACKLOG, _somaxconn())
    finally:
        await running.close()


def _somaxconn() -> int:
    return int(Path("/proc/sys/net/core/somaxconn").read_text())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])

"""The embedded default server, started for real as a background process."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from pathlib import Path

import pytest

from imagechat_tui.auth import TenantStore
from imagechat_tui.client.local_server import (
    LocalServerError,
    ensure_local_server,
    is_healthy,
    local_token,
)
from imagechat_tui.server.node import ServerConfig, start_server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_starts_a_background_server_once_and_mints_a_token(home: Path) -> None:
    port = free_port()
    started = ensure_local_server(port=port, home=home)
    try:
        assert started.url == f"ws://127.0.0.1:{port}/ws" and started.started_pid is not None
        assert is_healthy(started.url)
        again = ensure_local_server(port=port, home=home)
        assert again.url == started.url and again.started_pid is None  # found, not started
        assert (home / "server.log").exists()
        identity = TenantStore.in_home(home).verify(local_token(home))
        assert identity.tenant == "local"
    finally:
        if started.started_pid is not None:
            os.kill(started.started_pid, signal.SIGTERM)


def test_health_is_false_when_nothing_listens() -> None:
    assert not is_healthy(f"ws://127.0.0.1:{free_port()}/ws")


async def test_a_local_server_with_another_data_directory_is_named_not_used(
    home: Path, tmp_path: Path
) -> None:
    """Another user's server on the port: our local token would be refused there."""
    other = await start_server(ServerConfig(port=0, home=tmp_path / "someone-else"))
    try:
        with pytest.raises(LocalServerError, match="another data directory"):
            await asyncio.to_thread(ensure_local_server, port=other.port, home=home)
    finally:
        await other.close()
    mine = await start_server(ServerConfig(port=0, home=home))
    try:
        found = await asyncio.to_thread(ensure_local_server, port=mine.port, home=home)
        assert found.started_pid is None  # the same data directory: used as it is
    finally:
        await mine.close()

"""The embedded default server, started for real as a background process."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import http.server
import os
import signal
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from imagechat_tui.auth import TenantStore
from imagechat_tui.client.local_server import (
    LocalServerError,
    LocalServerKeeper,
    default_port,
    ensure_local_server,
    health_url,
    is_healthy,
    local_token,
    local_user,
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


def test_each_os_user_has_a_port_and_names_under_the_login() -> None:
    """Pure: 8765 + uid, wrapping below 65535; ``--name`` is a slug under the login."""
    assert default_port(0) == 8765 and default_port(1000) == 9765
    assert default_port(65535 - 8765) == 8765  # wraps, never past the last port
    login = local_user()
    assert local_user("  ") == login and local_user("?!") == login
    assert local_user(" Ann Lee ") == f"{login}:ann-lee"
    assert health_url("wss://host:9/ws") == "https://host:9/health"


@contextlib.contextmanager
def not_ours(status: int) -> Iterator[int]:
    """A port where an HTTP server that is not imagechat's answers ``status``."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def test_a_server_that_cannot_start_is_said_with_its_log(home: Path) -> None:
    """Something else answers 404 on the port: not ours, so we start one, which cannot
    bind there and exits; the error names the log."""
    with not_ours(404) as port:
        assert not is_healthy(f"ws://127.0.0.1:{port}/ws")
        with pytest.raises(LocalServerError, match=r"did not start; see .*server\.log"):
            ensure_local_server(port=port, home=home)
    assert (home / "server.log").stat().st_size > 0  # the server said why


def test_two_apps_starting_at_once_start_one_server(home: Path) -> None:
    """Two terminals opened together: the start lock lets one start it, the other finds it."""
    port = free_port()
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        both = list(pool.map(lambda _: ensure_local_server(port=port, home=home), range(2)))
    started = [s for s in both if s.process is not None]
    try:
        assert len(started) == 1 and {s.url for s in both} == {started[0].url}
    finally:
        for server in started:
            assert server.process is not None
            server.process.terminate()
            server.process.wait()


async def test_a_keeper_finds_or_starts_it_first_then_starts_it_again_in_words(
    home: Path,
) -> None:
    port = free_port()
    keeper = LocalServerKeeper(None, host="127.0.0.1", port=port, home=home)
    said: list[str] = []
    try:
        await keeper.revive(said.append)  # the first: nothing runs, so it starts one
        first = keeper.process
        assert first is not None and first.poll() is None and said == []
        await keeper.revive(said.append)  # ours still runs: nothing to do
        assert keeper.process is first and keeper.restarts == 0
        first.kill()
        await asyncio.to_thread(first.wait)
        await keeper.revive(said.append)
        assert keeper.restarts == 1 and keeper.process is not first and keeper.error is None
        assert said == [
            "The local sync server is not running; starting it again…",
            "The local sync server is running again; reconnecting…",
        ]
    finally:
        if keeper.process is not None and keeper.process.poll() is None:
            keeper.process.terminate()
            await asyncio.to_thread(keeper.process.wait)


async def test_a_keeper_that_cannot_start_it_says_so_and_tries_again(home: Path) -> None:
    with not_ours(404) as port:
        keeper = LocalServerKeeper(None, host="127.0.0.1", port=port, home=home)
        said: list[str] = []
        await keeper.revive(said.append)  # the first look
        await keeper.revive(said.append)  # the next attempt
    assert keeper.process is None and keeper.error is not None
    assert "did not start" in keeper.error
    assert said[0].endswith("Trying again shortly.")
    assert said[1] == "The local sync server is not running; starting it again…"
    assert said[2].endswith("Trying again shortly.") and len(said) == 3

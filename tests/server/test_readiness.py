"""/ready tells a load balancer the truth: 503 with the reason while the node cannot
commit (its database turned read-only while it runs) or publish (Redis stopped), 200
again once it can; /health stays 200 throughout (the process is alive). The main port
names the part that is down; the metrics port (the operator's) says why in full."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from imagechat_tui.server.node import RunningServer
from imagechat_tui.server.readiness import PUBLIC_REASONS
from tests.services import Postgres, Redis, free_port
from tests.wsclient import WsClient, create_op


async def _until_ready_is(
    node: str, metrics: str, status: int, backstop: float = 120
) -> dict[str, Any]:
    """Poll /ready on the metrics port (the reasons in full) until it answers ``status``;
    its JSON body. The main port then answers the same, with the public phrases, and
    /health 200. The backstop only ends a node that never flips (probes every 0.2 s)."""
    deadline = time.monotonic() + backstop
    last: object = None
    async with httpx.AsyncClient(timeout=10) as http:
        while time.monotonic() < deadline:
            try:
                answer = await http.get(f"{metrics}/ready")
            except httpx.HTTPError as exc:
                last = exc
            else:
                if answer.status_code == status:
                    body: dict[str, Any] = answer.json()
                    public = await http.get(f"{node}/ready")
                    assert public.status_code == status
                    assert public.json() == {
                        "ready": body["ready"],
                        "reasons": {part: PUBLIC_REASONS[part] for part in body["reasons"]},
                    }
                    assert (await http.get(f"{node}/health")).status_code == 200
                    return body
                last = (answer.status_code, answer.text)
            await asyncio.sleep(0.05)
    raise AssertionError(f"/ready never answered {status}; last: {last}")


def _bases(server: RunningServer) -> tuple[str, str]:
    assert server.metrics_url is not None
    return server.http_url, server.metrics_url.removesuffix("/metrics")


def _unprivileged(command: list[str]) -> list[str]:
    """``command`` without the right to ignore file permissions (root has it)."""
    if os.geteuid() != 0:
        return command
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--", *command]


def _set_writable(directory: Path, writable: bool) -> None:
    bits = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
    for path in [directory, *directory.iterdir()]:
        mode = path.stat().st_mode
        path.chmod(mode | stat.S_IWUSR if writable else mode & ~bits)


async def test_a_sqlite_database_made_read_only_while_running_flips_ready_and_back(
    home: Path, mint_token
) -> None:
    data = home / "data"
    data.mkdir()
    port, metrics_port = free_port(), free_port()
    log = home / "node.log"
    command = [sys.executable, "-m", "imagechat_tui", "serve", "--port", str(port)]
    command += ["--database", f"sqlite:///{data / 'chat.sqlite3'}", "--ready-interval", "0.2"]
    command += ["--metrics-port", str(metrics_port)]
    with log.open("wb") as out:
        node = subprocess.Popen(
            _unprivileged(command),
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "IMAGECHAT_HOME": str(home)},
        )
    base = (f"http://127.0.0.1:{port}", f"http://127.0.0.1:{metrics_port}")
    try:
        assert (await _until_ready_is(*base, 200)) == {"ready": True, "reasons": {}}
        client, *_ = await WsClient.joined(f"ws://127.0.0.1:{port}/ws", mint_token("alice"))
        _set_writable(data, False)
        try:
            down = await _until_ready_is(*base, 503)
            assert down["ready"] is False
            assert "readonly" in down["reasons"]["database"], down
        finally:
            _set_writable(data, True)
        assert (await _until_ready_is(*base, 200))["reasons"] == {}
        await client.send(create_op(text="after"))  # and it commits again
        await client.recv_events(1)
        await client.close()
    finally:
        node.terminate()
        node.wait(30)
    assert "not ready: database" in log.read_text() and "ready again" in log.read_text()


async def test_redis_stopped_flips_ready_and_back(
    start, mint_token, pg_url: str, redis_server: Redis
) -> None:
    server = await start(
        database=pg_url, broker=redis_server.url, ready_interval=0.2, metrics_port=0
    )
    assert (await _until_ready_is(*_bases(server), 200))["reasons"] == {}
    redis_server.kill()
    try:
        down = await _until_ready_is(*_bases(server), 503)
        assert set(down["reasons"]) == {"broker"}, down
        # The node still serves and commits (the events are in PostgreSQL), it only
        # says it should not be given new viewers.
        client, *_ = await WsClient.joined(server.url, mint_token("alice"))
        await client.send(create_op(text="while Redis is down"))
        await client.recv_events(1)
        await client.close()
    finally:
        redis_server.start()
    assert (await _until_ready_is(*_bases(server), 200))["reasons"] == {}


async def _set_read_only(url: str, on: bool) -> None:
    """The database read-only for new sessions, and its sessions ended (as a failover
    to a standby would): the node's pool reconnects into a read-only database."""
    name = url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(url.rsplit("/", 1)[0] + "/postgres")
    try:
        await admin.execute(
            f"ALTER DATABASE {name} SET default_transaction_read_only = {'on' if on else 'off'}"
        )
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
        )
    finally:
        await admin.close()


async def test_a_postgres_database_turned_read_only_flips_ready_and_back(
    start, mint_token, postgres: Postgres, pg_url: str
) -> None:
    server = await start(database=pg_url, ready_interval=0.2, metrics_port=0)
    assert (await _until_ready_is(*_bases(server), 200))["reasons"] == {}
    await _set_read_only(pg_url, True)
    try:
        down = await _until_ready_is(*_bases(server), 503)
        assert "read-only" in down["reasons"]["database"], down
    finally:
        await _set_read_only(pg_url, False)
    assert (await _until_ready_is(*_bases(server), 200))["reasons"] == {}


async def test_a_failed_commit_turns_ready_off_at_once(
    start, mint_token, postgres: Postgres, pg_url: str
) -> None:
    """Between probes: an hour-long interval, so only the failed commit can flip it."""
    server = await start(database=pg_url, ready_interval=3600, metrics_port=0)
    alice, *_ = await WsClient.joined(server.url, mint_token("alice"))
    postgres.stop()
    try:
        await alice.send(create_op(text="during the outage"))
        assert (await alice.recv_type("error", timeout=60))["code"] == "unavailable"
        down = await _until_ready_is(*_bases(server), 503)
        assert "PostgreSQL" in down["reasons"]["database"]
    finally:
        postgres.start()
    await alice.close()

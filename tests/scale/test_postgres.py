"""PostgreSQL as the store: outages fail ops cleanly, and migrations run once."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import asyncpg
import pytest
from websockets.exceptions import ConnectionClosed

from imagechat_tui.server.migrate import migrate
from imagechat_tui.server.storage import StorageUnavailable, open_storage
from imagechat_tui.server.storage.schema import latest_version
from tests.services import Postgres
from tests.wsclient import WsClient, create_op


async def test_postgres_down_fails_ops_clearly_and_recovers(
    start, mint_token, postgres: Postgres, pg_url, redis_server
) -> None:
    server = await start(database=pg_url, broker=redis_server.url)
    alice, *_ = await WsClient.joined(server.url, mint_token("alice"))
    await alice.send(create_op(text="before"))
    (first,) = await alice.recv_events(1)
    postgres.stop()
    try:
        failed = create_op(text="during the outage")
        await alice.send(failed)
        error = await alice.recv_type("error", timeout=30)
        assert error["code"] == "unavailable" and error["broadcastId"] == failed["broadcastId"]
        assert "nothing happened" in error["message"]
        assert await alice.settle() == []  # never acknowledged
    finally:
        postgres.start()
    # Back: the very same op (a client retry) now goes through, once.
    await alice.send(failed)
    (event,) = await alice.recv_events(1)
    assert event["broadcastId"] == failed["broadcastId"] and event["seq"] == first["seq"] + 1
    # Nothing half-applied: a fresh viewer sees exactly the two changes.
    _, joined, (snapshot,) = await WsClient.joined(server.url, mint_token("bob"))
    assert joined["seq"] == 2
    assert [c["comments"][0]["text"] for c in snapshot["chats"]] == ["before", "during the outage"]
    await alice.close()


async def test_joining_an_unloaded_room_while_postgres_is_down_says_try_later(
    start, mint_token, postgres: Postgres, pg_url
) -> None:
    server = await start(database=pg_url)
    postgres.stop()
    try:
        client = await WsClient.open(server.url)
        await client.send({"op": "join", "room": "never-loaded", "token": mint_token("alice")})
        error = await client.recv_type("error", timeout=30)
        assert error["code"] == "unavailable"
        with pytest.raises(ConnectionClosed):
            await client.recv(10)
        assert client.ws.close_code == 1013
    finally:
        postgres.start()
    # Back: the same join works.
    again, joined, _ = await WsClient.joined(server.url, mint_token("alice"), room="never-loaded")
    assert joined["seq"] == 0
    await again.close()


async def test_nodes_starting_at_once_apply_each_migration_once(pg_url) -> None:
    commands = [
        [sys.executable, "-m", "imagechat_tui", "migrate", "--database", pg_url] for _ in range(4)
    ]
    processes = [
        await asyncio.create_subprocess_exec(*c, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for c in commands
    ]
    outputs = [await p.communicate() for p in processes]
    assert [p.returncode for p in processes] == [0] * 4, outputs
    said = sorted(out.decode().strip() for out, _ in outputs)
    latest = latest_version("postgres")
    assert (
        said
        == [f"migrated the schema from version 0 to {latest}"]
        + [f"schema is up to date (version {latest})"] * 3
    )
    conn = await asyncpg.connect(pg_url)
    try:
        versions = [r[0] for r in await conn.fetch("SELECT version FROM schema_migrations")]
    finally:
        await conn.close()
    assert versions == list(range(1, latest + 1))
    assert await migrate(pg_url) == (latest, latest)


async def test_migrate_sqlite(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    latest = latest_version("sqlite")
    assert await migrate(url) == (0, latest)
    assert await migrate(url) == (latest, latest)


async def test_a_postgres_database_that_cannot_be_written_fails_the_start(pg_url) -> None:
    conn = await asyncpg.connect(pg_url)
    try:
        database = pg_url.rsplit("/", 1)[1]
        await conn.execute(f"ALTER DATABASE {database} SET default_transaction_read_only = on")
    finally:
        await conn.close()
    storage = open_storage(pg_url)
    with pytest.raises(StorageUnavailable, match="cannot be written"):
        await storage.open()
    await storage.close()

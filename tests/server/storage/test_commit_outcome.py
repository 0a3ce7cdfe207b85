"""A PostgreSQL commit whose connection drops during COMMIT: the outcome is learned before
anyone is answered, so an op that was stored is never answered ``unavailable``.

Real asyncpg, real PostgreSQL; only the TCP connection between them is cut, at COMMIT
(tests/server/storage/cutter.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from imagechat_tui.model import RoomState
from imagechat_tui.server.storage import OutcomeUnknown, StorageUnavailable
from imagechat_tui.server.storage.postgres import PostgresStorage
from tests.server.storage.cutter import CommitCutter
from tests.server.storage.test_contract import create, deciding
from tests.services import Postgres
from tests.wsclient import WsClient, create_op


@pytest.fixture
async def cutter(postgres: Postgres) -> AsyncIterator[CommitCutter]:
    relay = CommitCutter(postgres.port)
    await relay.start()
    yield relay
    await relay.close()


async def stored_broadcast_ids(pg_url: str) -> list[str]:
    conn = await asyncpg.connect(pg_url)
    try:
        return [r[0] for r in await conn.fetch("SELECT broadcast_id FROM events ORDER BY seq")]
    finally:
        await conn.close()


async def test_a_commit_cut_after_postgres_applied_it_is_reported_stored(
    cutter: CommitCutter, pg_url: str
) -> None:
    storage = PostgresStorage(cutter.url(pg_url))
    await storage.open()
    try:
        first = await storage.commit(
            "t", "r", RoomState(room="r"), ["b-c1"], deciding([create("c1")])
        )
        cutter.arm("after")
        result = await storage.commit("t", "r", first.state, ["b-c2"], deciding([create("c2")]))
        assert cutter.cut.is_set()  # the connection really dropped during COMMIT
        assert result.answers == [2] and [s.event.seq for s in result.committed] == [2]
        assert await stored_broadcast_ids(pg_url) == ["b-c1", "b-c2"]
        # The storage goes on working, on a fresh connection.
        third = await storage.commit("t", "r", result.state, ["b-c3"], deciding([create("c3")]))
        assert third.answers == [3]
    finally:
        await storage.close()


async def test_a_commit_cut_before_postgres_saw_it_is_reported_not_stored(
    cutter: CommitCutter, pg_url: str
) -> None:
    storage = PostgresStorage(cutter.url(pg_url))
    await storage.open()
    try:
        cutter.arm("before")
        with pytest.raises(StorageUnavailable, match="nothing was stored"):
            await storage.commit("t", "r", RoomState(room="r"), ["b-c1"], deciding([create("c1")]))
        assert cutter.cut.is_set()
        assert await stored_broadcast_ids(pg_url) == []
        retry = await storage.commit(
            "t", "r", RoomState(room="r"), ["b-c1"], deciding([create("c1")])
        )
        assert retry.answers == [1]
    finally:
        await storage.close()


async def test_the_outcome_is_asked_until_postgres_answers(
    cutter: CommitCutter, pg_url: str
) -> None:
    storage = PostgresStorage(cutter.url(pg_url))
    await storage.open()
    try:
        cutter.arm("after")
        cutter.accepting = False  # PostgreSQL "down" for whoever connects next
        commit = asyncio.ensure_future(
            storage.commit("t", "r", RoomState(room="r"), ["b-c1"], deciding([create("c1")]))
        )
        await cutter.cut.wait()
        while cutter.refused < 2:  # the storage is asking, and being refused
            await asyncio.sleep(0.01)
        assert not commit.done()  # nobody is answered while the outcome is unknown
        cutter.accepting = True
        result = await commit
        assert result.answers == [1]
    finally:
        await storage.close()


async def test_an_outcome_that_cannot_be_learned_is_not_called_a_failure(
    cutter: CommitCutter, pg_url: str
) -> None:
    storage = PostgresStorage(cutter.url(pg_url), resolve_timeout=0.3)
    await storage.open()
    try:
        cutter.arm("after")
        cutter.accepting = False
        with pytest.raises(OutcomeUnknown, match="did not answer"):
            await storage.commit("t", "r", RoomState(room="r"), ["b-c1"], deciding([create("c1")]))
    finally:
        cutter.accepting = True
        await storage.close()
    assert await stored_broadcast_ids(pg_url) == ["b-c1"]


async def test_a_client_is_never_told_unavailable_for_a_stored_op(
    start, mint_token, cutter: CommitCutter, pg_url: str
) -> None:
    server = await start(database=cutter.url(pg_url))
    alice, *_ = await WsClient.joined(server.url, mint_token("alice"))
    bob, *_ = await WsClient.joined(server.url, mint_token("bob"))
    cutter.arm("after")
    op = create_op(text="stored, though the connection dropped")
    await alice.send(op)
    # The op's own event answers it (recv_events fails on an error frame), once.
    (event,) = await alice.recv_events(1)
    assert event["broadcastId"] == op["broadcastId"] and event["seq"] == 1
    assert cutter.cut.is_set()
    assert await bob.recv_events(1) == [event]
    # A retry with the same broadcastId is recognised: acknowledged, not applied again.
    await alice.send(op)
    assert (await alice.recv_type("ack"))["seq"] == 1
    cutter.arm("before")
    refused = create_op(text="not stored")
    await alice.send(refused)
    error = await alice.recv_type("error")
    assert error["code"] == "unavailable" and error["broadcastId"] == refused["broadcastId"]
    assert await stored_broadcast_ids(pg_url) == [op["broadcastId"]]
    await alice.close()
    await bob.close()

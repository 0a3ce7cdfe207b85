"""A room whose state fell behind the retained log (another process wrote to the same
database meanwhile, more than the log keeps) reloads from the database when it next
commits, with either database, and its viewers resync from a snapshot."""

from __future__ import annotations

from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from tests.wsclient import WsClient, create_op


@pytest.fixture(params=["sqlite", "postgres"])
def shared_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    url: str = request.getfixturevalue("pg_url")
    return url


async def test_a_room_behind_the_retained_log_reloads_and_its_viewers_resync(
    start, mint_token, shared_database: str
) -> None:
    # Two servers on one database and no broker: neither hears of the other's events.
    a = await start(database=shared_database, retention=10)
    b = await start(database=shared_database, retention=10)
    alice, joined, _ = await WsClient.joined(a.url, mint_token("alice"))
    bob, *_ = await WsClient.joined(b.url, mint_token("bob"))
    for n in range(300):  # far past what the log keeps
        await bob.send(create_op(text=f"on b {n}"))
    await bob.recv_events(300)
    assert a.hub.rooms[("local", "room-1")].state.seq == joined["seq"] == 0
    mine = create_op(text="on a, from far behind")
    await alice.send(mine)
    # a's room cannot replay what it missed: it reloads, stores the op after b's, and
    # makes its viewers resync (4009) rather than show them a gap.
    with pytest.raises(ConnectionClosed):
        while True:
            frame = await alice.recv()
            assert frame["type"] in ("presence", "new-image-chat"), frame
    assert alice.ws.close_code == 4009
    again, joined, (snapshot,) = await WsClient.joined(a.url, mint_token("alice"), since=0)
    assert joined["recovered"] is False and joined["seq"] == 301
    assert len(snapshot["chats"]) == 301
    assert snapshot["chats"][-1]["comments"][0]["text"] == "on a, from far behind"
    # The op is stored once: a retry is acknowledged with its seq.
    await again.send(mine)
    assert (await again.recv_type("ack"))["seq"] == 301
    await again.close()
    await bob.close()

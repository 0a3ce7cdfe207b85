"""Redis names: no tenant or room name can reach a node's own channel or another room's."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis
from hypothesis import given
from hypothesis import strategies as st

from imagechat_tui.server.broker import (
    channel_for,
    node_channel,
    presence_key,
    room_of_channel,
)
from tests.wsclient import WsClient, create_op

tenant_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=40)
room_names = st.from_regex(r"[A-Za-z0-9_.:\-/]{1,128}", fullmatch=True)

# Tenants named like the node's own channel segments, rooms named like whole channels.
AWKWARD = [
    ("node", "room-1"),
    ("presence", "room-1"),
    ("room", "room-1"),
    ("imagechat", "room-1"),
    ("local", "node"),
    ("node", "imagechat:node:0123456789abcdef0123456789abcdef"),
    ("presence", "imagechat:room:local:room-1"),
]


@given(tenant_names, room_names)
def test_a_room_channel_names_its_room_and_nothing_else(tenant: str, room: str) -> None:
    channel = channel_for(tenant, room)
    assert room_of_channel(channel) == (tenant, room)
    assert channel not in {node_channel(tenant), node_channel(room)}
    assert room_of_channel(node_channel(tenant)) is None


@given(tenant_names, room_names, tenant_names, room_names)
def test_different_rooms_have_different_channels_and_keys(
    tenant: str, room: str, other_tenant: str, other_room: str
) -> None:
    if (tenant, room) != (other_tenant, other_room):
        assert channel_for(tenant, room) != channel_for(other_tenant, other_room)
        assert presence_key(tenant, room) != presence_key(other_tenant, other_room)


def test_a_tenant_name_with_a_colon_is_refused() -> None:
    with pytest.raises(ValueError, match="':'"):
        channel_for("a:b", "room")


@pytest.mark.parametrize(("tenant", "room"), AWKWARD)
async def test_fan_out_between_nodes_for_awkward_names(
    start, mint_token, pg_url, redis_server, tenant: str, room: str
) -> None:
    # The periodic seq check would deliver a missed event within seconds: turn it off,
    # so that only the Redis channel can carry the event from node A to node B.
    a = await start(database=pg_url, broker=redis_server.url, seq_check_interval=3600)
    b = await start(database=pg_url, broker=redis_server.url, seq_check_interval=3600)
    alice, *_ = await WsClient.joined(a.url, mint_token("alice", tenant=tenant), room=room)
    bob, *_ = await WsClient.joined(b.url, mint_token("bob", tenant=tenant), room=room)
    # Barrier: both nodes are subscribed to the room's channel before anything is sent.
    watcher = aioredis.from_url(redis_server.url)
    try:
        while True:
            ((_, subscribers),) = await watcher.pubsub_numsub(channel_for(tenant, room))
            if subscribers == 2:
                break
            await asyncio.sleep(0.02)
    finally:
        await watcher.aclose()
    await alice.send(create_op(text="over redis"))
    (seen_by_bob,) = await bob.recv_events(1)
    assert seen_by_bob["chat"]["comments"][0]["text"] == "over redis"
    await bob.send(create_op(text="and back"))
    events = await alice.recv_events(2)
    assert [e["chat"]["comments"][0]["text"] for e in events] == ["over redis", "and back"]
    await alice.close()
    await bob.close()

"""Rectangle regions through the protocol: a real server, real WebSocket clients.

A CHAT may carry ``w`` and ``h`` (percent), both or neither, positive, inside the image;
``move`` moves a region whole. Point markers are unchanged.
"""

from __future__ import annotations

import json

import pytest

from tests.wsclient import WsClient, create_op, new_id, update_op


async def test_a_region_reaches_everyone_and_survives_a_restart(start, mint_token) -> None:
    server = await start()
    alice, *_ = await WsClient.joined(server.url, mint_token("alice"))
    bob, *_ = await WsClient.joined(server.url, mint_token("bob"))
    region = create_op(x=10, y=20, w=30.5, h=40, text="this whole area")
    point = create_op(x=5, y=5, text="a pin")
    await alice.send(region)
    await alice.send(point)
    events = await bob.recv_events(2)
    chat = events[0]["chat"]
    assert (chat["x"], chat["y"], chat["w"], chat["h"]) == (10.0, 20.0, 30.5, 40.0)
    # A point marker travels exactly as before regions existed: no w, no h.
    assert "w" not in events[1]["chat"] and "h" not in events[1]["chat"]
    assert len(json.dumps(events[0])) < 1024
    await alice.recv_events(2)
    await server.close()
    restarted = await start()
    _, _, (snapshot,) = await WsClient.joined(restarted.url, mint_token("carol"))
    stored = {c["number"]: c for c in snapshot["chats"]}
    assert (stored[1]["w"], stored[1]["h"]) == (30.5, 40.0)
    assert "w" not in stored[2]
    await alice.close()
    await bob.close()


async def test_a_region_touching_the_far_edges_is_valid(server, mint_token) -> None:
    alice, *_ = await WsClient.joined(server.url, mint_token("alice"))
    # 33.3 + 66.7 is not exactly 100 in binary floating point; it must still fit.
    await alice.send(create_op(x=33.3, y=0, w=66.7, h=100))
    (event,) = await alice.recv_events(1)
    assert event["chat"]["w"] == 66.7 and event["chat"]["h"] == 100.0
    await alice.close()


INVALID_REGIONS = [
    pytest.param({"w": 10}, id="w-without-h"),
    pytest.param({"h": 10}, id="h-without-w"),
    pytest.param({"w": 0, "h": 10}, id="zero-width"),
    pytest.param({"w": 10, "h": 0}, id="zero-height"),
    pytest.param({"w": -5, "h": 10}, id="negative-width"),
    pytest.param({"w": 10, "h": -0.1}, id="negative-height"),
    pytest.param({"x": 80, "w": 20.5, "h": 10}, id="past-the-right-edge"),
    pytest.param({"y": 95, "w": 10, "h": 5.01}, id="past-the-bottom-edge"),
    pytest.param({"w": 100.5, "h": 10, "x": 0}, id="wider-than-the-image"),
    pytest.param({"w": "wide", "h": 10}, id="not-a-number"),
    pytest.param({"w": None, "h": 10}, id="null-width"),
]


@pytest.mark.parametrize("shape", INVALID_REGIONS)
async def test_a_bad_region_is_invalid_and_stores_nothing(server, mint_token, shape) -> None:
    alice, *_ = await WsClient.joined(server.url, mint_token("alice"))
    observer, *_ = await WsClient.joined(server.url, mint_token("observer"))
    op = create_op(**{"x": 10, "y": 10, **shape})
    await alice.send(op)
    error = await alice.recv_type("error")
    assert error["code"] == "invalid" and error["broadcastId"] == op["broadcastId"]
    assert len(error["message"]) > 10
    # Nothing stored, nobody heard: the next op is seq 1 and the observer sees only it.
    await alice.send(create_op(text="still here"))
    (event,) = await alice.recv_events(1)
    assert event["seq"] == 1
    (heard,) = await observer.recv_events(1)
    assert heard["broadcastId"] == event["broadcastId"]
    await alice.close()
    await observer.close()


async def test_move_moves_a_region_whole_and_keeps_it_inside(server, mint_token) -> None:
    alice, *_ = await WsClient.joined(server.url, mint_token("alice"))
    bob, *_ = await WsClient.joined(server.url, mint_token("bob"))
    op = create_op(x=10, y=10, w=20, h=30)
    chat_id = op["chat"]["id"]
    await alice.send(op)
    await bob.recv_events(1)
    await alice.recv_events(1)

    await alice.send(update_op(chat_id, {"kind": "move", "x": 80, "y": 70}))  # exactly fits
    (moved,) = await bob.recv_events(1)
    assert moved["change"] == {"kind": "move", "x": 80.0, "y": 70.0}
    await alice.recv_events(1)

    for x, y in ((80.5, 70), (80, 70.5), (100, 100)):
        bad = update_op(chat_id, {"kind": "move", "x": x, "y": y})
        await alice.send(bad)
        error = await alice.recv_type("error")
        assert error["code"] == "invalid" and error["broadcastId"] == bad["broadcastId"]
    # A move cannot resize: w and h are not part of it.
    resize = update_op(chat_id, {"kind": "move", "x": 0, "y": 0, "w": 5, "h": 5})
    await alice.send(resize)
    assert (await alice.recv_type("error"))["code"] == "invalid"

    _, joined, (snapshot,) = await WsClient.joined(server.url, mint_token("late"))
    (chat,) = snapshot["chats"]
    assert joined["seq"] == 2
    assert (chat["x"], chat["y"], chat["w"], chat["h"]) == (80.0, 70.0, 20.0, 30.0)
    await alice.close()
    await bob.close()


async def test_a_point_marker_still_moves_anywhere(server, mint_token) -> None:
    alice, *_ = await WsClient.joined(server.url, mint_token("alice"))
    op = create_op(x=10, y=10)
    await alice.send(op)
    await alice.recv_events(1)
    await alice.send(update_op(op["chat"]["id"], {"kind": "move", "x": 100, "y": 100}))
    (moved,) = await alice.recv_events(1)
    assert moved["change"]["x"] == 100.0
    await alice.close()


async def test_old_clients_decode_a_region_as_a_pin(server, mint_token) -> None:
    """A client built before regions (its Chat has no w/h) still reads the frame."""
    import msgspec

    class OldChat(msgspec.Struct):
        id: str
        number: int
        x: float
        y: float

    alice, *_ = await WsClient.joined(server.url, mint_token("alice"))
    await alice.send(create_op(x=1, y=2, w=3, h=4, id=new_id()))
    (event,) = await alice.recv_events(1)
    old = msgspec.json.decode(json.dumps(event["chat"]), type=OldChat)
    assert (old.x, old.y) == (1.0, 2.0)
    await alice.close()

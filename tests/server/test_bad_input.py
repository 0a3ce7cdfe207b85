"""Bad input: an error frame with a stable code, the connection stays usable, nothing is
stored and nobody else hears anything."""

from __future__ import annotations

import json

import pytest
from websockets.exceptions import ConnectionClosed

from tests.wsclient import WsClient, create_op, new_id, update_op

CHAT_ID = "00000000-0000-4000-8000-000000000001"


async def _room_with_one_chat(server, mint_token):
    alice, *_ = await WsClient.joined(server.url, mint_token("alice"))
    observer, *_ = await WsClient.joined(server.url, mint_token("observer"))
    await alice.send(create_op(id=CHAT_ID))
    await alice.recv_events(1)
    await observer.recv_events(1)
    return alice, observer


BAD_FRAMES = [
    ("{not json", "bad-json", None),
    ("[1, 2, 3]", "bad-frame", None),
    ('"a string"', "bad-frame", None),
    ('{"broadcastId": "b1"}', "bad-frame", "b1"),
    ('{"op": "explode", "broadcastId": "b2"}', "unknown-op", "b2"),
    ('{"op": 7}', "unknown-op", None),
    (json.dumps(create_op(broadcastId="b3", x="left")), "invalid", "b3"),
    (json.dumps(create_op(broadcastId="b4", x=100.01)), "invalid", "b4"),
    (json.dumps(create_op(broadcastId="b5", y=-0.5)), "invalid", "b5"),
    (
        '{"op":"create","broadcastId":"b6","chat":{"id":"c","x":1e999,"y":1,"text":"t"}}',
        "invalid",
        "b6",
    ),
    (json.dumps(create_op(broadcastId="b7", text="")), "invalid", "b7"),
    (json.dumps(create_op(broadcastId="b8", text="   \n ")), "invalid", "b8"),
    (json.dumps(create_op(broadcastId="b9", text="x" * 2001)), "too-large", "b9"),
    (json.dumps(create_op(broadcastId="b10", colour="red")), "invalid", "b10"),
    (json.dumps({"op": "create", "broadcastId": "b11"}), "invalid", "b11"),
    (json.dumps(update_op("nope", {"kind": "resolve"}, "b12")), "unknown-chat", "b12"),
    (json.dumps(update_op(CHAT_ID, {"kind": "teleport"}, "b13")), "invalid", "b13"),
    (
        json.dumps(
            update_op(CHAT_ID, {"kind": "edit-comment", "commentId": "zz", "text": "t"}, "b14")
        ),
        "unknown-comment",
        "b14",
    ),
    (json.dumps(update_op(CHAT_ID, {"kind": "reopen"}, "b15")), "invalid", "b15"),
    (json.dumps(update_op(CHAT_ID, {"kind": "move", "x": 5, "y": 101}, "b16")), "invalid", "b16"),
    (json.dumps({"op": "delete", "broadcastId": "b17", "chatId": "nope"}), "unknown-chat", "b17"),
    (json.dumps(create_op(broadcastId="b18", id=CHAT_ID)), "duplicate-id", "b18"),
    (json.dumps({"op": "join", "room": "other", "token": "x"}), "already-joined", None),
]


@pytest.mark.parametrize(("frame", "code", "broadcast_id"), BAD_FRAMES)
async def test_bad_frame_gets_error_and_changes_nothing(
    server, mint_token, frame, code, broadcast_id
) -> None:
    alice, observer = await _room_with_one_chat(server, mint_token)
    await alice.send(frame)
    error = await alice.recv_type("error")
    assert error["code"] == code
    assert error["broadcastId"] == broadcast_id
    assert isinstance(error["message"], str) and len(error["message"]) > 10
    # Nothing stored, nothing heard, connection still usable.
    assert await observer.settle() == []
    await alice.send(create_op(text="still here"))
    (event,) = await alice.recv_events(1)
    assert event["seq"] == 2
    _, joined, (snapshot,) = await WsClient.joined(server.url, mint_token("late"))
    assert joined["seq"] == 2 and len(snapshot["chats"]) == 2
    await alice.close()
    await observer.close()


async def test_op_before_join_is_refused_and_join_still_works(server, mint_token) -> None:
    client = await WsClient.open(server.url)
    op = create_op()
    await client.send(op)
    error = await client.recv_type("error")
    assert error["code"] == "not-joined" and error["broadcastId"] == op["broadcastId"]
    await client.send(b"\x00\xff binary")
    assert (await client.recv_type("error"))["code"] == "bad-frame"
    await client.send({"op": "join", "room": "room-1", "token": mint_token("alice")})
    assert (await client.recv_type("joined"))["seq"] == 0
    await client.close()


async def test_binary_frames_after_join_are_refused(server, mint_token) -> None:
    client, *_ = await WsClient.joined(server.url, mint_token("alice"))
    await client.send(json.dumps(create_op()).encode())  # bytes: a binary frame
    assert (await client.recv_type("error"))["code"] == "bad-frame"
    await client.close()


async def test_missing_or_bad_token_is_refused_with_close_code(server, mint_token) -> None:
    client = await WsClient.open(server.url)
    await client.send({"op": "join", "room": "room-1", "token": "not-a-token"})
    assert (await client.recv_type("error"))["code"] == "unauthorized"
    with pytest.raises(ConnectionClosed):
        await client.recv(2)
    assert client.ws.close_code == 4001


async def test_invalid_utf8_text_is_refused(server, mint_token) -> None:
    alice, observer = await _room_with_one_chat(server, mint_token)
    # A text frame with invalid UTF-8 is a protocol violation: websockets closes 1007.
    await alice.ws.send(b'{"op":"create","chat":"\xff"}', text=True)
    with pytest.raises(ConnectionClosed):
        await alice.recv(2)
    assert alice.ws.close_code == 1007
    assert await observer.settle() == []
    await observer.close()


async def test_oversized_frame_closes_with_1009(server, mint_token) -> None:
    alice, observer = await _room_with_one_chat(server, mint_token)
    await alice.send(json.dumps(create_op(text="x" * 200_000)))
    with pytest.raises(ConnectionClosed):
        await alice.recv(2)
    assert alice.ws.close_code == 1009
    assert await observer.settle() == []
    await observer.close()


async def test_first_comment_cannot_be_deleted_but_the_marker_can(server, mint_token) -> None:
    from imagechat_tui.model import first_comment_id

    alice, observer = await _room_with_one_chat(server, mint_token)
    op = update_op(CHAT_ID, {"kind": "delete-comment", "commentId": first_comment_id(CHAT_ID)})
    await alice.send(op)
    assert (await alice.recv_type("error"))["code"] == "invalid"
    await alice.send({"op": "delete", "broadcastId": new_id(), "chatId": CHAT_ID})
    (event,) = await observer.recv_events(1)
    assert event["type"] == "deleted-image-chat"
    await alice.close()
    await observer.close()

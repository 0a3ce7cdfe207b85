"""The room budget on a real server: a member who writes 2,000-character comments
until the room is full gets ``limit-reached``, and a fresh viewer's join stays small."""

from __future__ import annotations

from imagechat_tui.model import DEFAULT_LIMITS
from tests.wsclient import WsClient, create_op, new_id, update_op


async def test_a_room_full_of_long_comments_is_refused_and_its_snapshot_bounded(
    start, mint_token
) -> None:
    server = await start(ops_per_second=1000.0, ops_burst=5000)
    budget = DEFAULT_LIMITS.max_room_bytes
    alice, joined, _ = await WsClient.joined(server.url, mint_token("alice"))
    assert joined["limits"]["maxRoomBytes"] == budget
    text = "w" * 2000
    markers = [new_id() for _ in range(8)]
    for chat_id in markers:
        await alice.send(create_op(text=text, id=chat_id))
    sent = len(markers)
    # Far more than fits: 8 markers x 150 comments of 2,000 characters (~2.5 MB).
    for _ in range(150):
        for chat_id in markers:
            await alice.send(
                update_op(chat_id, {"kind": "comment", "comment": {"id": new_id(), "text": text}})
            )
            sent += 1
    refused: list[dict[str, object]] = []
    stored = 0
    while stored + len(refused) < sent:
        frame = await alice.recv()
        if frame["type"] == "error":
            refused.append(frame)
        elif frame["type"] == "batch":
            stored += len(frame["events"])  # type: ignore[arg-type]
        elif frame["type"] in ("new-image-chat", "image-chat-updated"):
            stored += 1
    assert refused and {f["code"] for f in refused} == {"limit-reached"}
    assert "bytes of comments" in str(refused[0]["message"])
    room = await server.storage.load_room("local", "room-1")
    assert room.size <= budget < room.size + 2000 + 128
    # A fresh viewer downloads about the budget, not everything that was sent.
    viewer, _, [snapshot] = await WsClient.joined(server.url, mint_token("bob"))
    comments = sum(len(c["comments"]) for c in snapshot["chats"])
    assert comments == stored
    assert viewer.bytes_received < 1.5 * budget
    await viewer.close()
    await alice.close()

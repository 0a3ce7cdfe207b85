"""The binary form (imagechat.msgpack.v1) gives back exactly the events it was made from."""

from __future__ import annotations

import uuid
import zlib

import msgspec
import pytest

from imagechat_tui import wire
from imagechat_tui.protocol import (
    Batch,
    Chat,
    Comment,
    CommentAdded,
    CommentDeleted,
    CommentEdited,
    DeletedImageChat,
    Event,
    ImageChatUpdated,
    Move,
    NewImageChat,
    Reopen,
    Resolve,
    Undoable,
    User,
    decode_event,
    encode,
)

ALICE = User(id="alice", name="Alice Liddell")


def uid() -> str:
    return str(uuid.uuid4())


def new_marker(
    text: str = "the shadow is off", broadcast_id: str | None = None, **chat: object
) -> NewImageChat:
    comment = Comment(id=uid(), author=ALICE, text=text, createdAt=1_764_000_000_000)
    fields: dict[str, object] = dict(
        id=uid(), number=7, x=12.5, y=99.25, createdBy=ALICE, createdAt=1_764_000_000_000,
        comments=(comment,),
    )  # fmt: skip
    fields.update(chat)
    return NewImageChat(
        room="design/v2",
        seq=41,
        broadcastId=broadcast_id or uid(),
        chat=Chat(**fields),  # type: ignore[arg-type]
    )


def updated(change: object, chat_id: str | None = None) -> ImageChatUpdated:
    return ImageChatUpdated(
        room="design/v2",
        seq=42,
        broadcastId=uid(),
        chatId=chat_id or uid(),
        change=change,  # type: ignore[arg-type]
    )


EVENTS: list[Event] = [
    new_marker(),
    new_marker("a region, resolved, with an edited reply", w=10.0, h=5.5, resolved=True),
    new_marker("ünïcödé ✓ and\nnewlines"),
    # Ids that are not canonical UUIDs travel as strings, unchanged.
    new_marker(id="marker-1", broadcast_id="ABCDEFAB-1234-1234-1234-ABCDEFABCDEF"),
    NewImageChat(
        room="r",
        seq=1,
        broadcastId="x" * 36,
        chat=Chat(
            id="0123456789abcdef",
            number=1,
            x=0.0,
            y=100.0,
            createdBy=ALICE,
            createdAt=1,
            comments=(),
        ),
    ),
    updated(
        CommentAdded(comment=Comment(id=uid(), author=ALICE, text="reply", createdAt=5, editedAt=9))
    ),
    updated(CommentEdited(commentId=uid(), text="edited", editedAt=10)),
    updated(CommentDeleted(commentId="c-1")),
    updated(CommentDeleted(commentId=uid(), undo=Undoable(by="alice", at=7, until=10_007))),
    updated(
        CommentAdded(comment=Comment(id=uid(), author=ALICE, text="back", createdAt=5), position=1)
    ),
    updated(Resolve()),
    updated(Reopen()),
    updated(Move(x=1.5, y=2.25)),
    DeletedImageChat(room="design/v2", seq=50, broadcastId=uid(), chatId=uid()),
    DeletedImageChat(
        room="r", seq=51, broadcastId=uid(), chatId=uid(), undo=Undoable("bob", 8, 10_008)
    ),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_each_event_comes_back_as_it_was_sent(event: Event) -> None:
    assert wire.decode_frame(wire.encode_events([event])) == event
    # ... and as the same event the JSON text frame gives.
    assert wire.decode_frame(wire.encode_events([event])) == decode_event(encode(event))


def test_a_batch_comes_back_in_order() -> None:
    assert wire.decode_frame(wire.encode_events(EVENTS)) == Batch(events=tuple(EVENTS))


def test_uuids_travel_as_16_raw_bytes() -> None:
    event = new_marker()
    binary = wire.encode_events([event])
    assert uuid.UUID(event.broadcastId).bytes in binary
    assert event.broadcastId.encode() not in binary


def deflated(payload: bytes) -> int:
    """Bytes on the wire as a server without context takeover sends it (frame header
    included, the deflate sync tail removed)."""
    encoder = zlib.compressobj(wbits=-12, memLevel=5)
    return len(encoder.compress(payload) + encoder.flush(zlib.Z_SYNC_FLUSH)) - 4 + 2


def test_a_new_marker_is_small_on_the_wire() -> None:
    """The issue's figure is for bench/fanout.py's marker (at most 150 bytes); a marker
    with longer names takes more, but always well under half the deflated JSON."""
    bench_user = User(id="viewer-12", name="viewer-12")
    comment = Comment(
        id=uid(),
        author=bench_user,
        text="steady 12 t=1764577219123456789",
        createdAt=1_764_577_219_123,
    )
    chat = Chat(
        id=uid(), number=112, x=12.5, y=50.0, createdBy=bench_user, createdAt=1_764_577_219_123,
        comments=(comment,),
    )  # fmt: skip
    bench_marker = NewImageChat(room="bench", seq=112, broadcastId=uid(), chat=chat)
    assert deflated(wire.encode_events([bench_marker])) <= 150
    for event in (bench_marker, new_marker()):
        assert deflated(wire.encode_events([event])) < 0.7 * deflated(encode(event))


def test_an_unknown_id_encoding_is_a_decode_error() -> None:
    frame = wire.DeletedImageChat("r", 1, msgspec.msgpack.Ext(9, b"x" * 16), "c")
    with pytest.raises(msgspec.ValidationError):
        wire.decode_frame(msgspec.msgpack.encode(frame))

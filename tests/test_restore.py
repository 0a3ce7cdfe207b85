"""Undo as a restore (model.py): a delete leaves a tombstone for the undo window, and
``restore`` brings the marker or comment back whole, for every viewer, by events."""

from __future__ import annotations

import uuid

import msgspec

from imagechat_tui.model import (
    Actor,
    Limits,
    Rejection,
    RoomState,
    apply,
    decide,
    tombstone_key,
)
from imagechat_tui.protocol import (
    AddComment,
    ClientOp,
    CreateOp,
    DeleteComment,
    DeleteOp,
    EditComment,
    ErrorCode,
    Event,
    NewChat,
    NewComment,
    Resolve,
    RestoreOp,
    UpdateOp,
    User,
    decode_event,
    encode,
)
from imagechat_tui.wire import decode_frame, encode_events

ROOT = Actor(User("root", "root"))
BOB = Actor(User("bob", "Bob"))
MOD = Actor(User("mod", "Mod"), role="moderator")
LIMITS = Limits(undo_seconds=10)


def bid() -> str:
    return str(uuid.uuid4())


def step(state: RoomState, op: ClientOp, actor: Actor, now: int) -> tuple[RoomState, Event]:
    event = decide(state, op, actor, now, LIMITS)
    assert not isinstance(event, Rejection), event
    return apply(state, event), event


def reviewed_room() -> RoomState:
    """#1 by root with Bob's edited reply and root's reply, resolved; #2 by root."""
    state = RoomState(room="r")
    state, _ = step(
        state, CreateOp(broadcastId=bid(), chat=NewChat(id="m1", x=5, y=6, text="a")), ROOT, 1_000
    )
    for cid, who, at in (("bob-1", BOB, 2_000), ("root-2", ROOT, 3_000)):
        add = AddComment(comment=NewComment(id=cid, text=f"by {who.user.name}"))
        state, _ = step(state, UpdateOp(broadcastId=bid(), chatId="m1", change=add), who, at)
    edit = EditComment(commentId="bob-1", text="by Bob, edited")
    state, _ = step(state, UpdateOp(broadcastId=bid(), chatId="m1", change=edit), BOB, 4_000)
    state, _ = step(state, UpdateOp(broadcastId=bid(), chatId="m1", change=Resolve()), ROOT, 5_000)
    state, _ = step(
        state, CreateOp(broadcastId=bid(), chat=NewChat(id="m2", x=1, y=1, text="b")), ROOT, 6_000
    )
    return state


def test_a_restored_marker_is_the_marker_that_was_deleted() -> None:
    before = reviewed_room()
    state, deleted = step(before, DeleteOp(broadcastId=bid(), chatId="m1"), ROOT, 10_000)
    assert "m1" not in state.chats and tombstone_key("m1") in state.tombstones
    after, restored = step(state, RestoreOp(broadcastId=bid(), chatId="m1"), ROOT, 15_000)
    # Same number, ids, authors, times, edit and resolved state; back in number order.
    assert after.chats["m1"] == before.chats["m1"]
    assert list(after.chats) == ["m1", "m2"] and after.next_number == 3
    bob = after.chats["m1"].comments[1]
    assert (bob.author, bob.createdAt, bob.editedAt) == (BOB.user, 2_000, 4_000)
    assert not after.tombstones
    # Bob may still edit his own reply: it is his.
    edit = UpdateOp(broadcastId=bid(), chatId="m1", change=EditComment(commentId="bob-1", text="x"))
    assert not isinstance(decide(after, edit, BOB, 16_000, LIMITS), Rejection)
    # Another viewer folds the same events (as sent, JSON and msgpack) to the same room.
    for wire in (lambda e: decode_event(encode(e)), lambda e: decode_frame(encode_events([e]))):
        theirs = apply(apply(before, wire(deleted)), wire(restored))  # type: ignore[arg-type]
        assert theirs.chats == after.chats


def test_a_restored_comment_comes_back_in_its_place() -> None:
    before = reviewed_room()
    delete = UpdateOp(broadcastId=bid(), chatId="m1", change=DeleteComment(commentId="bob-1"))
    state, _ = step(before, delete, BOB, 10_000)
    assert [c.id for c in state.chats["m1"].comments][1:] == ["root-2"]
    restore = RestoreOp(broadcastId=bid(), chatId="m1", commentId="bob-1")
    after, _ = step(state, restore, BOB, 12_000)
    assert after.chats["m1"] == before.chats["m1"]


def test_after_the_window_it_is_gone_for_good() -> None:
    state, _ = step(reviewed_room(), DeleteOp(broadcastId=bid(), chatId="m1"), ROOT, 10_000)
    late = decide(state, RestoreOp(broadcastId=bid(), chatId="m1"), ROOT, 20_000, LIMITS)
    assert isinstance(late, Rejection) and late.code == ErrorCode.UNKNOWN_CHAT
    assert "can no longer be restored" in late.message and "10 s" in late.message
    # The next event after the window drops the tombstone (and so its stored row).
    add = AddComment(comment=NewComment(id="later", text="later"))
    state, _ = step(state, UpdateOp(broadcastId=bid(), chatId="m2", change=add), ROOT, 20_001)
    assert not state.tombstones


def test_only_whoever_deleted_it_or_a_moderator_may_restore() -> None:
    state = RoomState(room="r")
    state, _ = step(
        state, CreateOp(broadcastId=bid(), chat=NewChat(id="b1", x=1, y=1, text="spam")), BOB, 1
    )
    state, _ = step(state, DeleteOp(broadcastId=bid(), chatId="b1"), MOD, 2)
    refused = decide(state, RestoreOp(broadcastId=bid(), chatId="b1"), BOB, 3, LIMITS)
    assert isinstance(refused, Rejection) and refused.code == ErrorCode.FORBIDDEN
    assert not isinstance(
        decide(state, RestoreOp(broadcastId=bid(), chatId="b1"), MOD, 3, LIMITS), Rejection
    )


def test_a_comment_of_a_deleted_marker_waits_for_its_marker() -> None:
    state = reviewed_room()
    delete = UpdateOp(broadcastId=bid(), chatId="m1", change=DeleteComment(commentId="bob-1"))
    state, _ = step(state, delete, BOB, 10_000)
    state, _ = step(state, DeleteOp(broadcastId=bid(), chatId="m1"), ROOT, 10_001)
    restore = RestoreOp(broadcastId=bid(), chatId="m1", commentId="bob-1")
    refused = decide(state, restore, BOB, 10_002, LIMITS)
    assert isinstance(refused, Rejection) and "restore the marker first" in refused.message
    state, _ = step(state, RestoreOp(broadcastId=bid(), chatId="m1"), ROOT, 10_003)
    state, _ = step(state, restore, BOB, 10_004)
    assert [c.id for c in state.chats["m1"].comments][1:] == ["bob-1", "root-2"]


def test_a_new_marker_cannot_take_a_tombstones_id() -> None:
    state, _ = step(reviewed_room(), DeleteOp(broadcastId=bid(), chatId="m1"), ROOT, 10_000)
    again = CreateOp(broadcastId=bid(), chat=NewChat(id="m1", x=1, y=1, text="again"))
    refused = decide(state, again, ROOT, 10_001, LIMITS)
    assert isinstance(refused, Rejection) and refused.code == ErrorCode.DUPLICATE_ID


def test_with_no_window_a_delete_leaves_nothing() -> None:
    event = decide(
        reviewed_room(), DeleteOp(broadcastId=bid(), chatId="m1"), ROOT, 1, Limits(undo_seconds=0)
    )
    assert not isinstance(event, Rejection)
    assert not apply(reviewed_room(), event).tombstones
    assert b"undo" not in encode(event)  # the frame is as before


def test_a_tombstone_survives_encoding() -> None:
    state, _ = step(reviewed_room(), DeleteOp(broadcastId=bid(), chatId="m1"), ROOT, 10_000)
    stone = state.tombstones["m1"]
    assert msgspec.json.decode(msgspec.json.encode(stone), type=type(stone)) == stone

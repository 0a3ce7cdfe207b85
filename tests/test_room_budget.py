"""A room's budget of comments (``Limits.max_room_bytes``): the rule, as pure code."""

from __future__ import annotations

import uuid

from imagechat_tui.model import (
    COMMENT_CHARGE,
    Actor,
    Limits,
    Rejection,
    RoomState,
    apply,
    comment_bytes,
    decide,
)
from imagechat_tui.protocol import (
    AddComment,
    CreateOp,
    DeleteComment,
    DeleteOp,
    EditComment,
    NewChat,
    NewComment,
    RestoreOp,
    UpdateOp,
    User,
)

ALICE = Actor(User("alice", "Alice"))


def _bid() -> str:
    return str(uuid.uuid4())


def _run(state: RoomState, op: object, limits: Limits, now: int = 1000) -> RoomState:
    event = decide(state, op, ALICE, now, limits)  # type: ignore[arg-type]
    assert not isinstance(event, Rejection), event
    return apply(state, event)


def _refused(state: RoomState, op: object, limits: Limits) -> Rejection:
    event = decide(state, op, ALICE, 1000, limits)  # type: ignore[arg-type]
    assert isinstance(event, Rejection)
    return event


def test_a_comment_costs_its_utf8_bytes_and_a_charge() -> None:
    assert comment_bytes("hi") == 2 + COMMENT_CHARGE
    assert comment_bytes("é") == 2 + COMMENT_CHARGE


def test_the_budget_refuses_what_would_pass_it_and_apply_keeps_the_count() -> None:
    limits = Limits(max_room_bytes=3 * (COMMENT_CHARGE + 100))
    state = _run(RoomState(room="r"), CreateOp(_bid(), NewChat("c1", 1, 1, "a" * 100)), limits)
    for i in range(2):
        add = AddComment(NewComment(f"k{i}", "b" * 100))
        state = _run(state, UpdateOp(_bid(), "c1", add), limits)
    assert state.size == limits.max_room_bytes
    full = _refused(state, UpdateOp(_bid(), "c1", AddComment(NewComment("k9", "x"))), limits)
    assert full.code == "limit-reached" and "bytes of comments" in full.message
    assert _refused(state, CreateOp(_bid(), NewChat("c2", 1, 1, "x")), limits).code == (
        "limit-reached"
    )
    # Growing an edit is refused; shrinking one frees room; the count is what a fresh
    # state built from the chats counts.
    assert _refused(state, UpdateOp(_bid(), "c1", EditComment("k0", "b" * 101)), limits)
    state = _run(state, UpdateOp(_bid(), "c1", EditComment("k0", "b" * 40)), limits)
    assert state.size == RoomState(room="r", chats=state.chats).size
    state = _run(state, UpdateOp(_bid(), "c1", EditComment("k0", "d" * 100)), limits)
    assert state.size == limits.max_room_bytes


def test_deletes_free_the_budget_and_a_restore_must_fit_again() -> None:
    limits = Limits(max_room_bytes=2 * (COMMENT_CHARGE + 10), undo_seconds=10)
    state = _run(RoomState(room="r"), CreateOp(_bid(), NewChat("c1", 1, 1, "a" * 10)), limits)
    state = _run(state, UpdateOp(_bid(), "c1", AddComment(NewComment("k1", "b" * 10))), limits)
    state = _run(state, UpdateOp(_bid(), "c1", DeleteComment("k1")), limits)
    assert state.size == COMMENT_CHARGE + 10
    state = _run(state, CreateOp(_bid(), NewChat("c2", 1, 1, "c" * 10)), limits)
    # The deleted comment cannot come back while the room is full ...
    restore = RestoreOp(broadcastId=_bid(), chatId="c1", commentId="k1")
    assert _refused(state, restore, limits).code == "limit-reached"
    # ... and deleting a whole marker gives back all its comments.
    state = _run(state, DeleteOp(_bid(), "c2"), limits)
    assert state.size == COMMENT_CHARGE + 10
    state = _run(state, restore, limits)
    assert state.size == limits.max_room_bytes


def test_zero_means_no_room_budget() -> None:
    limits = Limits(max_room_bytes=0)
    state = _run(RoomState(room="r"), CreateOp(_bid(), NewChat("c1", 1, 1, "a" * 2000)), limits)
    assert state.size == comment_bytes("a" * 2000)

"""Undo as a restore, stored: a delete's tombstone is kept in the database for the undo
window (a restart loses nothing), a restore brings the marker back whole, and after the
window the row is gone. Against a real SQLite file and a real PostgreSQL database."""

from __future__ import annotations

from imagechat_tui.model import Actor, Limits, Rejection, RoomState, decide, fold
from imagechat_tui.protocol import (
    AddComment,
    ClientOp,
    CreateOp,
    DeleteComment,
    DeleteOp,
    EditComment,
    Event,
    NewChat,
    NewComment,
    RestoreOp,
    UpdateOp,
    User,
)
from imagechat_tui.server.storage import Decision, Storage
from tests.server.storage.test_contract import OpenStorage, database, open_db

__all__ = ["database", "open_db"]  # the fixtures, shared with the main contract suite

ROOT = Actor(User("root", "root"))
BOB = Actor(User("bob", "Bob"))
LIMITS = Limits(undo_seconds=10)
_n = 0


async def commit(db: Storage, state: RoomState, op: ClientOp, who: Actor, now: int) -> RoomState:
    def decide_batch(state: RoomState, known: dict[str, int]) -> Decision[None]:
        outcome = decide(state, op, who, now, LIMITS)
        assert not isinstance(outcome, Rejection), outcome
        events: list[Event] = [outcome]
        return Decision(fold(state, events).state, events, None)

    result = await db.commit("t", state.room, state, [op.broadcastId], decide_batch)
    return result.state


def bid() -> str:
    global _n
    _n += 1
    return f"b{_n}"


async def test_a_deleted_marker_waits_in_the_database_and_comes_back_whole(
    open_db: OpenStorage,
) -> None:
    db = await open_db()
    state = RoomState(room="r")
    state = await commit(
        db,
        state,
        CreateOp(broadcastId=bid(), chat=NewChat(id="m1", x=1, y=2, text="a")),
        ROOT,
        1_000,
    )
    reply = AddComment(comment=NewComment(id="bob-1", text="b"))
    state = await commit(
        db, state, UpdateOp(broadcastId=bid(), chatId="m1", change=reply), BOB, 2_000
    )
    edit = EditComment(commentId="bob-1", text="b, edited")
    state = await commit(
        db, state, UpdateOp(broadcastId=bid(), chatId="m1", change=edit), BOB, 3_000
    )
    whole = state.chats["m1"]
    state = await commit(db, state, DeleteOp(broadcastId=bid(), chatId="m1"), ROOT, 4_000)
    # Another process (or this one, restarted) finds the tombstone in the database.
    other = await open_db()
    loaded = await other.load_room("t", "r")
    assert loaded == state and loaded.tombstones["m1"].chat == whole
    restored = await commit(other, loaded, RestoreOp(broadcastId=bid(), chatId="m1"), ROOT, 5_000)
    assert restored.chats["m1"] == whole and not restored.tombstones
    assert await db.load_room("t", "r") == restored


async def test_after_the_window_the_deleted_comment_is_gone_from_the_database(
    open_db: OpenStorage,
) -> None:
    db = await open_db()
    state = RoomState(room="r")
    state = await commit(
        db,
        state,
        CreateOp(broadcastId=bid(), chat=NewChat(id="m1", x=1, y=2, text="a")),
        ROOT,
        1_000,
    )
    reply = AddComment(comment=NewComment(id="secret", text="a password"))
    state = await commit(
        db, state, UpdateOp(broadcastId=bid(), chatId="m1", change=reply), BOB, 2_000
    )
    gone = DeleteComment(commentId="secret")
    state = await commit(
        db, state, UpdateOp(broadcastId=bid(), chatId="m1", change=gone), BOB, 3_000
    )
    assert "m1/secret" in (await db.load_room("t", "r")).tombstones
    later = AddComment(comment=NewComment(id="later", text="later"))
    state = await commit(
        db, state, UpdateOp(broadcastId=bid(), chatId="m1", change=later), ROOT, 13_000
    )
    stored = await (await open_db()).load_room("t", "r")
    assert stored.tombstones == {} and stored == state

"""The storage contract, run against the real SQLite file (and PostgreSQL in tests/scale)."""

from __future__ import annotations

from pathlib import Path

from imagechat_tui.model import Actor, RoomState, apply, decide
from imagechat_tui.protocol import CreateOp, NewChat, User
from imagechat_tui.server.storage import Storage, open_storage

ALICE = Actor(User("alice", "Alice"))


def _create(chat_id: str) -> CreateOp:
    return CreateOp(broadcastId=f"b-{chat_id}", chat=NewChat(id=chat_id, x=1, y=2, text="hi"))


async def check_refused_ops_leave_no_trace(storage: Storage) -> None:
    """A batch whose ops are all refused (or retries) writes nothing, not even the room."""
    nothing = await storage.commit(
        "t", "empty", RoomState(room="empty"), ["b1"], lambda s, k: (s, [])
    )
    assert nothing.committed == [] and nothing.state.seq == 0
    assert await storage.room_count("t") == 0

    def create_one(state: RoomState, known: dict[str, int]) -> tuple[RoomState, list]:
        event = decide(state, _create("c1"), ALICE, 1)
        return apply(state, event), [event]  # type: ignore[arg-type]

    done = await storage.commit("t", "real", RoomState(room="real"), ["b-c1"], create_one)
    assert [s.event.seq for s in done.committed] == [1]
    assert await storage.room_count("t") == 1
    # A retry of the same op is recognised from the log and writes nothing.
    seen: dict[str, int] = {}

    def retry(state: RoomState, known: dict[str, int]) -> tuple[RoomState, list]:
        seen.update(known)
        return state, []

    await storage.commit("t", "real", done.state, ["b-c1"], retry)
    assert seen == {"b-c1": 1}
    assert (await storage.load_room("t", "real")).seq == 1


async def test_sqlite_refused_ops_leave_no_trace(tmp_path: Path) -> None:
    storage = open_storage(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    await storage.open()
    try:
        await check_refused_ops_leave_no_trace(storage)
    finally:
        await storage.close()

"""The storage contract: every test here runs, unchanged, against a real SQLite file and a
real throwaway PostgreSQL database (tests/services.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from imagechat_tui.model import Actor, Rejection, RoomState, decide, fold
from imagechat_tui.protocol import (
    AddComment,
    ClientOp,
    CreateOp,
    DeleteOp,
    Event,
    NewChat,
    NewComment,
    UpdateOp,
    User,
    decode_event,
    encode,
)
from imagechat_tui.server.storage import (
    Decision,
    Storage,
    Usage,
    open_storage,
)
from imagechat_tui.server.storage.schema import latest_version

ALICE = Actor(User("alice", "Alice"))
Answers = list[int | str]  # per op: the seq it was stored at, or why it was refused
OpenStorage = Callable[..., Awaitable[Storage]]


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a fresh, empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db.sqlite3'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
async def open_db(database: str) -> AsyncIterator[OpenStorage]:
    """Open storages on the test's database (several: as several server processes)."""
    opened: list[Storage] = []

    async def open_one(retention: int = 10_000) -> Storage:
        storage = open_storage(database, retention=retention)
        await storage.open()
        opened.append(storage)
        return storage

    yield open_one
    for storage in opened:
        await storage.close()


@pytest.fixture
async def db(open_db: OpenStorage) -> Storage:
    return await open_db()


def create(chat_id: str | None = None, text: str = "hi") -> CreateOp:
    chat_id = chat_id or str(uuid.uuid4())
    return CreateOp(broadcastId=f"b-{chat_id}", chat=NewChat(id=chat_id, x=1, y=2, text=text))


def comment(chat_id: str, text: str) -> UpdateOp:
    return UpdateOp(
        broadcastId=str(uuid.uuid4()),
        chatId=chat_id,
        change=AddComment(comment=NewComment(id=str(uuid.uuid4()), text=text)),
    )


def deciding(ops: list[ClientOp]) -> Callable[[RoomState, dict[str, int]], Decision[Answers]]:
    """A batch decider as the room writes one: ops already in the log are answered with
    their seq, refused ones with the reason."""

    def decide_batch(state: RoomState, known: dict[str, int]) -> Decision[Answers]:
        answers: Answers = []
        events: list[Event] = []
        for op in ops:
            if op.broadcastId in known:
                answers.append(known[op.broadcastId])
                continue
            outcome = decide(state, op, ALICE, 1)
            if isinstance(outcome, Rejection):
                answers.append(outcome.code)
                continue
            state = fold(state, [outcome]).state
            events.append(outcome)
            answers.append(outcome.seq)
        return Decision(state, events, answers)

    return decide_batch


async def commit(
    db: Storage, state: RoomState, ops: list[ClientOp], tenant: str = "t"
) -> tuple[RoomState, Answers]:
    result = await db.commit(
        tenant, state.room, state, [op.broadcastId for op in ops], deciding(ops)
    )
    return result.state, result.answers


async def test_a_fresh_database_is_migrated_to_the_latest_schema(
    db: Storage, open_db: OpenStorage
) -> None:
    latest = latest_version(db.dialect)
    assert latest >= 1
    assert db.migrated == (0, latest)
    assert await db.schema_version() == latest
    again = await open_db()  # opening again finds nothing to do
    assert again.migrated == (latest, latest)


async def test_a_room_never_written_is_empty(db: Storage) -> None:
    assert await db.load_room("t", "nothing") == RoomState(room="nothing")
    assert await db.events_since("t", "nothing", 0, 0) == []
    assert await db.events_since("t", "nothing", 3, 5) is None  # a seq it never had
    assert await db.room_seqs([("t", "nothing")]) == {}
    assert await db.room_count("t") == 0


async def test_commit_stores_events_and_state_and_returns_the_answers(db: Storage) -> None:
    first, second = create("c1"), create("c2")
    refused = DeleteOp(broadcastId="b-gone", chatId="no-such-marker")
    state, answers = await commit(db, RoomState(room="r"), [first, refused, second])
    assert answers == [1, "unknown-chat", 2]
    assert state.seq == 2 and list(state.chats) == ["c1", "c2"]
    assert await db.load_room("t", "r") == state
    log = await db.events_since("t", "r", 0, 2)
    assert log is not None
    assert [decode_event(data).broadcastId for data in log] == ["b-c1", "b-c2"]
    assert await db.events_since("t", "r", 1, 2) == log[1:]
    assert await db.events_since("t", "r", 2, 2) == []
    assert await db.room_seqs([("t", "r"), ("t", "other"), ("u", "r")]) == {("t", "r"): 2}
    assert await db.room_count("t") == 1 and await db.room_count("u") == 0
    # Changes to a chat and its deletion reach the stored state.
    state, answers = await commit(db, state, [comment("c1", "more"), DeleteOp("b-d", "c2")])
    assert answers == [3, 4]
    loaded = await db.load_room("t", "r")
    assert loaded == state and list(loaded.chats) == ["c1"]
    assert [c.text for c in loaded.chats["c1"].comments] == ["hi", "more"]


async def test_refused_ops_leave_no_trace(db: Storage) -> None:
    """A batch whose ops are all refused (or retries) writes nothing, not even the room."""
    refused = DeleteOp(broadcastId="b1", chatId="no-such-marker")
    state, answers = await commit(db, RoomState(room="empty"), [refused])
    assert answers == ["unknown-chat"] and state.seq == 0
    assert await db.room_count("t") == 0
    op = create("c1")
    state, answers = await commit(db, RoomState(room="real"), [op])
    assert answers == [1]
    # A retry of the same op is recognised from the log and writes nothing.
    again, answers = await commit(db, state, [op])
    assert answers == [1] and again == state
    assert (await db.load_room("t", "real")).seq == 1


async def test_rooms_and_tenants_are_separate(db: Storage) -> None:
    await commit(db, RoomState(room="r"), [create("c1")], tenant="t")
    await commit(db, RoomState(room="r"), [create("c1")], tenant="u")
    assert (await db.load_room("t", "r")).seq == 1
    assert (await db.load_room("u", "r")).seq == 1
    assert await db.room_seqs([("t", "r"), ("u", "r")]) == {("t", "r"): 1, ("u", "r"): 1}


async def test_a_commit_from_behind_folds_in_what_another_process_stored(
    open_db: OpenStorage,
) -> None:
    a, b = await open_db(), await open_db()
    state_a, _ = await commit(a, RoomState(room="r"), [create("c1")])
    state_b = await b.load_room("t", "r")
    state_a, _ = await commit(a, state_a, [create("c2"), create("c3")])
    # b still believes the room is at seq 1.
    result = await b.commit("t", "r", state_b, ["b-c4"], deciding([create("c4")]))
    assert [s.event.broadcastId for s in result.caught_up] == ["b-c2", "b-c3"]
    assert [s.data for s in result.caught_up] == (await a.events_since("t", "r", 1, 3))
    assert not result.reloaded
    assert result.answers == [4] and result.state == await a.load_room("t", "r")
    # A retry through the process that is behind is still recognised.
    again = await b.commit("t", "r", state_b, ["b-c2"], deciding([create("c2")]))
    assert again.answers == [2] and again.committed == []


async def test_a_commit_from_behind_the_retained_log_reloads_the_room(
    open_db: OpenStorage,
) -> None:
    """The log keeps ``retention`` events; a process whose state is older than that
    starts again from the stored state, says so, and commits after it."""
    a, b = await open_db(retention=10), await open_db(retention=10)
    stale, _ = await commit(a, RoomState(room="r"), [create("c0")])
    state = stale
    for _ in range(3):  # enough events for the log to be pruned
        state, _ = await commit(b, state, [create() for _ in range(150)])
    assert await b.events_since("t", "r", stale.seq, state.seq) is None  # pruned
    result = await a.commit("t", "r", stale, ["b-new"], deciding([create("new")]))
    assert result.reloaded and result.caught_up == []
    assert result.answers == [state.seq + 1]
    assert result.state == await a.load_room("t", "r")
    assert len(result.state.chats) == 452
    # The log still serves what it kept, and the newest event is in it.
    kept = await a.events_since("t", "r", state.seq - 10, result.state.seq)
    assert kept is not None and len(kept) == 11


async def test_a_state_ahead_of_the_database_is_replaced_by_the_stored_one(
    open_db: OpenStorage,
) -> None:
    """A state with a seq the database never had (it was wiped or replaced)."""
    db = await open_db()
    await commit(db, RoomState(room="r"), [create("c1")])
    imagined = RoomState(room="r", seq=7, next_number=8)
    result = await db.commit("t", "r", imagined, ["b-c2"], deciding([create("c2")]))
    assert result.reloaded and result.answers == [2]
    assert list(result.state.chats) == ["c1", "c2"]


async def test_the_log_is_pruned_past_retention(open_db: OpenStorage) -> None:
    db = await open_db(retention=10)
    state, _ = await commit(db, RoomState(room="r"), [create() for _ in range(200)])
    # Pruning is amortised: nothing goes before the log exceeds retention by a margin.
    assert await db.events_since("t", "r", 0, 200) is not None
    state, _ = await commit(db, state, [create() for _ in range(100)])
    assert await db.events_since("t", "r", 0, 300) is None
    assert await db.events_since("t", "r", 289, 300) is None
    assert len((await db.events_since("t", "r", 290, 300)) or []) == 10
    assert (await db.load_room("t", "r")) == state  # the state itself is whole


async def test_stored_bytes_are_the_encoded_events(db: Storage) -> None:
    result = await db.commit("t", "r", RoomState(room="r"), ["b-c1"], deciding([create("c1")]))
    (stored,) = result.committed
    assert stored.data == encode(stored.event)
    assert await db.events_since("t", "r", 0, 1) == [stored.data]


async def test_usage_adds_up(db: Storage) -> None:
    assert await db.usage() == {}
    await db.add_usage({})
    await db.add_usage({"t": Usage(2, 100), "u": Usage(1, 10)})
    await db.add_usage({"t": Usage(3, 50)})
    assert await db.usage() == {"t": Usage(5, 150), "u": Usage(1, 10)}


async def test_a_batch_that_fails_midway_stores_nothing(db: Storage) -> None:
    def fails(state: RoomState, known: dict[str, int]) -> Decision[Answers]:
        raise RuntimeError("a bug while deciding")

    with pytest.raises(RuntimeError, match="a bug while deciding"):
        await db.commit("t", "r", RoomState(room="r"), ["b-c1"], fails)
    assert await db.room_count("t") == 0  # rolled back, room row included
    state, answers = await commit(db, RoomState(room="r"), [create("c1")])
    assert answers == [1] and state.seq == 1  # and the storage goes on working

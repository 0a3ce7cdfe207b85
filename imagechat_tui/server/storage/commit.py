"""The batch commit, once for every database: catch up, find the known broadcasts, decide,
encode, write.

``commit_steps`` is the algorithm, free of I/O (as websockets' protocol is beside its
connection): a generator that yields each thing it needs from the database as a ``Step``
and is sent the answer. A dialect provides only those few statements (``CommitSql``,
inside the transaction its storage opened), and a driver runs the steps against it:
``run`` for a blocking connection (SQLite, on its thread), ``run_async`` for an asyncio
one (PostgreSQL). Beginning, committing and rolling back (and, for PostgreSQL, learning
the outcome of a commit whose connection dropped) stay with each storage.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from imagechat_tui.model import RoomState
from imagechat_tui.protocol import encode
from imagechat_tui.server.storage import (
    A,
    CommitResult,
    DecideBatch,
    StoredEvent,
    affected_chat_ids,
    fold_log,
)


@dataclass(frozen=True, slots=True)
class BatchWrite:
    """Everything one commit writes, in rows: the storage's SQL only inserts them."""

    events: list[tuple[int, str, bytes]]  # (seq, broadcast_id, data), in seq order
    chats: list[tuple[str, int, bytes]]  # (chat_id, number, data) to insert or replace
    deleted_chats: list[str]  # chat ids whose row goes
    tombstones: list[tuple[str, int, bytes]]  # (key, until, data) to insert or replace
    dropped_tombstones: list[str]  # keys whose tombstone goes (restored, or expired)
    prune_through: int | None  # delete the log's events with seq <= this; None: keep
    seq: int  # the room row's new seq, next_number and pruned_through
    next_number: int
    pruned_through: int


# What the algorithm asks of the database, in the order it may ask it.
@dataclass(frozen=True, slots=True)
class LockRoom:
    """Lock the room's row for the transaction, creating it if missing -> (seq, pruned)."""


@dataclass(frozen=True, slots=True)
class ReadLog:
    """The log's encoded events with seq > ``after``, in order -> Iterable[bytes]."""

    after: int


@dataclass(frozen=True, slots=True)
class LoadRoom:
    """The stored state of the room -> RoomState."""


@dataclass(frozen=True, slots=True)
class KnownBroadcasts:
    """Which of ``ids`` the log holds -> {broadcastId: seq}."""

    ids: list[str]


@dataclass(frozen=True, slots=True)
class Write:
    """Store the batch -> None."""

    batch: BatchWrite


Step = LockRoom | ReadLog | LoadRoom | KnownBroadcasts | Write
CommitSteps = Generator[Step, Any, CommitResult[A]]


class CommitSql(Protocol):
    """A dialect's statements for one room, inside the transaction its storage opened."""

    def lock_room(self) -> tuple[int, int]: ...
    def read_log(self, after: int) -> Iterable[bytes]: ...
    def load_room(self) -> RoomState: ...
    def known_broadcasts(self, ids: list[str]) -> dict[str, int]: ...
    def write(self, batch: BatchWrite) -> None: ...


class AsyncCommitSql(Protocol):
    """``CommitSql`` for an asyncio driver."""

    async def lock_room(self) -> tuple[int, int]: ...
    async def read_log(self, after: int) -> Iterable[bytes]: ...
    async def load_room(self) -> RoomState: ...
    async def known_broadcasts(self, ids: list[str]) -> dict[str, int]: ...
    async def write(self, batch: BatchWrite) -> None: ...


def commit_steps(
    state: RoomState,
    broadcast_ids: list[str],
    decide: DecideBatch[A],
    pruned_through: Callable[[int, int], int],
) -> CommitSteps[A]:
    """The commit of one batch (``Storage.commit``'s contract), as steps. Nothing is
    written when ``decide`` makes no event: the storage then rolls back (``committed``
    is empty), leaving no trace, not even the room's row."""
    db_seq, pruned = yield LockRoom()
    caught_up: list[StoredEvent] = []
    reloaded = False
    if db_seq != state.seq:  # another process or node wrote to this room meanwhile
        folded = None
        if pruned <= state.seq < db_seq:
            log: Iterable[bytes] = yield ReadLog(state.seq)
            folded = fold_log(state, log)
        if folded is not None and not folded.gap and folded.state.seq == db_seq:
            state, caught_up = folded.state, folded.applied
        else:  # the log no longer reaches back to it: start from the stored state
            state, reloaded = (yield LoadRoom()), True
    known: dict[str, int] = (yield KnownBroadcasts(broadcast_ids)) if broadcast_ids else {}
    decision = decide(state, known)
    new_state, events = decision.state, decision.events
    stored = [StoredEvent(event, encode(event)) for event in events]
    if stored:
        chats: list[tuple[str, int, bytes]] = []
        deleted: list[str] = []
        for chat_id in sorted(affected_chat_ids(events)):
            chat = new_state.chats.get(chat_id)
            if chat is None:
                deleted.append(chat_id)
            else:
                chats.append((chat_id, chat.number, encode(chat)))
        before, after = state.tombstones, new_state.tombstones
        stones = [
            (key, stone.undo.until, encode(stone))
            for key, stone in after.items()
            if before.get(key) is not stone
        ]
        dropped = [key for key in before if key not in after]
        prune = pruned_through(new_state.seq, pruned)
        yield Write(
            BatchWrite(
                events=[(s.event.seq, s.event.broadcastId, s.data) for s in stored],
                chats=chats,
                deleted_chats=deleted,
                tombstones=stones,
                dropped_tombstones=dropped,
                prune_through=prune if prune != pruned else None,
                seq=new_state.seq,
                next_number=new_state.next_number,
                pruned_through=prune,
            )
        )
    return CommitResult(
        new_state, decision.answers, committed=stored, caught_up=caught_up, reloaded=reloaded
    )


def run(steps: CommitSteps[A], sql: CommitSql) -> CommitResult[A]:
    """Drive ``steps`` with a blocking connection."""
    answer: Any = None
    while True:
        try:
            step = steps.send(answer)
        except StopIteration as done:
            result: CommitResult[A] = done.value
            return result
        answer = _ask(step, sql)


async def run_async(steps: CommitSteps[A], sql: AsyncCommitSql) -> CommitResult[A]:
    """Drive ``steps`` with an asyncio connection."""
    answer: Any = None
    while True:
        try:
            step = steps.send(answer)
        except StopIteration as done:
            result: CommitResult[A] = done.value
            return result
        answer = await _ask(step, sql)


def _ask(step: Step, sql: Any) -> Any:
    """The dialect's call for ``step`` (its value, or an awaitable for an async dialect)."""
    match step:
        case LockRoom():
            return sql.lock_room()
        case ReadLog(after):
            return sql.read_log(after)
        case LoadRoom():
            return sql.load_room()
        case KnownBroadcasts(ids):
            return sql.known_broadcasts(ids)
        case Write(batch):
            return sql.write(batch)

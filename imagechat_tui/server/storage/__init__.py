"""Where rooms live between restarts: one contract, one implementation per database.

``Storage`` is the contract: every method the rest of the server calls, with the same
meaning for SQLite and PostgreSQL (tests/server/storage/test_contract.py runs the same
tests against both). The room hub never touches SQL. It hands ``commit`` a pure function
that turns the room's current state into new events; the storage runs that function
inside one transaction (after folding in anything another process committed), stores the
events and the changed chats, and only then returns them, with the function's answers,
for broadcast.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import ClassVar, Generic, NamedTuple, TypeVar

from imagechat_tui.model import Folded, RoomState, fold
from imagechat_tui.protocol import DeletedImageChat, Event, ImageChatUpdated, decode_event
from imagechat_tui.server.storage.sharing import SharingStorage

A = TypeVar("A")


class Decision(NamedTuple, Generic[A]):
    """What a batch of ops did to a room: the new state, the events that led to it, and
    the answers for whoever sent the ops (returned by ``commit`` once stored)."""

    state: RoomState
    events: list[Event]
    answers: A


#: Given the room's current state and which of the batch's broadcastIds the log already
#: holds (broadcastId -> seq), decide the batch. Pure: the storage may run it again.
DecideBatch = Callable[[RoomState, dict[str, int]], Decision[A]]


@dataclass(frozen=True, slots=True)
class StoredEvent:
    event: Event
    data: bytes  # the encoded frame, stored and broadcast byte for byte


@dataclass(slots=True)
class CommitResult(Generic[A]):
    state: RoomState
    answers: A
    committed: list[StoredEvent] = field(default_factory=list)
    caught_up: list[StoredEvent] = field(default_factory=list)  # others' events found first
    #: The given state was behind what the log still holds, so the stored state was
    #: loaded instead: ``caught_up`` is empty and whoever followed the room must resync.
    reloaded: bool = False


class StorageUnavailable(Exception):
    """The database cannot be reached or written; nothing was stored."""


class OutcomeUnknown(Exception):
    """A commit was sent but its outcome could not be learned (the database stayed out
    of reach): the ops may or may not have been stored."""


@dataclass(frozen=True, slots=True)
class Usage:
    messages: int = 0
    bytes: int = 0


#: Seconds per usage bucket: ``add_usage`` adds to the minute it is called in.
BUCKET_SECONDS = 60


def bucket_of(at: float) -> int:
    return int(at) // BUCKET_SECONDS * BUCKET_SECONDS


@dataclass(frozen=True, slots=True)
class UsageBucket:
    """One tenant's usage in one minute, from every node: the frames and bytes written,
    and the connections (each node's peak in the minute, summed over nodes)."""

    tenant: str
    start: int  # Unix seconds, a multiple of BUCKET_SECONDS
    messages: int = 0
    bytes: int = 0
    connections: int = 0


def merge_history(
    traffic: Iterable[tuple[str, int, int, int]], connections: Iterable[tuple[str, int, int]]
) -> list[UsageBucket]:
    """Buckets from (tenant, start, messages, bytes) and (tenant, start, connections summed
    over nodes) rows, by tenant then time: for both dialects."""
    merged: dict[tuple[str, int], UsageBucket] = {}
    for tenant, start, messages, nbytes in traffic:
        merged[(tenant, start)] = UsageBucket(tenant, start, messages, nbytes)
    for tenant, start, count in connections:
        b = merged.get((tenant, start), UsageBucket(tenant, start))
        merged[(tenant, start)] = UsageBucket(tenant, start, b.messages, b.bytes, count)
    return [merged[k] for k in sorted(merged)]


def stored_events(log: Iterable[bytes]) -> Iterable[StoredEvent]:
    """Encoded events from a log, decoded as they are consumed."""
    return (StoredEvent(decode_event(data), data) for data in log)


def fold_log(state: RoomState, log: Iterable[bytes]) -> Folded[StoredEvent]:
    """``model.fold`` over encoded events (a log, a broadcast): old seqs skipped, a gap
    reported, the applied events kept with their bytes."""
    return fold(state, stored_events(log), event=_event_of)


def _event_of(stored: StoredEvent) -> Event:
    return stored.event


def affected_chat_ids(events: Iterable[Event]) -> set[str]:
    """The chats whose stored row the events change (or delete)."""
    return {
        e.chatId if isinstance(e, ImageChatUpdated | DeletedImageChat) else e.chat.id
        for e in events
    }


class Storage(SharingStorage):
    """The storage contract (with shared images and invites, from ``SharingStorage``). Failures to reach or write the database raise
    ``StorageUnavailable`` (nothing was stored), never a driver's own exception."""

    #: The SQL dialect: the folder of ``sql/`` that holds its migrations.
    dialect: ClassVar[str]

    def __init__(self, *, retention: int = 10_000) -> None:
        self.retention = retention  # events kept per room for replays
        #: (version before, version after) of the schema, once ``open`` has migrated it.
        self.migrated: tuple[int, int] | None = None

    #: The log is pruned in steps: only once it holds this many events beyond retention.
    prune_every: ClassVar[int] = 256

    def pruned_through(self, seq: int, pruned: int) -> int:
        """Through which seq a room's log is kept pruned once the room is at ``seq``
        (``pruned``: through which it is pruned now)."""
        if seq - pruned > self.retention + self.prune_every:
            return seq - self.retention
        return pruned

    @abc.abstractmethod
    async def open(self) -> None:
        """Connect, apply pending migrations (setting ``migrated``) and check that the
        database can be written: StorageUnavailable, with the reason, when not."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    async def schema_version(self) -> int:
        """The number of the last migration applied."""

    @abc.abstractmethod
    async def load_room(self, tenant: str, room: str) -> RoomState:
        """The stored state of a room (an empty one if it was never written)."""

    @abc.abstractmethod
    async def room_count(self, tenant: str) -> int:
        """How many rooms the tenant has stored."""

    @abc.abstractmethod
    async def room_seqs(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """The committed ``seq`` of each (tenant, room) that has been written."""

    @abc.abstractmethod
    async def commit(
        self,
        tenant: str,
        room: str,
        state: RoomState,
        broadcast_ids: list[str],
        decide: DecideBatch[A],
    ) -> CommitResult[A]:
        """In one transaction: fold in what the log holds beyond ``state`` (or reload the
        room when the log no longer reaches back to it), run ``decide``, store its events
        (none stored: nothing written, not even the room), prune the log past
        ``retention``. Returns only once the outcome is known: stored, or
        StorageUnavailable when nothing was (OutcomeUnknown if that cannot be learned)."""

    @abc.abstractmethod
    async def events_since(
        self, tenant: str, room: str, since: int, until: int
    ) -> list[bytes] | None:
        """Encoded events with ``since < seq <= until``, or None when the log no longer
        holds all of them (pruned, or ``since`` is not a seq this room ever had)."""

    @abc.abstractmethod
    async def add_usage(self, deltas: dict[str, Usage], *, at: float | None = None) -> None:
        """Add to each tenant's totals and to its bucket for the minute of ``at`` (now by
        default), in one transaction."""

    @abc.abstractmethod
    async def usage(self) -> dict[str, Usage]: ...

    @abc.abstractmethod
    async def record_connections(self, node: str, at: float, counts: dict[str, int]) -> None:
        """This node's joined connections per tenant now: kept as its peak for the minute."""

    @abc.abstractmethod
    async def usage_history(self, since: float, *, tenant: str | None = None) -> list[UsageBucket]:
        """The buckets from the minute of ``since`` on, by tenant then time; a minute with
        only connections or only traffic has zeros for the rest."""

    @abc.abstractmethod
    async def check_writable(self) -> None:
        """StorageUnavailable, with the reason, unless a commit could be written now (the
        readiness probe; writes nothing)."""


def open_storage(url: str, *, retention: int = 10_000) -> Storage:
    """A storage for ``url``: ``sqlite:///PATH`` or ``postgresql://...``."""
    if url.startswith("sqlite:///"):
        from imagechat_tui.server.storage.sqlite import SqliteStorage

        return SqliteStorage(url.removeprefix("sqlite:///"), retention=retention)
    if url.startswith(("postgresql://", "postgres://")):
        try:
            from imagechat_tui.server.storage.postgres import PostgresStorage
        except ImportError as exc:  # the optional 'scale' extra is not installed
            raise ValueError(
                f"PostgreSQL needs the 'scale' extra: pip install 'imagechat-tui[scale]' ({exc})"
            ) from None
        return PostgresStorage(url, retention=retention)
    raise ValueError(f"Unsupported database URL {url!r}: use sqlite:///PATH or postgresql://...")

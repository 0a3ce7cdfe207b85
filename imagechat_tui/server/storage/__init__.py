"""Where rooms live between restarts: one interface, one implementation per database.

The room hub never touches SQL. It hands ``commit`` a pure function that turns the
room's current state into new events; the storage runs that function inside one
transaction (after catching the state up with anything another node committed), stores
the events and the changed chats, and only then returns them for broadcast.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from imagechat_tui.model import RoomState
from imagechat_tui.protocol import Event

#: Given the room's current state and which of the batch's broadcastIds the log already
#: holds (broadcastId -> seq), return the new state and the events that led to it.
DecideBatch = Callable[[RoomState, dict[str, int]], tuple[RoomState, list[Event]]]


@dataclass(frozen=True, slots=True)
class StoredEvent:
    event: Event
    data: bytes  # the encoded frame, stored and broadcast byte for byte


@dataclass(slots=True)
class CommitResult:
    state: RoomState
    committed: list[StoredEvent] = field(default_factory=list)
    caught_up: list[StoredEvent] = field(default_factory=list)  # others' events found first


class StorageUnavailable(Exception):
    """The database cannot be reached; nothing was stored."""


@dataclass(frozen=True, slots=True)
class Usage:
    messages: int = 0
    bytes: int = 0


class Storage(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def load_room(self, tenant: str, room: str) -> RoomState: ...

    async def commit(
        self,
        tenant: str,
        room: str,
        state: RoomState,
        broadcast_ids: list[str],
        decide_batch: DecideBatch,
    ) -> CommitResult: ...

    async def events_since(
        self, tenant: str, room: str, since: int, until: int
    ) -> list[bytes] | None:
        """Encoded events with ``since < seq <= until``, or None when the log no longer
        holds all of them (pruned, or ``since`` is not a seq this room ever had)."""
        ...

    async def add_usage(self, deltas: dict[str, Usage]) -> None: ...

    async def usage(self) -> dict[str, Usage]: ...

    async def room_count(self, tenant: str) -> int: ...


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

"""The embedded default: one SQLite file in WAL mode, used from one dedicated thread.

Every call runs on a single worker thread, so the event loop never blocks on disk and
SQLite never sees two writers from this process. ``synchronous=FULL``: a commit is on
disk before its events are broadcast. Group commit (many ops, one transaction) keeps
that affordable under bursts.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from imagechat_tui.model import RoomState, apply
from imagechat_tui.protocol import Chat, Event, NewImageChat, decode_event, encode
from imagechat_tui.server.storage import (
    CommitResult,
    DecideBatch,
    StorageUnavailable,
    StoredEvent,
    Usage,
)

T = TypeVar("T")

_MIGRATIONS = [
    """
    CREATE TABLE rooms (
        tenant TEXT NOT NULL,
        room TEXT NOT NULL,
        seq INTEGER NOT NULL DEFAULT 0,
        next_number INTEGER NOT NULL DEFAULT 1,
        pruned_through INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (tenant, room)
    );
    CREATE TABLE chats (
        tenant TEXT NOT NULL,
        room TEXT NOT NULL,
        chat_id TEXT NOT NULL,
        number INTEGER NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (tenant, room, chat_id)
    );
    CREATE TABLE events (
        tenant TEXT NOT NULL,
        room TEXT NOT NULL,
        seq INTEGER NOT NULL,
        broadcast_id TEXT NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (tenant, room, seq)
    );
    CREATE UNIQUE INDEX events_broadcast ON events (tenant, room, broadcast_id);
    CREATE TABLE usage (
        tenant TEXT PRIMARY KEY,
        messages INTEGER NOT NULL DEFAULT 0,
        bytes INTEGER NOT NULL DEFAULT 0
    );
    """,
]

_chat_decoder = msgspec.json.Decoder(Chat)
_PRUNE_EVERY = 256


def affected_chat_ids(events: list[Event]) -> set[str]:
    return {e.chat.id if isinstance(e, NewImageChat) else e.chatId for e in events}


class SqliteStorage:
    def __init__(self, path: str | Path, *, retention: int = 10_000) -> None:
        self.path = Path(path)
        self.retention = retention
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._db: sqlite3.Connection | None = None

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, fn, *args)
        except sqlite3.OperationalError as exc:
            raise StorageUnavailable(f"SQLite: {exc}") from exc

    # --- lifecycle -------------------------------------------------------------------

    async def open(self) -> None:
        await self._run(self._open)

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA foreign_keys=ON")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(_MIGRATIONS[version:], start=version + 1):
            db.execute("BEGIN IMMEDIATE")
            try:
                # executescript would COMMIT first; run the statements one by one instead.
                for statement in filter(str.strip, script.split(";")):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version={number}")
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        self._db = db

    async def close(self) -> None:
        if self._db is not None:
            await self._run(self._db.close)
            self._db = None
        self._executor.shutdown(wait=True)

    # --- rooms -----------------------------------------------------------------------

    async def load_room(self, tenant: str, room: str) -> RoomState:
        return await self._run(self._load_room, tenant, room)

    def _load_room(self, tenant: str, room: str) -> RoomState:
        assert self._db is not None
        row = self._db.execute(
            "SELECT seq, next_number FROM rooms WHERE tenant=? AND room=?", (tenant, room)
        ).fetchone()
        if row is None:
            return RoomState(room=room)
        chats = {
            chat.id: chat
            for chat in (
                _chat_decoder.decode(data)
                for (data,) in self._db.execute(
                    "SELECT data FROM chats WHERE tenant=? AND room=? ORDER BY number",
                    (tenant, room),
                )
            )
        }
        return RoomState(room=room, seq=row[0], next_number=row[1], chats=chats)

    async def room_count(self, tenant: str) -> int:
        return await self._run(self._room_count, tenant)

    def _room_count(self, tenant: str) -> int:
        assert self._db is not None
        count: int = self._db.execute(
            "SELECT COUNT(*) FROM rooms WHERE tenant=?", (tenant,)
        ).fetchone()[0]
        return count

    async def commit(
        self,
        tenant: str,
        room: str,
        state: RoomState,
        broadcast_ids: list[str],
        decide_batch: DecideBatch,
    ) -> CommitResult:
        return await self._run(self._commit, tenant, room, state, broadcast_ids, decide_batch)

    def _commit(
        self,
        tenant: str,
        room: str,
        state: RoomState,
        broadcast_ids: list[str],
        decide_batch: DecideBatch,
    ) -> CommitResult:
        db = self._db
        assert db is not None
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute(
                "SELECT seq, pruned_through FROM rooms WHERE tenant=? AND room=?", (tenant, room)
            ).fetchone()
            if row is None:
                db.execute("INSERT INTO rooms (tenant, room) VALUES (?, ?)", (tenant, room))
                row = (0, 0)
            caught_up: list[StoredEvent] = []
            if row[0] > state.seq:  # another process wrote to this room meanwhile
                for (data,) in db.execute(
                    "SELECT data FROM events WHERE tenant=? AND room=? AND seq>? ORDER BY seq",
                    (tenant, room, state.seq),
                ):
                    event = decode_event(data)
                    state = apply(state, event)
                    caught_up.append(StoredEvent(event, bytes(data)))
            known = self._known_broadcasts(tenant, room, broadcast_ids)
            new_state, events = decide_batch(state, known)
            stored = [StoredEvent(event, encode(event)) for event in events]
            if not stored:  # every op refused or a retry: leave no trace (not even the room)
                db.execute("ROLLBACK")
                return CommitResult(state=new_state, caught_up=caught_up)
            db.executemany(
                "INSERT INTO events (tenant, room, seq, broadcast_id, data) VALUES (?,?,?,?,?)",
                [(tenant, room, s.event.seq, s.event.broadcastId, s.data) for s in stored],
            )
            for chat_id in affected_chat_ids(events):
                chat = new_state.chats.get(chat_id)
                if chat is None:
                    db.execute(
                        "DELETE FROM chats WHERE tenant=? AND room=? AND chat_id=?",
                        (tenant, room, chat_id),
                    )
                else:
                    db.execute(
                        "INSERT OR REPLACE INTO chats (tenant, room, chat_id, number, data)"
                        " VALUES (?,?,?,?,?)",
                        (tenant, room, chat_id, chat.number, encode(chat)),
                    )
            pruned = row[1]
            if new_state.seq - pruned > self.retention + _PRUNE_EVERY:
                pruned = new_state.seq - self.retention
                db.execute(
                    "DELETE FROM events WHERE tenant=? AND room=? AND seq<=?",
                    (tenant, room, pruned),
                )
            db.execute(
                "UPDATE rooms SET seq=?, next_number=?, pruned_through=? WHERE tenant=? AND room=?",
                (new_state.seq, new_state.next_number, pruned, tenant, room),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return CommitResult(state=new_state, committed=stored, caught_up=caught_up)

    def _known_broadcasts(self, tenant: str, room: str, broadcast_ids: list[str]) -> dict[str, int]:
        assert self._db is not None
        if not broadcast_ids:
            return {}
        marks = ",".join("?" * len(broadcast_ids))
        return dict(
            self._db.execute(
                f"SELECT broadcast_id, seq FROM events WHERE tenant=? AND room=?"
                f" AND broadcast_id IN ({marks})",
                (tenant, room, *broadcast_ids),
            ).fetchall()
        )

    async def events_since(
        self, tenant: str, room: str, since: int, until: int
    ) -> list[bytes] | None:
        return await self._run(self._events_since, tenant, room, since, until)

    def _events_since(self, tenant: str, room: str, since: int, until: int) -> list[bytes] | None:
        assert self._db is not None
        row = self._db.execute(
            "SELECT seq, pruned_through FROM rooms WHERE tenant=? AND room=?", (tenant, room)
        ).fetchone()
        seq, pruned = row if row is not None else (0, 0)
        if since > seq or since < pruned:
            return None
        return [
            bytes(data)
            for (data,) in self._db.execute(
                "SELECT data FROM events WHERE tenant=? AND room=? AND seq>? AND seq<=?"
                " ORDER BY seq",
                (tenant, room, since, until),
            )
        ]

    # --- usage -----------------------------------------------------------------------

    async def add_usage(self, deltas: dict[str, Usage]) -> None:
        if deltas:
            await self._run(self._add_usage, deltas)

    def _add_usage(self, deltas: dict[str, Usage]) -> None:
        assert self._db is not None
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT INTO usage (tenant, messages, bytes) VALUES (?,?,?)"
                " ON CONFLICT(tenant) DO UPDATE SET messages=messages+excluded.messages,"
                " bytes=bytes+excluded.bytes",
                [(t, u.messages, u.bytes) for t, u in deltas.items()],
            )

    async def usage(self) -> dict[str, Usage]:
        return await self._run(self._usage)

    def _usage(self) -> dict[str, Usage]:
        assert self._db is not None
        return {
            t: Usage(messages=m, bytes=b)
            for t, m, b in self._db.execute(
                "SELECT tenant, messages, bytes FROM usage ORDER BY tenant"
            )
        }

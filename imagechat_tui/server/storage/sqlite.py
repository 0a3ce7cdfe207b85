"""The embedded default: one SQLite file in WAL mode, used from one dedicated thread.

Every call runs on a single worker thread, so the event loop never blocks on disk and
SQLite never sees two writers from this process. ``synchronous=FULL``: a commit is on
disk before its events are broadcast. Group commit (many ops, one transaction) keeps
that affordable under bursts.

A database that cannot be written (after a crash, the data directory and the -wal/-shm
files left read-only, say: SQLite then opens the file read-only) fails ``open`` with the
reason, so the server does not start rather than start and refuse every op.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from imagechat_tui.model import RoomState, Tombstone
from imagechat_tui.protocol import Chat
from imagechat_tui.server.storage import (
    A,
    CommitResult,
    DecideBatch,
    Storage,
    StorageUnavailable,
    Usage,
    UsageBucket,
    bucket_of,
    merge_history,
)
from imagechat_tui.server.storage.commit import BatchWrite, commit_steps, run
from imagechat_tui.server.storage.schema import migrations
from imagechat_tui.server.storage.sharing_sqlite import SqliteSharing

T = TypeVar("T")

#: SQLite's reasons for a database this process cannot write (or create).
_NOT_WRITABLE = ("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM")

_chat_decoder = msgspec.json.Decoder(Chat)
_tombstone_decoder = msgspec.json.Decoder(Tombstone)


def _statements(script: str) -> list[str]:
    """The statements of an SQL script, split where SQLite says a statement ends."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip() and not all(
        part.strip().startswith("--") for part in current.splitlines() if part.strip()
    ):
        raise ValueError(f"incomplete SQL statement at the end of a migration: {current!r}")
    return statements


class SqliteStorage(SqliteSharing, Storage):
    dialect = "sqlite"

    def __init__(self, path: str | Path, *, retention: int = 10_000) -> None:
        super().__init__(retention=retention)
        self.path = Path(path)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._db: sqlite3.Connection | None = None

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn`` on the worker thread; SQLite's operational errors (locked, full,
        read-only, I/O) become StorageUnavailable."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, fn, *args)
        except sqlite3.OperationalError as exc:
            raise StorageUnavailable(f"SQLite {self.path}: {exc}") from exc

    # --- lifecycle -------------------------------------------------------------------

    async def open(self) -> None:
        await self._run(self._open)

    def _open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageUnavailable(f"SQLite {self.path}: {exc}") from exc
        self._connect()
        assert self._db is not None
        before = self._migrate(self._db)
        self.migrated = (before, len(migrations(self.dialect)))

    def _connect(self) -> None:
        try:
            db = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=10
            )
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=FULL")
                db.execute("PRAGMA foreign_keys=ON")
                _check_writable(db)
            except BaseException:
                db.close()
                raise
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorname", "").startswith(_NOT_WRITABLE):
                raise sqlite3.OperationalError(
                    f"the database cannot be written ({exc}); check that the file, its -wal"
                    " and -shm files and their directory are writable by this user"
                ) from exc
            raise
        self._db = db

    def _migrate(self, db: sqlite3.Connection) -> int:
        """Apply pending migrations, one transaction each; the version found."""
        scripts = migrations(self.dialect)
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        for number, script in enumerate(scripts[version:], start=version + 1):
            db.execute("BEGIN IMMEDIATE")
            try:
                # executescript would COMMIT first; run the statements one by one instead.
                for statement in _statements(script):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version={number}")
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return version

    async def close(self) -> None:
        if self._db is not None:
            await self._run(self._db.close)
            self._db = None
        self._executor.shutdown(wait=True)

    def _conn(self) -> sqlite3.Connection:
        assert self._db is not None, "open() first"
        return self._db

    async def schema_version(self) -> int:
        return await self._run(
            lambda: int(self._conn().execute("PRAGMA user_version").fetchone()[0])
        )

    # --- rooms -----------------------------------------------------------------------

    async def load_room(self, tenant: str, room: str) -> RoomState:
        return await self._run(self._load_room, tenant, room)

    def _load_room(self, tenant: str, room: str) -> RoomState:
        db = self._conn()
        row = db.execute(
            "SELECT seq, next_number FROM rooms WHERE tenant=? AND room=?", (tenant, room)
        ).fetchone()
        if row is None:
            return RoomState(room=room)
        chats = {
            chat.id: chat
            for chat in (
                _chat_decoder.decode(data)
                for (data,) in db.execute(
                    "SELECT data FROM chats WHERE tenant=? AND room=? ORDER BY number",
                    (tenant, room),
                )
            )
        }
        stones = {
            key: _tombstone_decoder.decode(data)
            for key, data in db.execute(
                "SELECT key, data FROM tombstones WHERE tenant=? AND room=? ORDER BY key",
                (tenant, room),
            )
        }
        return RoomState(room=room, seq=row[0], next_number=row[1], chats=chats, tombstones=stones)

    async def room_count(self, tenant: str) -> int:
        return await self._run(self._room_count, tenant)

    def _room_count(self, tenant: str) -> int:
        (count,) = (
            self._conn().execute("SELECT COUNT(*) FROM rooms WHERE tenant=?", (tenant,)).fetchone()
        )
        return int(count)

    async def room_seqs(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        if not keys:
            return {}
        return await self._run(self._room_seqs, keys)

    def _room_seqs(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        db, found = self._conn(), {}
        for tenant, room in keys:
            row = db.execute(
                "SELECT seq FROM rooms WHERE tenant=? AND room=?", (tenant, room)
            ).fetchone()
            if row is not None:
                found[(tenant, room)] = int(row[0])
        return found

    async def commit(
        self,
        tenant: str,
        room: str,
        state: RoomState,
        broadcast_ids: list[str],
        decide: DecideBatch[A],
    ) -> CommitResult[A]:
        return await self._run(self._commit, tenant, room, state, broadcast_ids, decide)

    def _commit(
        self,
        tenant: str,
        room: str,
        state: RoomState,
        broadcast_ids: list[str],
        decide: DecideBatch[A],
    ) -> CommitResult[A]:
        db = self._conn()
        db.execute("BEGIN IMMEDIATE")  # the write lock, for the whole commit
        try:
            steps = commit_steps(state, broadcast_ids, decide, self.pruned_through)
            result = run(steps, _CommitSql(db, tenant, room, self._load_room))
            # Nothing stored (every op refused, or a retry): leave no trace, not even the room.
            db.execute("COMMIT" if result.committed else "ROLLBACK")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return result

    async def events_since(
        self, tenant: str, room: str, since: int, until: int
    ) -> list[bytes] | None:
        return await self._run(self._events_since, tenant, room, since, until)

    def _events_since(self, tenant: str, room: str, since: int, until: int) -> list[bytes] | None:
        db = self._conn()
        row = db.execute(
            "SELECT seq, pruned_through FROM rooms WHERE tenant=? AND room=?", (tenant, room)
        ).fetchone()
        seq, pruned = row if row is not None else (0, 0)
        if since > seq or since < pruned:
            return None
        return [
            bytes(data)
            for (data,) in db.execute(
                "SELECT data FROM events WHERE tenant=? AND room=? AND seq>? AND seq<=?"
                " ORDER BY seq",
                (tenant, room, since, until),
            )
        ]

    # --- usage -----------------------------------------------------------------------

    async def add_usage(self, deltas: dict[str, Usage], *, at: float | None = None) -> None:
        if deltas:
            await self._run(self._add_usage, deltas, bucket_of(time.time() if at is None else at))

    def _add_usage(self, deltas: dict[str, Usage], bucket: int) -> None:
        db = self._conn()
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(
                "INSERT INTO usage (tenant, messages, bytes) VALUES (?,?,?)"
                " ON CONFLICT(tenant) DO UPDATE SET messages=messages+excluded.messages,"
                " bytes=bytes+excluded.bytes",
                [(t, u.messages, u.bytes) for t, u in deltas.items()],
            )
            db.executemany(
                "INSERT INTO usage_buckets (tenant, bucket, messages, bytes) VALUES (?,?,?,?)"
                " ON CONFLICT(tenant, bucket) DO UPDATE SET"
                " messages=messages+excluded.messages, bytes=bytes+excluded.bytes",
                [(t, bucket, u.messages, u.bytes) for t, u in deltas.items()],
            )
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    async def usage(self) -> dict[str, Usage]:
        return await self._run(self._usage)

    def _usage(self) -> dict[str, Usage]:
        return {
            t: Usage(messages=m, bytes=b)
            for t, m, b in self._conn().execute(
                "SELECT tenant, messages, bytes FROM usage ORDER BY tenant"
            )
        }

    async def record_connections(self, node: str, at: float, counts: dict[str, int]) -> None:
        if counts:
            await self._run(self._record_connections, node, bucket_of(at), counts)

    def _record_connections(self, node: str, bucket: int, counts: dict[str, int]) -> None:
        self._conn().executemany(
            "INSERT INTO connection_buckets (tenant, bucket, node, connections)"
            " VALUES (?,?,?,?) ON CONFLICT(tenant, bucket, node) DO UPDATE SET"
            " connections=MAX(connections, excluded.connections)",
            [(t, bucket, node, n) for t, n in counts.items()],
        )

    async def usage_history(self, since: float, *, tenant: str | None = None) -> list[UsageBucket]:
        return await self._run(self._usage_history, bucket_of(since), tenant)

    def _usage_history(self, since: int, tenant: str | None) -> list[UsageBucket]:
        db = self._conn()
        where = "bucket >= ? AND (? IS NULL OR tenant = ?)"
        traffic = db.execute(
            f"SELECT tenant, bucket, messages, bytes FROM usage_buckets WHERE {where}",
            (since, tenant, tenant),
        ).fetchall()
        connections = db.execute(
            "SELECT tenant, bucket, SUM(connections) FROM connection_buckets"
            f" WHERE {where} GROUP BY tenant, bucket",
            (since, tenant, tenant),
        ).fetchall()
        return merge_history(traffic, connections)

    async def check_writable(self) -> None:
        await self._run(self._check_writable_now)

    def _check_writable_now(self) -> None:
        """On a fresh connection, so that a file or directory turned read-only (or a full
        disk) shows now, not only when the open connection next needs a new file."""
        probe = sqlite3.connect(self.path, isolation_level=None, timeout=5)
        try:
            _check_writable(probe)
        except sqlite3.OperationalError as exc:
            raise sqlite3.OperationalError(f"the database cannot be written ({exc})") from exc
        finally:
            probe.close()


class _CommitSql:
    """SQLite's statements for the batch commit (server/storage/commit.py)."""

    def __init__(
        self,
        db: sqlite3.Connection,
        tenant: str,
        room: str,
        load: Callable[[str, str], RoomState],
    ) -> None:
        self.db, self.tenant, self.room, self._load = db, tenant, room, load

    def lock_room(self) -> tuple[int, int]:
        # BEGIN IMMEDIATE already holds the database's write lock.
        key = (self.tenant, self.room)
        row = self.db.execute(
            "SELECT seq, pruned_through FROM rooms WHERE tenant=? AND room=?", key
        ).fetchone()
        if row is None:
            self.db.execute("INSERT INTO rooms (tenant, room) VALUES (?, ?)", key)
            return 0, 0
        return int(row[0]), int(row[1])

    def read_log(self, after: int) -> Iterable[bytes]:
        return (
            bytes(data)
            for (data,) in self.db.execute(
                "SELECT data FROM events WHERE tenant=? AND room=? AND seq>? ORDER BY seq",
                (self.tenant, self.room, after),
            )
        )

    def load_room(self) -> RoomState:
        return self._load(self.tenant, self.room)

    def known_broadcasts(self, ids: list[str]) -> dict[str, int]:
        marks = ",".join("?" * len(ids))
        return dict(
            self.db.execute(
                f"SELECT broadcast_id, seq FROM events WHERE tenant=? AND room=?"
                f" AND broadcast_id IN ({marks})",
                (self.tenant, self.room, *ids),
            ).fetchall()
        )

    def write(self, batch: BatchWrite) -> None:
        db, key = self.db, (self.tenant, self.room)
        db.executemany(
            "INSERT INTO events (tenant, room, seq, broadcast_id, data) VALUES (?,?,?,?,?)",
            [(*key, *row) for row in batch.events],
        )
        db.executemany(
            "INSERT OR REPLACE INTO chats (tenant, room, chat_id, number, data) VALUES (?,?,?,?,?)",
            [(*key, *row) for row in batch.chats],
        )
        db.executemany(
            "DELETE FROM chats WHERE tenant=? AND room=? AND chat_id=?",
            [(*key, chat_id) for chat_id in batch.deleted_chats],
        )
        db.executemany(
            "INSERT OR REPLACE INTO tombstones (tenant, room, key, until, data) VALUES (?,?,?,?,?)",
            [(*key, *row) for row in batch.tombstones],
        )
        db.executemany(
            "DELETE FROM tombstones WHERE tenant=? AND room=? AND key=?",
            [(*key, stone) for stone in batch.dropped_tombstones],
        )
        if batch.prune_through is not None:
            db.execute(
                "DELETE FROM events WHERE tenant=? AND room=? AND seq<=?",
                (*key, batch.prune_through),
            )
        db.execute(
            "UPDATE rooms SET seq=?, next_number=?, pruned_through=? WHERE tenant=? AND room=?",
            (batch.seq, batch.next_number, batch.pruned_through, *key),
        )


def _check_writable(db: sqlite3.Connection) -> None:
    """Fail now if this connection cannot write the database (a file or directory left
    read-only: SQLite then opens the file read-only, and every commit would fail)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        # A write that changes nothing still needs a writable database and journal.
        db.execute("PRAGMA user_version=" + str(db.execute("PRAGMA user_version").fetchone()[0]))
    finally:
        db.execute("ROLLBACK")

"""PostgreSQL: the shared store when several server nodes serve the same rooms.

Same schema and semantics as the SQLite reference. ``commit`` locks the room's row
(``SELECT ... FOR UPDATE``) for the whole transaction, so the room's ``seq`` is assigned
atomically with the events it numbers: whichever node commits, there is one order.
A node that was behind catches its state up from the log inside that transaction
before deciding, exactly as with SQLite.

Schema changes are numbered migrations recorded in ``schema_migrations``; they run in
one transaction under an advisory lock, so nodes starting at once apply each migration
exactly once and the others wait, then find nothing to do.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import asyncpg
import msgspec

from imagechat_tui.model import RoomState, SequenceError, apply
from imagechat_tui.protocol import Chat, decode_event, encode
from imagechat_tui.server.storage import (
    CommitResult,
    DecideBatch,
    StorageUnavailable,
    StoredEvent,
    Usage,
)
from imagechat_tui.server.storage.sqlite import affected_chat_ids

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    # What pool.acquire() gives: a proxy with Connection's methods, not a Connection.
    PooledConnection = PoolConnectionProxy[asyncpg.Record]

T = TypeVar("T")

#: pg_advisory_xact_lock key for migrations ("imagecha" as a 64-bit integer).
MIGRATION_LOCK = 0x696D616765636861

MIGRATIONS: list[str] = [
    """
    CREATE TABLE rooms (
        tenant TEXT NOT NULL,
        room TEXT NOT NULL,
        seq BIGINT NOT NULL DEFAULT 0,
        next_number BIGINT NOT NULL DEFAULT 1,
        pruned_through BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (tenant, room)
    );
    CREATE TABLE chats (
        tenant TEXT NOT NULL,
        room TEXT NOT NULL,
        chat_id TEXT NOT NULL,
        number BIGINT NOT NULL,
        data BYTEA NOT NULL,
        PRIMARY KEY (tenant, room, chat_id)
    );
    CREATE TABLE events (
        tenant TEXT NOT NULL,
        room TEXT NOT NULL,
        seq BIGINT NOT NULL,
        broadcast_id TEXT NOT NULL,
        data BYTEA NOT NULL,
        PRIMARY KEY (tenant, room, seq)
    );
    CREATE UNIQUE INDEX events_broadcast ON events (tenant, room, broadcast_id);
    CREATE TABLE usage (
        tenant TEXT PRIMARY KEY,
        messages BIGINT NOT NULL DEFAULT 0,
        bytes BIGINT NOT NULL DEFAULT 0
    );
    """,
]

_PRUNE_EVERY = 256
_chat_decoder = msgspec.json.Decoder(Chat)

#: Failures that mean "the database is not reachable right now" rather than a bug.
_UNAVAILABLE = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,  # admin shutdown, crash shutdown
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.InsufficientResourcesError,
)


async def apply_migrations(conn: asyncpg.Connection) -> list[int]:
    """Apply pending migrations in one transaction under an advisory lock; their numbers."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        current = await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
        applied = []
        for number, script in enumerate(MIGRATIONS[current:], start=current + 1):
            await conn.execute(script)
            await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", number)
            applied.append(number)
        return applied


class PostgresStorage:
    def __init__(
        self,
        url: str,
        *,
        retention: int = 10_000,
        min_size: int = 1,
        max_size: int = 10,
        timeout: float = 5.0,
    ) -> None:
        self.url = url
        self.retention = retention
        self.min_size = min_size
        self.max_size = max_size
        self.timeout = timeout
        self._pool: asyncpg.Pool | None = None
        self._opening: asyncio.Lock | None = None
        self.applied_migrations: list[int] = []

    # --- lifecycle -------------------------------------------------------------------

    async def open(self) -> None:
        """Connect and apply pending migrations (safe when several nodes start at once)."""
        try:
            conn = await asyncpg.connect(self.url, timeout=self.timeout)
        except _UNAVAILABLE as exc:
            raise StorageUnavailable(f"PostgreSQL: cannot connect: {exc}") from exc
        try:
            self.applied_migrations = await apply_migrations(conn)
        finally:
            await conn.close()
        await self._ensure_pool()

    async def _ensure_pool(self) -> asyncpg.Pool:
        if self._pool is not None:
            return self._pool
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self.url,
                    min_size=self.min_size,
                    max_size=self.max_size,
                    timeout=self.timeout,
                    command_timeout=self.timeout * 2,
                )
        return self._pool

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            try:
                await asyncio.wait_for(pool.close(), self.timeout)
            except (TimeoutError, *_UNAVAILABLE):
                pool.terminate()

    @asynccontextmanager
    async def _conn(self) -> AsyncIterator[PooledConnection]:
        """A pooled connection; any connectivity failure becomes StorageUnavailable.

        The pool replaces broken connections on the next acquire, so once PostgreSQL is
        back the next call simply works."""
        try:
            pool = await self._ensure_pool()
            async with pool.acquire(timeout=self.timeout) as conn:
                yield conn
        except _UNAVAILABLE as exc:
            raise StorageUnavailable(f"PostgreSQL: {exc.__class__.__name__}: {exc}") from exc

    async def _with(self, fn: Callable[[PooledConnection], Awaitable[T]]) -> T:
        async with self._conn() as conn:
            return await fn(conn)

    # --- rooms -----------------------------------------------------------------------

    async def load_room(self, tenant: str, room: str) -> RoomState:
        async with self._conn() as conn, conn.transaction(isolation="repeatable_read"):
            return await self._load_room(conn, tenant, room)

    async def _load_room(self, conn: PooledConnection, tenant: str, room: str) -> RoomState:
        row = await conn.fetchrow(
            "SELECT seq, next_number FROM rooms WHERE tenant=$1 AND room=$2", tenant, room
        )
        if row is None:
            return RoomState(room=room)
        records = await conn.fetch(
            "SELECT data FROM chats WHERE tenant=$1 AND room=$2 ORDER BY number", tenant, room
        )
        chats = {chat.id: chat for chat in (_chat_decoder.decode(r[0]) for r in records)}
        return RoomState(room=room, seq=row[0], next_number=row[1], chats=chats)

    async def room_count(self, tenant: str) -> int:
        return await self._with(
            lambda c: c.fetchval("SELECT COUNT(*) FROM rooms WHERE tenant=$1", tenant)
        )

    async def room_seqs(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """The committed ``seq`` of each (tenant, room) that has a row; one query."""
        if not keys:
            return {}
        rows = await self._with(
            lambda c: c.fetch(
                "SELECT r.tenant, r.room, r.seq FROM rooms r"
                " JOIN unnest($1::text[], $2::text[]) AS k(tenant, room)"
                " ON r.tenant = k.tenant AND r.room = k.room",
                [k[0] for k in keys],
                [k[1] for k in keys],
            )
        )
        return {(r[0], r[1]): r[2] for r in rows}

    async def commit(
        self,
        tenant: str,
        room: str,
        state: RoomState,
        broadcast_ids: list[str],
        decide_batch: DecideBatch,
    ) -> CommitResult:
        async with self._conn() as conn:
            transaction = conn.transaction()
            await transaction.start()
            try:
                result = await self._commit(conn, tenant, room, state, broadcast_ids, decide_batch)
            except BaseException:
                await transaction.rollback()
                raise
            if result.committed:
                await transaction.commit()
            else:  # every op refused or a retry: leave no trace (not even the room)
                await transaction.rollback()
            return result

    async def _commit(
        self,
        conn: PooledConnection,
        tenant: str,
        room: str,
        state: RoomState,
        broadcast_ids: list[str],
        decide_batch: DecideBatch,
    ) -> CommitResult:
        lock = "SELECT seq, pruned_through FROM rooms WHERE tenant=$1 AND room=$2 FOR UPDATE"
        row = await conn.fetchrow(lock, tenant, room)
        if row is None:
            await conn.execute(
                "INSERT INTO rooms (tenant, room) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                tenant,
                room,
            )
            row = await conn.fetchrow(lock, tenant, room)
            assert row is not None  # inserted just above, in this transaction
        db_seq, pruned = row[0], row[1]
        caught_up: list[StoredEvent] = []
        if db_seq > state.seq:  # another node wrote to this room meanwhile
            if state.seq < pruned:
                # Too far behind for the log: start again from the stored state.
                state = await self._load_room(conn, tenant, room)
            else:
                for (data,) in await conn.fetch(
                    "SELECT data FROM events WHERE tenant=$1 AND room=$2 AND seq>$3 ORDER BY seq",
                    tenant,
                    room,
                    state.seq,
                ):
                    event = decode_event(data)
                    try:
                        state = apply(state, event)
                    except SequenceError:
                        state = await self._load_room(conn, tenant, room)
                        caught_up.clear()
                        break
                    caught_up.append(StoredEvent(event, bytes(data)))
        known: dict[str, int] = {}
        if broadcast_ids:
            known = {
                r[0]: r[1]
                for r in await conn.fetch(
                    "SELECT broadcast_id, seq FROM events WHERE tenant=$1 AND room=$2"
                    " AND broadcast_id = ANY($3::text[])",
                    tenant,
                    room,
                    broadcast_ids,
                )
            }
        new_state, events = decide_batch(state, known)
        stored = [StoredEvent(event, encode(event)) for event in events]
        if stored:
            await conn.executemany(
                "INSERT INTO events (tenant, room, seq, broadcast_id, data)"
                " VALUES ($1, $2, $3, $4, $5)",
                [(tenant, room, s.event.seq, s.event.broadcastId, s.data) for s in stored],
            )
            upserts: list[tuple[Any, ...]] = []
            deletes: list[str] = []
            for chat_id in affected_chat_ids(events):
                chat = new_state.chats.get(chat_id)
                if chat is None:
                    deletes.append(chat_id)
                else:
                    upserts.append((tenant, room, chat_id, chat.number, encode(chat)))
            if upserts:
                await conn.executemany(
                    "INSERT INTO chats (tenant, room, chat_id, number, data)"
                    " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant, room, chat_id)"
                    " DO UPDATE SET number = EXCLUDED.number, data = EXCLUDED.data",
                    upserts,
                )
            if deletes:
                await conn.execute(
                    "DELETE FROM chats WHERE tenant=$1 AND room=$2 AND chat_id = ANY($3::text[])",
                    tenant,
                    room,
                    deletes,
                )
            if new_state.seq - pruned > self.retention + _PRUNE_EVERY:
                pruned = new_state.seq - self.retention
                await conn.execute(
                    "DELETE FROM events WHERE tenant=$1 AND room=$2 AND seq<=$3",
                    tenant,
                    room,
                    pruned,
                )
            await conn.execute(
                "UPDATE rooms SET seq=$1, next_number=$2, pruned_through=$3"
                " WHERE tenant=$4 AND room=$5",
                new_state.seq,
                new_state.next_number,
                pruned,
                tenant,
                room,
            )
        return CommitResult(state=new_state, committed=stored, caught_up=caught_up)

    async def events_since(
        self, tenant: str, room: str, since: int, until: int
    ) -> list[bytes] | None:
        async with self._conn() as conn, conn.transaction(isolation="repeatable_read"):
            row = await conn.fetchrow(
                "SELECT seq, pruned_through FROM rooms WHERE tenant=$1 AND room=$2", tenant, room
            )
            seq, pruned = (row[0], row[1]) if row is not None else (0, 0)
            if since > seq or since < pruned:
                return None
            records = await conn.fetch(
                "SELECT data FROM events WHERE tenant=$1 AND room=$2 AND seq>$3 AND seq<=$4"
                " ORDER BY seq",
                tenant,
                room,
                since,
                until,
            )
            return [bytes(r[0]) for r in records]

    # --- usage -----------------------------------------------------------------------

    async def add_usage(self, deltas: dict[str, Usage]) -> None:
        if not deltas:
            return
        async with self._conn() as conn:
            await conn.executemany(
                "INSERT INTO usage (tenant, messages, bytes) VALUES ($1, $2, $3)"
                " ON CONFLICT (tenant) DO UPDATE SET messages = usage.messages + EXCLUDED.messages,"
                " bytes = usage.bytes + EXCLUDED.bytes",
                [(t, u.messages, u.bytes) for t, u in sorted(deltas.items())],
            )

    async def usage(self) -> dict[str, Usage]:
        rows = await self._with(
            lambda c: c.fetch("SELECT tenant, messages, bytes FROM usage ORDER BY tenant")
        )
        return {r[0]: Usage(messages=r[1], bytes=r[2]) for r in rows}

    async def schema_version(self) -> int:
        return await self._with(
            lambda c: c.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
        )

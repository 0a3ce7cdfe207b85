"""PostgreSQL: the shared store when several server nodes serve the same rooms.

Same schema and semantics as the SQLite reference. ``commit`` locks the room's row
(``SELECT ... FOR UPDATE``) for the whole transaction, so the room's ``seq`` is assigned
atomically with the events it numbers: whichever node commits, there is one order.
A node that was behind catches its state up from the log inside that transaction
before deciding: the one commit algorithm (commit.py), as with SQLite.

Schema changes are numbered migrations recorded in ``schema_migrations``; they run in
one transaction under an advisory lock, so nodes starting at once apply each migration
exactly once and the others wait, then find nothing to do. The scripts are the
``sql/postgres/*.sql`` files.

A connection that drops while ``COMMIT`` is on its way leaves the outcome unknown: the
commit may have happened. ``commit`` then looks up, on a fresh connection, whether the
batch's events are in the log, and only answers once it knows (see ``_resolve``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from typing import TypeVar

import asyncpg
import msgspec
from asyncpg.pool import PoolConnectionProxy

from imagechat_tui.model import RoomState, Tombstone
from imagechat_tui.protocol import Chat
from imagechat_tui.server.storage import (
    A,
    CommitResult,
    DecideBatch,
    OutcomeUnknown,
    Storage,
    StorageUnavailable,
    Usage,
    UsageBucket,
    bucket_of,
    merge_history,
)
from imagechat_tui.server.storage.commit import BatchWrite, commit_steps, run_async
from imagechat_tui.server.storage.schema import migrations
from imagechat_tui.server.storage.sharing_postgres import PostgresSharing

T = TypeVar("T")

log = logging.getLogger(__name__)

#: pg_advisory_xact_lock key for migrations ("imagecha" as a 64-bit integer).
MIGRATION_LOCK = 0x696D616765636861

_chat_decoder = msgspec.json.Decoder(Chat)
_tombstone_decoder = msgspec.json.Decoder(Tombstone)

#: Failures that mean "the database is not reachable right now" rather than a bug.
_UNAVAILABLE = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,  # admin shutdown, crash shutdown
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.InsufficientResourcesError,
    # A connection the server closed under us, found mid-operation (e.g. during a stop).
    asyncpg.exceptions.InternalClientError,
)


async def apply_migrations(conn: asyncpg.Connection) -> tuple[int, int]:
    """Apply pending migrations in one transaction under an advisory lock; the schema
    version before and after."""
    scripts = migrations(PostgresStorage.dialect)
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        current = await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
        for number, script in enumerate(scripts[current:], start=current + 1):
            await conn.execute(script)
            await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", number)
        return current, max(current, len(scripts))


class PostgresStorage(PostgresSharing, Storage):
    dialect = "postgres"

    def __init__(
        self,
        url: str,
        *,
        retention: int = 10_000,
        min_size: int = 1,
        max_size: int = 10,
        timeout: float = 5.0,
        resolve_timeout: float = 30.0,
    ) -> None:
        super().__init__(retention=retention)
        self.url = url
        self.min_size = min_size
        self.max_size = max_size
        self.timeout = timeout
        #: How long a commit whose outcome is unknown keeps asking the database.
        self.resolve_timeout = resolve_timeout
        self._pool: asyncpg.Pool | None = None
        self._opening: asyncio.Lock | None = None

    # --- lifecycle -------------------------------------------------------------------

    async def open(self) -> None:
        """Connect and apply pending migrations (safe when several nodes start at once)."""
        try:
            conn = await asyncpg.connect(self.url, timeout=self.timeout)
        except _UNAVAILABLE as exc:
            raise StorageUnavailable(f"PostgreSQL: cannot connect: {exc}") from exc
        try:
            self.migrated = await apply_migrations(conn)
        except asyncpg.exceptions.ReadOnlySQLTransactionError as exc:
            raise StorageUnavailable(f"PostgreSQL: the database cannot be written: {exc}") from exc
        except _UNAVAILABLE as exc:
            raise StorageUnavailable(f"PostgreSQL: {exc.__class__.__name__}: {exc}") from exc
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
    async def _conn(self) -> AsyncIterator[PoolConnectionProxy]:
        """A pooled connection; any connectivity failure becomes StorageUnavailable.

        The pool replaces broken connections on the next acquire, so once PostgreSQL is
        back the next call simply works."""
        try:
            pool = await self._ensure_pool()
            async with pool.acquire(timeout=self.timeout) as conn:
                yield conn
        except _UNAVAILABLE as exc:
            raise StorageUnavailable(f"PostgreSQL: {exc.__class__.__name__}: {exc}") from exc

    async def _with(self, fn: Callable[[PoolConnectionProxy], Awaitable[T]]) -> T:
        async with self._conn() as conn:
            return await fn(conn)

    async def schema_version(self) -> int:
        version: int = await self._with(
            lambda c: c.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
        )
        return version

    # --- rooms -----------------------------------------------------------------------

    async def load_room(self, tenant: str, room: str) -> RoomState:
        async with self._conn() as conn, conn.transaction(isolation="repeatable_read"):
            return await self._load_room(conn, tenant, room)

    async def _load_room(self, conn: PoolConnectionProxy, tenant: str, room: str) -> RoomState:
        row = await conn.fetchrow(
            "SELECT seq, next_number FROM rooms WHERE tenant=$1 AND room=$2", tenant, room
        )
        if row is None:
            return RoomState(room=room)
        records = await conn.fetch(
            "SELECT data FROM chats WHERE tenant=$1 AND room=$2 ORDER BY number", tenant, room
        )
        chats = {chat.id: chat for chat in (_chat_decoder.decode(r[0]) for r in records)}
        stones = await conn.fetch(
            "SELECT key, data FROM tombstones WHERE tenant=$1 AND room=$2 ORDER BY key",
            tenant,
            room,
        )
        return RoomState(
            room=room,
            seq=row[0],
            next_number=row[1],
            chats=chats,
            tombstones={r[0]: _tombstone_decoder.decode(r[1]) for r in stones},
        )

    async def room_count(self, tenant: str) -> int:
        count: int = await self._with(
            lambda c: c.fetchval("SELECT COUNT(*) FROM rooms WHERE tenant=$1", tenant)
        )
        return count

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
        decide: DecideBatch[A],
    ) -> CommitResult[A]:
        async with self._conn() as conn:
            transaction = conn.transaction()
            await transaction.start()
            try:
                steps = commit_steps(state, broadcast_ids, decide, self.pruned_through)
                result = await run_async(steps, _CommitSql(conn, tenant, room, self._load_room))
            except BaseException:
                if not conn.is_closed():
                    with contextlib.suppress(*_UNAVAILABLE):
                        await transaction.rollback()
                raise
            if not result.committed:  # every op refused or a retry: leave no trace
                with contextlib.suppress(*_UNAVAILABLE):  # nothing to lose if it fails
                    await transaction.rollback()
                return result
            try:
                await transaction.commit()
                return result
            except _UNAVAILABLE as exc:
                # COMMIT may or may not have reached the server and been applied.
                dropped: BaseException = exc
        return await self._resolve(tenant, room, result, dropped)

    async def _resolve(
        self, tenant: str, room: str, result: CommitResult[A], dropped: BaseException
    ) -> CommitResult[A]:
        """Learn whether a commit whose connection dropped was applied: its events are in
        the log under their broadcastIds (unique per room), at their seqs, or none is.
        Asks until the database answers or ``resolve_timeout`` passes (OutcomeUnknown)."""
        expected = {s.event.broadcastId: s.event.seq for s in result.committed}
        where = f"room {tenant}/{room}: the connection dropped during COMMIT ({dropped!r})"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.resolve_timeout
        delay = 0.05
        while True:
            try:
                rows = await self._with(
                    lambda c: c.fetch(
                        "SELECT broadcast_id, seq FROM events WHERE tenant=$1 AND room=$2"
                        " AND broadcast_id = ANY($3::text[])",
                        tenant,
                        room,
                        list(expected),
                    )
                )
                break
            except StorageUnavailable as exc:
                if loop.time() + delay > deadline:
                    raise OutcomeUnknown(
                        f"{where}; PostgreSQL did not answer for {self.resolve_timeout:.0f}s"
                        f" to say whether it was applied ({exc})"
                    ) from exc
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
        found = {r[0]: r[1] for r in rows}
        if all(found.get(bid) == seq for bid, seq in expected.items()):
            log.warning("%s; it was applied (%d events)", where, len(expected))
            return result
        log.warning("%s; it was not applied", where)
        raise StorageUnavailable(f"PostgreSQL: {where}; nothing was stored") from dropped

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

    async def add_usage(self, deltas: dict[str, Usage], *, at: float | None = None) -> None:
        if not deltas:
            return
        bucket = bucket_of(time.time() if at is None else at)
        rows = sorted(deltas.items())
        async with self._conn() as conn, conn.transaction():
            await conn.executemany(
                "INSERT INTO usage (tenant, messages, bytes) VALUES ($1, $2, $3)"
                " ON CONFLICT (tenant) DO UPDATE SET messages = usage.messages + EXCLUDED.messages,"
                " bytes = usage.bytes + EXCLUDED.bytes",
                [(t, u.messages, u.bytes) for t, u in rows],
            )
            await conn.executemany(
                "INSERT INTO usage_buckets (tenant, bucket, messages, bytes) VALUES ($1, $2, $3, $4)"
                " ON CONFLICT (tenant, bucket) DO UPDATE SET"
                " messages = usage_buckets.messages + EXCLUDED.messages,"
                " bytes = usage_buckets.bytes + EXCLUDED.bytes",
                [(t, bucket, u.messages, u.bytes) for t, u in rows],
            )

    async def usage(self) -> dict[str, Usage]:
        rows = await self._with(
            lambda c: c.fetch("SELECT tenant, messages, bytes FROM usage ORDER BY tenant")
        )
        return {r[0]: Usage(messages=r[1], bytes=r[2]) for r in rows}

    async def record_connections(self, node: str, at: float, counts: dict[str, int]) -> None:
        if not counts:
            return
        bucket = bucket_of(at)
        async with self._conn() as conn:
            await conn.executemany(
                "INSERT INTO connection_buckets (tenant, bucket, node, connections)"
                " VALUES ($1, $2, $3, $4) ON CONFLICT (tenant, bucket, node) DO UPDATE SET"
                " connections = GREATEST(connection_buckets.connections, EXCLUDED.connections)",
                [(t, bucket, node, n) for t, n in sorted(counts.items())],
            )

    async def usage_history(self, since: float, *, tenant: str | None = None) -> list[UsageBucket]:
        where = "bucket >= $1 AND ($2::text IS NULL OR tenant = $2)"
        async with self._conn() as conn:
            traffic = await conn.fetch(
                f"SELECT tenant, bucket, messages, bytes FROM usage_buckets WHERE {where}",
                bucket_of(since),
                tenant,
            )
            connections = await conn.fetch(
                "SELECT tenant, bucket, SUM(connections)::bigint FROM connection_buckets"
                f" WHERE {where} GROUP BY tenant, bucket",
                bucket_of(since),
                tenant,
            )
        return merge_history(
            ((r[0], r[1], r[2], r[3]) for r in traffic), ((r[0], r[1], r[2]) for r in connections)
        )

    async def check_writable(self) -> None:
        """A read-only database (a standby after failover, default_transaction_read_only)
        or one out of reach: a transaction that would refuse writes says so."""
        async with self._conn() as conn, conn.transaction():
            read_only = await conn.fetchval("SELECT current_setting('transaction_read_only')")
        if read_only == "on":
            raise StorageUnavailable("PostgreSQL: the database is read-only")


class _CommitSql:
    """PostgreSQL's statements for the batch commit (server/storage/commit.py)."""

    def __init__(
        self,
        conn: PoolConnectionProxy,
        tenant: str,
        room: str,
        load: Callable[[PoolConnectionProxy, str, str], Awaitable[RoomState]],
    ) -> None:
        self.conn, self.tenant, self.room, self._load = conn, tenant, room, load

    async def lock_room(self) -> tuple[int, int]:
        # The row lock orders every node's commits to this room: one seq sequence.
        lock = "SELECT seq, pruned_through FROM rooms WHERE tenant=$1 AND room=$2 FOR UPDATE"
        row = await self.conn.fetchrow(lock, self.tenant, self.room)
        if row is None:
            await self.conn.execute(
                "INSERT INTO rooms (tenant, room) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                self.tenant,
                self.room,
            )
            row = await self.conn.fetchrow(lock, self.tenant, self.room)
        assert row is not None  # inserted above, and rooms are never deleted
        return int(row[0]), int(row[1])

    async def read_log(self, after: int) -> Iterable[bytes]:
        records = await self.conn.fetch(
            "SELECT data FROM events WHERE tenant=$1 AND room=$2 AND seq>$3 ORDER BY seq",
            self.tenant,
            self.room,
            after,
        )
        return [bytes(r[0]) for r in records]

    async def load_room(self) -> RoomState:
        return await self._load(self.conn, self.tenant, self.room)

    async def known_broadcasts(self, ids: list[str]) -> dict[str, int]:
        records = await self.conn.fetch(
            "SELECT broadcast_id, seq FROM events WHERE tenant=$1 AND room=$2"
            " AND broadcast_id = ANY($3::text[])",
            self.tenant,
            self.room,
            ids,
        )
        return {r[0]: r[1] for r in records}

    async def write(self, batch: BatchWrite) -> None:
        conn, key = self.conn, (self.tenant, self.room)
        await conn.executemany(
            "INSERT INTO events (tenant, room, seq, broadcast_id, data)"
            " VALUES ($1, $2, $3, $4, $5)",
            [(*key, *row) for row in batch.events],
        )
        if batch.chats:
            await conn.executemany(
                "INSERT INTO chats (tenant, room, chat_id, number, data)"
                " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant, room, chat_id)"
                " DO UPDATE SET number = EXCLUDED.number, data = EXCLUDED.data",
                [(*key, *row) for row in batch.chats],
            )
        if batch.deleted_chats:
            await conn.execute(
                "DELETE FROM chats WHERE tenant=$1 AND room=$2 AND chat_id = ANY($3::text[])",
                *key,
                batch.deleted_chats,
            )
        if batch.tombstones:
            await conn.executemany(
                "INSERT INTO tombstones (tenant, room, key, until, data)"
                " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant, room, key)"
                " DO UPDATE SET until = EXCLUDED.until, data = EXCLUDED.data",
                [(*key, *row) for row in batch.tombstones],
            )
        if batch.dropped_tombstones:
            await conn.execute(
                "DELETE FROM tombstones WHERE tenant=$1 AND room=$2 AND key = ANY($3::text[])",
                *key,
                batch.dropped_tombstones,
            )
        if batch.prune_through is not None:
            await conn.execute(
                "DELETE FROM events WHERE tenant=$1 AND room=$2 AND seq<=$3",
                *key,
                batch.prune_through,
            )
        await conn.execute(
            "UPDATE rooms SET seq=$1, next_number=$2, pruned_through=$3"
            " WHERE tenant=$4 AND room=$5",
            batch.seq,
            batch.next_number,
            batch.pruned_through,
            *key,
        )

"""PostgreSQL statements for images, rooms' images and invites (see ``storage.sharing``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from imagechat_tui.invites import Invite, redeem
from imagechat_tui.protocol import RoomImage
from imagechat_tui.server.image_quota import (
    ImageBudgets,
    ImageUse,
    ImageUseRow,
    QuotaExceeded,
    stored_refusal,
    window_start,
)
from imagechat_tui.server.storage.sharing import (
    INVITE_COLUMNS,
    invite_from_row,
    use_of,
    use_rows,
)
from imagechat_tui.server.uploads import ImageInfo

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

T = TypeVar("T")


class PostgresSharing:
    if TYPE_CHECKING:

        async def _with(self, fn: Callable[[PoolConnectionProxy], Awaitable[T]]) -> T: ...

    async def put_image(
        self,
        tenant: str,
        info: ImageInfo,
        data: bytes,
        *,
        uploader: str = "",
        budgets: ImageBudgets | None = None,
    ) -> bool:
        async def put(conn: PoolConnectionProxy) -> bool:
            async with conn.transaction():
                if budgets is not None:
                    # One upload per tenant at a time checks and stores, on every node.
                    await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", tenant)
                    known = await conn.fetchval(
                        "SELECT 1 FROM images WHERE tenant=$1 AND digest=$2", tenant, info.digest
                    )
                    if known is None:
                        user, whole = await self._stored(conn, tenant, uploader)
                        refused = stored_refusal(
                            budgets, ImageUse(user_stored=user, tenant_stored=whole), info.size
                        )
                        if refused is not None:
                            raise QuotaExceeded(refused)
                status = await conn.execute(
                    "INSERT INTO images"
                    " (tenant, digest, mime, width, height, size, data, created_at, uploaded_by)"
                    " VALUES ($1,$2,$3,$4,$5,$6,$7, EXTRACT(EPOCH FROM now())::bigint, $8)"
                    " ON CONFLICT DO NOTHING",
                    tenant,
                    info.digest,
                    info.mime,
                    info.width,
                    info.height,
                    info.size,
                    data,
                    uploader,
                )
            return bool(status == "INSERT 0 1")

        return await self._with(put)

    @staticmethod
    async def _stored(conn: PoolConnectionProxy, tenant: str, user_id: str) -> tuple[int, int]:
        row = await conn.fetchrow(
            "SELECT COALESCE(SUM(size) FILTER (WHERE uploaded_by=$2), 0),"
            " COALESCE(SUM(size), 0) FROM images WHERE tenant=$1",
            tenant,
            user_id,
        )
        assert row is not None
        return int(row[0]), int(row[1])

    async def add_upload_bytes(self, tenant: str, user_id: str, nbytes: int, at: float) -> None:
        async def add(conn: PoolConnectionProxy) -> None:
            await conn.execute(
                "INSERT INTO upload_buckets (tenant, user_id, bucket, bytes) VALUES ($1,$2,$3,$4)"
                " ON CONFLICT (tenant, user_id, bucket)"
                " DO UPDATE SET bytes = upload_buckets.bytes + excluded.bytes",
                tenant,
                user_id,
                int(at) // 60 * 60,
                nbytes,
            )

        await self._with(add)

    async def image_use(self, tenant: str, user_id: str, now: float) -> ImageUse:
        async def read(conn: PoolConnectionProxy) -> ImageUse:
            user, whole = await self._stored(conn, tenant, user_id)
            rows = await conn.fetch(
                "SELECT bucket, user_id, bytes FROM upload_buckets"
                " WHERE tenant=$1 AND bucket >= $2 ORDER BY bucket",
                tenant,
                window_start(now),
            )
            return use_of(user, whole, user_id, (tuple(r) for r in rows))

        return await self._with(read)

    async def image_use_report(self, now: float) -> list[ImageUseRow]:
        async def read(conn: PoolConnectionProxy) -> list[ImageUseRow]:
            stored = await conn.fetch(
                "SELECT tenant, uploaded_by, SUM(size) FROM images GROUP BY tenant, uploaded_by"
            )
            hour = await conn.fetch(
                "SELECT tenant, user_id, SUM(bytes) FROM upload_buckets WHERE bucket >= $1"
                " GROUP BY tenant, user_id",
                window_start(now),
            )
            return use_rows((tuple(r) for r in stored), (tuple(r) for r in hour))

        return await self._with(read)

    async def image_info(self, tenant: str, digest: str) -> ImageInfo | None:
        async def read(conn: PoolConnectionProxy) -> ImageInfo | None:
            row = await conn.fetchrow(
                "SELECT digest, mime, width, height, size FROM images"
                " WHERE tenant=$1 AND digest=$2",
                tenant,
                digest,
            )
            return None if row is None else ImageInfo(*tuple(row))

        return await self._with(read)

    async def image_data(self, tenant: str, digest: str) -> tuple[ImageInfo, bytes] | None:
        async def read(conn: PoolConnectionProxy) -> tuple[ImageInfo, bytes] | None:
            row = await conn.fetchrow(
                "SELECT digest, mime, width, height, size, data FROM images"
                " WHERE tenant=$1 AND digest=$2",
                tenant,
                digest,
            )
            return None if row is None else (ImageInfo(*tuple(row)[:5]), bytes(row[5]))

        return await self._with(read)

    async def set_room_image(
        self, tenant: str, room: str, image: RoomImage
    ) -> tuple[RoomImage, bool]:
        async def put(conn: PoolConnectionProxy) -> tuple[RoomImage, bool]:
            status = await conn.execute(
                "INSERT INTO room_images (tenant, room, digest, width, height, title)"
                " VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING",
                tenant,
                room,
                image.digest,
                image.width,
                image.height,
                image.title,
            )
            if status == "INSERT 0 1":
                return image, True
            stored = await self._room_image(conn, tenant, room)
            assert stored is not None
            return stored, False

        return await self._with(put)

    @staticmethod
    async def _room_image(conn: PoolConnectionProxy, tenant: str, room: str) -> RoomImage | None:
        row = await conn.fetchrow(
            "SELECT digest, width, height, title FROM room_images WHERE tenant=$1 AND room=$2",
            tenant,
            room,
        )
        return None if row is None else RoomImage(*tuple(row))

    async def room_image(self, tenant: str, room: str) -> RoomImage | None:
        return await self._with(lambda conn: self._room_image(conn, tenant, room))

    async def rooms_showing(self, tenant: str, digest: str) -> list[str]:
        async def read(conn: PoolConnectionProxy) -> list[str]:
            rows = await conn.fetch(
                "SELECT room FROM room_images WHERE tenant=$1 AND digest=$2 ORDER BY room",
                tenant,
                digest,
            )
            return [str(row[0]) for row in rows]

        return await self._with(read)

    async def add_invite(self, invite: Invite) -> None:
        async def put(conn: PoolConnectionProxy) -> None:
            await conn.execute(
                f"INSERT INTO invites ({INVITE_COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)",
                invite.code_hash,
                invite.tenant,
                invite.room,
                invite.role,
                invite.created_by,
                invite.created_at,
                invite.expires_at,
                invite.max_uses,
                invite.uses,
                invite.revoked,
                invite.parent,
            )

        await self._with(put)

    @staticmethod
    async def _get_invite(
        conn: PoolConnectionProxy, code_hash: str, lock: str = ""
    ) -> Invite | None:
        row = await conn.fetchrow(
            f"SELECT {INVITE_COLUMNS} FROM invites WHERE code_hash=$1 {lock}", code_hash
        )
        return None if row is None else invite_from_row(row)

    async def get_invite(self, code_hash: str) -> Invite | None:
        return await self._with(lambda conn: self._get_invite(conn, code_hash))

    async def redeem_invite(self, code_hash: str, now: float) -> Invite:
        async def use(conn: PoolConnectionProxy) -> Invite:
            async with conn.transaction():
                # FOR UPDATE: two nodes redeeming the last use at once, one of them wins.
                used = redeem(await self._get_invite(conn, code_hash, "FOR UPDATE"), now)
                await conn.execute(
                    "UPDATE invites SET uses=$1 WHERE code_hash=$2", used.uses, code_hash
                )
            return used

        return await self._with(use)

    async def list_invites(self, tenant: str | None = None) -> list[Invite]:
        async def read(conn: PoolConnectionProxy) -> list[Invite]:
            if tenant is None:
                rows = await conn.fetch(
                    f"SELECT {INVITE_COLUMNS} FROM invites ORDER BY created_at DESC, code_hash"
                )
            else:
                rows = await conn.fetch(
                    f"SELECT {INVITE_COLUMNS} FROM invites WHERE tenant=$1"
                    " ORDER BY created_at DESC, code_hash",
                    tenant,
                )
            return [invite_from_row(row) for row in rows]

        return await self._with(read)

    async def revoke_invites(self, code_hashes: list[str]) -> list[Invite]:
        async def revoke(conn: PoolConnectionProxy) -> list[Invite]:
            rows = await conn.fetch(
                f"UPDATE invites SET revoked=TRUE WHERE code_hash = ANY($1::text[])"
                f" RETURNING {INVITE_COLUMNS}",
                code_hashes,
            )
            return [invite_from_row(row) for row in rows]

        return await self._with(revoke)

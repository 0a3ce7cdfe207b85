"""SQLite statements for images, rooms' images and invites (see ``storage.sharing``)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

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

T = TypeVar("T")


class SqliteSharing:
    if TYPE_CHECKING:

        def _conn(self) -> sqlite3.Connection: ...

        async def _run(self, fn: Callable[..., T], *args: Any) -> T: ...

    async def put_image(
        self,
        tenant: str,
        info: ImageInfo,
        data: bytes,
        *,
        uploader: str = "",
        budgets: ImageBudgets | None = None,
    ) -> bool:
        def put() -> bool:
            db = self._conn()
            db.execute("BEGIN IMMEDIATE")  # the write lock: the budget check and the insert
            try:
                known = db.execute(
                    "SELECT 1 FROM images WHERE tenant=? AND digest=?", (tenant, info.digest)
                ).fetchone()
                if known is None and budgets is not None:
                    user, whole = self._stored(tenant, uploader)
                    refused = stored_refusal(
                        budgets, ImageUse(user_stored=user, tenant_stored=whole), info.size
                    )
                    if refused is not None:
                        raise QuotaExceeded(refused)
                cursor = db.execute(
                    "INSERT OR IGNORE INTO images"
                    " (tenant, digest, mime, width, height, size, data, created_at, uploaded_by)"
                    " VALUES (?,?,?,?,?,?,?,?,?)",
                    (
                        tenant,
                        info.digest,
                        info.mime,
                        info.width,
                        info.height,
                        info.size,
                        data,
                        int(time.time()),
                        uploader,
                    ),
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            return cursor.rowcount == 1

        return await self._run(put)

    def _stored(self, tenant: str, user_id: str) -> tuple[int, int]:
        """(the user's, the tenant's) stored image bytes."""
        row = (
            self._conn()
            .execute(
                "SELECT COALESCE(SUM(CASE WHEN uploaded_by=? THEN size END), 0),"
                " COALESCE(SUM(size), 0) FROM images WHERE tenant=?",
                (user_id, tenant),
            )
            .fetchone()
        )
        return int(row[0]), int(row[1])

    async def add_upload_bytes(self, tenant: str, user_id: str, nbytes: int, at: float) -> None:
        def add() -> None:
            self._conn().execute(
                "INSERT INTO upload_buckets (tenant, user_id, bucket, bytes) VALUES (?,?,?,?)"
                " ON CONFLICT (tenant, user_id, bucket) DO UPDATE SET bytes = bytes + excluded.bytes",
                (tenant, user_id, int(at) // 60 * 60, nbytes),
            )

        await self._run(add)

    async def image_use(self, tenant: str, user_id: str, now: float) -> ImageUse:
        def read() -> ImageUse:
            user, whole = self._stored(tenant, user_id)
            rows = (
                self._conn()
                .execute(
                    "SELECT bucket, user_id, bytes FROM upload_buckets"
                    " WHERE tenant=? AND bucket >= ? ORDER BY bucket",
                    (tenant, window_start(now)),
                )
                .fetchall()
            )
            return use_of(user, whole, user_id, rows)

        return await self._run(read)

    async def image_use_report(self, now: float) -> list[ImageUseRow]:
        def read() -> list[ImageUseRow]:
            db = self._conn()
            stored = db.execute(
                "SELECT tenant, uploaded_by, SUM(size) FROM images GROUP BY tenant, uploaded_by"
            ).fetchall()
            hour = db.execute(
                "SELECT tenant, user_id, SUM(bytes) FROM upload_buckets WHERE bucket >= ?"
                " GROUP BY tenant, user_id",
                (window_start(now),),
            ).fetchall()
            return use_rows(stored, hour)

        return await self._run(read)

    async def image_info(self, tenant: str, digest: str) -> ImageInfo | None:
        def read() -> ImageInfo | None:
            row = (
                self._conn()
                .execute(
                    "SELECT digest, mime, width, height, size FROM images WHERE tenant=? AND digest=?",
                    (tenant, digest),
                )
                .fetchone()
            )
            return None if row is None else ImageInfo(*row)

        return await self._run(read)

    async def image_data(self, tenant: str, digest: str) -> tuple[ImageInfo, bytes] | None:
        def read() -> tuple[ImageInfo, bytes] | None:
            row = (
                self._conn()
                .execute(
                    "SELECT digest, mime, width, height, size, data FROM images"
                    " WHERE tenant=? AND digest=?",
                    (tenant, digest),
                )
                .fetchone()
            )
            return None if row is None else (ImageInfo(*row[:5]), bytes(row[5]))

        return await self._run(read)

    async def set_room_image(
        self, tenant: str, room: str, image: RoomImage
    ) -> tuple[RoomImage, bool]:
        def put() -> tuple[RoomImage, bool]:
            db = self._conn()
            cursor = db.execute(
                "INSERT OR IGNORE INTO room_images (tenant, room, digest, width, height, title)"
                " VALUES (?,?,?,?,?,?)",
                (tenant, room, image.digest, image.width, image.height, image.title),
            )
            if cursor.rowcount == 1:
                return image, True
            stored = self._room_image(tenant, room)
            assert stored is not None
            return stored, False

        return await self._run(put)

    def _room_image(self, tenant: str, room: str) -> RoomImage | None:
        row = (
            self._conn()
            .execute(
                "SELECT digest, width, height, title FROM room_images WHERE tenant=? AND room=?",
                (tenant, room),
            )
            .fetchone()
        )
        return None if row is None else RoomImage(*row)

    async def room_image(self, tenant: str, room: str) -> RoomImage | None:
        return await self._run(self._room_image, tenant, room)

    async def rooms_showing(self, tenant: str, digest: str) -> list[str]:
        def read() -> list[str]:
            return [
                room
                for (room,) in self._conn().execute(
                    "SELECT room FROM room_images WHERE tenant=? AND digest=? ORDER BY room",
                    (tenant, digest),
                )
            ]

        return await self._run(read)

    async def add_invite(self, invite: Invite) -> None:
        def put() -> None:
            self._conn().execute(
                f"INSERT INTO invites ({INVITE_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    invite.code_hash,
                    invite.tenant,
                    invite.room,
                    invite.role,
                    invite.created_by,
                    invite.created_at,
                    invite.expires_at,
                    invite.max_uses,
                    invite.uses,
                    int(invite.revoked),
                    invite.parent,
                ),
            )

        await self._run(put)

    def _get_invite(self, code_hash: str) -> Invite | None:
        row = (
            self._conn()
            .execute(f"SELECT {INVITE_COLUMNS} FROM invites WHERE code_hash=?", (code_hash,))
            .fetchone()
        )
        return None if row is None else invite_from_row(row)

    async def get_invite(self, code_hash: str) -> Invite | None:
        return await self._run(self._get_invite, code_hash)

    async def redeem_invite(self, code_hash: str, now: float) -> Invite:
        def use() -> Invite:
            db = self._conn()
            db.execute("BEGIN IMMEDIATE")
            try:
                used = redeem(self._get_invite(code_hash), now)
                db.execute("UPDATE invites SET uses=? WHERE code_hash=?", (used.uses, code_hash))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            return used

        return await self._run(use)

    async def list_invites(self, tenant: str | None = None) -> list[Invite]:
        def read() -> list[Invite]:
            where, args = ("WHERE tenant=?", (tenant,)) if tenant is not None else ("", ())
            return [
                invite_from_row(row)
                for row in self._conn().execute(
                    f"SELECT {INVITE_COLUMNS} FROM invites {where}"
                    " ORDER BY created_at DESC, code_hash",
                    args,
                )
            ]

        return await self._run(read)

    async def revoke_invites(self, code_hashes: list[str]) -> list[Invite]:
        def revoke() -> list[Invite]:
            db = self._conn()
            db.executemany(
                "UPDATE invites SET revoked=1 WHERE code_hash=?", [(h,) for h in code_hashes]
            )
            return [i for i in map(self._get_invite, code_hashes) if i is not None]

        return await self._run(revoke)

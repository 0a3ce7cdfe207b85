"""What the storage contract says about shared images, rooms' images and invites.

The methods are part of ``Storage``; their SQL is in ``sharing_sqlite`` and
``sharing_postgres``, and both pass the same contract tests.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable
from typing import Any

from imagechat_tui.invites import Invite
from imagechat_tui.protocol import RoomImage
from imagechat_tui.server.image_quota import ImageBudgets, ImageUse, ImageUseRow
from imagechat_tui.server.uploads import ImageInfo

#: The invites table's columns, in the order ``invite_from_row`` reads them (both dialects).
INVITE_COLUMNS = (
    "code_hash, tenant, room, role, created_by, created_at, expires_at, max_uses, uses, revoked,"
    " parent"
)


def invite_from_row(row: Any) -> Invite:
    """An ``Invite`` from a row of ``INVITE_COLUMNS`` (SQLite and PostgreSQL rows alike)."""
    (
        code_hash,
        tenant,
        room,
        role,
        created_by,
        created_at,
        expires_at,
        max_uses,
        uses,
        revoked,
        parent,
    ) = tuple(row)
    return Invite(
        code_hash=code_hash,
        tenant=tenant,
        room=room,
        role=role,
        created_by=created_by,
        created_at=int(created_at),
        expires_at=int(expires_at),
        max_uses=int(max_uses),
        uses=int(uses),
        revoked=bool(revoked),
        parent=parent,
    )


def use_of(user: int, whole: int, user_id: str, minutes: Iterable[Any]) -> ImageUse:
    """``ImageUse`` from the stored sums and the hour's (bucket, user_id, bytes) rows,
    oldest first (both dialects)."""
    tenant_minutes: dict[int, int] = {}
    user_minutes: list[tuple[int, int]] = []
    for bucket, who, nbytes in minutes:
        tenant_minutes[int(bucket)] = tenant_minutes.get(int(bucket), 0) + int(nbytes)
        if who == user_id:
            user_minutes.append((int(bucket), int(nbytes)))
    return ImageUse(user, whole, user_minutes, sorted(tenant_minutes.items()))


def use_rows(stored: Iterable[Any], hour: Iterable[Any]) -> list[ImageUseRow]:
    """``ImageUseRow``s from (tenant, user, bytes) sums of stored and uploaded bytes."""
    figures: dict[tuple[str, str], list[int]] = {}
    for tenant, user, nbytes in stored:
        figures.setdefault((str(tenant), str(user)), [0, 0])[0] += int(nbytes)
    for tenant, user, nbytes in hour:
        figures.setdefault((str(tenant), str(user)), [0, 0])[1] += int(nbytes)
    return [ImageUseRow(t, u, s, h) for (t, u), (s, h) in sorted(figures.items())]


class SharingStorage(abc.ABC):
    @abc.abstractmethod
    async def put_image(
        self,
        tenant: str,
        info: ImageInfo,
        data: bytes,
        *,
        uploader: str = "",
        budgets: ImageBudgets | None = None,
    ) -> bool:
        """Store a checked image for a tenant: True if new, False if it was there (then
        nothing is changed). With ``budgets``: in the same transaction, raise
        ``image_quota.QuotaExceeded`` (and store nothing) if a new image would pass the
        uploader's or the tenant's stored-bytes budget."""

    @abc.abstractmethod
    async def add_upload_bytes(self, tenant: str, user_id: str, nbytes: int, at: float) -> None:
        """Count ``nbytes`` of upload bodies received from a user in ``at``'s minute."""

    @abc.abstractmethod
    async def image_use(self, tenant: str, user_id: str, now: float) -> ImageUse:
        """The user's and the tenant's stored bytes and their minutes of the last hour."""

    @abc.abstractmethod
    async def image_use_report(self, now: float) -> list[ImageUseRow]:
        """Every (tenant, user) with images stored or bytes uploaded in the last hour."""

    @abc.abstractmethod
    async def image_info(self, tenant: str, digest: str) -> ImageInfo | None: ...

    @abc.abstractmethod
    async def image_data(self, tenant: str, digest: str) -> tuple[ImageInfo, bytes] | None: ...

    @abc.abstractmethod
    async def set_room_image(
        self, tenant: str, room: str, image: RoomImage
    ) -> tuple[RoomImage, bool]:
        """Record the room's image unless it has one: (the room's image, whether set now)."""

    @abc.abstractmethod
    async def room_image(self, tenant: str, room: str) -> RoomImage | None: ...

    @abc.abstractmethod
    async def rooms_showing(self, tenant: str, digest: str) -> list[str]: ...

    @abc.abstractmethod
    async def add_invite(self, invite: Invite) -> None: ...

    @abc.abstractmethod
    async def get_invite(self, code_hash: str) -> Invite | None: ...

    @abc.abstractmethod
    async def redeem_invite(self, code_hash: str, now: float) -> Invite:
        """Use the invite once, atomically (two redeeming the last use: one wins), or
        raise ``InviteRefused``; returns the invite as stored after the use."""

    @abc.abstractmethod
    async def list_invites(self, tenant: str | None = None) -> list[Invite]:
        """Every invite (of one tenant, or all), newest first."""

    @abc.abstractmethod
    async def revoke_invites(self, code_hashes: list[str]) -> list[Invite]:
        """Revoke these invites; returns those that exist, as stored after."""

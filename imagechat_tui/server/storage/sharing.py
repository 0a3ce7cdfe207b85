"""What the storage contract says about shared images, rooms' images and invites.

The methods are part of ``Storage``; their SQL is in ``sharing_sqlite`` and
``sharing_postgres``, and both pass the same contract tests.
"""

from __future__ import annotations

import abc
from typing import Any

from imagechat_tui.invites import Invite
from imagechat_tui.protocol import RoomImage
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


class SharingStorage(abc.ABC):
    @abc.abstractmethod
    async def put_image(self, tenant: str, info: ImageInfo, data: bytes) -> bool:
        """Store a checked image for a tenant: True if new, False if it was there (then
        nothing is changed)."""

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

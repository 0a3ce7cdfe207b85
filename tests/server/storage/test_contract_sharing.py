"""The storage contract for shared images, rooms' images and invites: the same tests,
unchanged, against SQLite and PostgreSQL (fixtures from test_contract)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from imagechat_tui.invites import Invite, InviteRefused, new_invite
from imagechat_tui.protocol import RoomImage
from imagechat_tui.server.storage import Storage
from imagechat_tui.server.uploads import ImageInfo, check_image
from tests.server.storage.test_contract import OpenStorage, database, db, open_db
from tests.sharing.images import png, sha

__all__ = ["database", "db", "open_db"]  # the parametrized fixtures, used by name

NOW = 1_800_000_000


def image(width: int = 40, height: int = 30) -> tuple[ImageInfo, bytes]:
    data = png(width, height)
    return check_image(data, sha(data)), data


def invite(room: str = "r1", tenant: str = "local", **kw: object) -> tuple[str, Invite]:
    args: dict[str, object] = dict(
        tenant=tenant, room=room, role="member", inviter="alice", inviter_role="member", now=NOW
    )
    args.update(kw)
    return new_invite(**args)  # type: ignore[arg-type]


async def test_an_image_is_stored_once_per_tenant_and_never_overwritten(db: Storage) -> None:
    info, data = image()
    assert await db.put_image("local", info, data) is True
    assert await db.put_image("local", info, b"other bytes") is False
    assert await db.image_data("local", info.digest) == (info, data)
    assert await db.image_info("local", info.digest) == info
    assert await db.image_info("other", info.digest) is None  # tenants never share
    assert await db.image_data("other", info.digest) is None


async def test_a_room_keeps_the_first_image_it_was_shared_with(db: Storage) -> None:
    first = RoomImage(digest="a" * 64, width=4, height=3, title="one.png")
    second = RoomImage(digest="b" * 64, width=8, height=6)
    assert await db.room_image("local", "r1") is None
    assert await db.set_room_image("local", "r1", first) == (first, True)
    assert await db.set_room_image("local", "r1", second) == (first, False)
    assert await db.set_room_image("local", "r2", first) == (first, True)
    assert await db.room_image("local", "r1") == first
    assert await db.rooms_showing("local", "a" * 64) == ["r1", "r2"]
    assert await db.rooms_showing("other", "a" * 64) == []


async def test_invites_are_found_by_hash_used_and_used_up(db: Storage) -> None:
    _, stored = invite(max_uses=2)
    await db.add_invite(stored)
    assert await db.get_invite(stored.code_hash) == stored
    assert (await db.redeem_invite(stored.code_hash, NOW + 1)).uses == 1
    assert (await db.redeem_invite(stored.code_hash, NOW + 2)).uses == 2
    with pytest.raises(InviteRefused) as refused:
        await db.redeem_invite(stored.code_hash, NOW + 3)
    assert refused.value.reason == "used-up"
    assert (await db.get_invite(stored.code_hash)) == replace(stored, uses=2)
    with pytest.raises(InviteRefused) as refused:
        await db.redeem_invite("0" * 64, NOW)
    assert refused.value.reason == "not-found"


async def test_expired_and_revoked_invites_are_refused_and_listed(db: Storage) -> None:
    _, short = invite(expires_in=60)
    _, other_tenant = invite(tenant="other")
    _, revoked = invite(room="r2", now=NOW + 5)
    for each in (short, other_tenant, revoked):
        await db.add_invite(each)
    with pytest.raises(InviteRefused) as refused:
        await db.redeem_invite(short.code_hash, NOW + 60)
    assert refused.value.reason == "expired"
    assert [i.revoked for i in await db.revoke_invites([revoked.code_hash, "f" * 64])] == [True]
    with pytest.raises(InviteRefused) as refused:
        await db.redeem_invite(revoked.code_hash, NOW + 6)
    assert refused.value.reason == "revoked"
    assert [i.code_hash for i in await db.list_invites("local")] == [
        revoked.code_hash,
        short.code_hash,
    ]
    assert len(await db.list_invites()) == 3


async def test_the_last_use_goes_to_exactly_one_of_two_processes(open_db: OpenStorage) -> None:
    first, second = await open_db(), await open_db()
    _, stored = invite(max_uses=1)
    await first.add_invite(stored)
    outcomes = await asyncio.gather(
        first.redeem_invite(stored.code_hash, NOW + 1),
        second.redeem_invite(stored.code_hash, NOW + 1),
        return_exceptions=True,
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["Invite", "InviteRefused"]


async def test_images_rooms_and_invites_survive_a_reopen(open_db: OpenStorage) -> None:
    before = await open_db()
    info, data = image()
    _, stored = invite()
    await before.put_image("local", info, data)
    await before.set_room_image("local", "r1", RoomImage(info.digest, info.width, info.height))
    await before.add_invite(stored)
    await before.close()
    after = await open_db()
    assert await after.image_data("local", info.digest) == (info, data)
    assert (await after.room_image("local", "r1")) is not None
    assert await after.get_invite(stored.code_hash) == stored

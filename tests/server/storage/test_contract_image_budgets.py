"""The storage contract for image budgets: who stored what, bytes uploaded per minute,
the stored-bytes check inside the storing transaction. The same tests against a real
SQLite file and a real PostgreSQL database, several storages open as several nodes."""

from __future__ import annotations

import asyncio

import pytest

from imagechat_tui.server.image_quota import ImageBudgets, ImageUse, ImageUseRow, QuotaExceeded
from imagechat_tui.server.storage import Storage
from imagechat_tui.server.uploads import ImageInfo, check_image
from tests.server.storage.test_contract import OpenStorage, database, db, open_db
from tests.sharing.images import png, sha

__all__ = ["database", "db", "open_db"]  # the parametrized fixtures, used by name

T0 = 1_800_000_000 // 60 * 60  # a minute's start


def image(side: int) -> tuple[ImageInfo, bytes]:
    data = png(side, side, (side % 256, 1, 2))
    return check_image(data, sha(data)), data


async def test_stored_bytes_are_counted_for_whoever_stored_first(db: Storage) -> None:
    (one, a), (two, b) = image(10), image(11)
    assert await db.put_image("t", one, a, uploader="ann")
    assert await db.put_image("t", two, b, uploader="bob")
    assert not await db.put_image("t", one, a, uploader="bob")  # ann's still
    use = await db.image_use("t", "ann", T0)
    assert (use.user_stored, use.tenant_stored) == (one.size, one.size + two.size)
    assert (await db.image_use("other", "ann", T0)).tenant_stored == 0


async def test_uploaded_bytes_are_the_last_hours_minutes_for_user_and_tenant(
    db: Storage,
) -> None:
    await db.add_upload_bytes("t", "ann", 100, T0 - 3600)  # out of the hour at T0
    await db.add_upload_bytes("t", "ann", 10, T0 - 3540)
    await db.add_upload_bytes("t", "ann", 5, T0 - 3530)  # the same minute: added
    await db.add_upload_bytes("t", "bob", 7, T0 + 1)
    await db.add_upload_bytes("u", "ann", 1000, T0)  # another tenant
    use = await db.image_use("t", "ann", T0 + 30)
    assert use.user_minutes == [(T0 - 3540, 15)]
    assert use.tenant_minutes == [(T0 - 3540, 15), (T0, 7)]
    assert (use.user_hour, use.tenant_hour) == (15, 22)


async def test_the_stored_budget_is_checked_where_the_image_is_stored(db: Storage) -> None:
    (one, a), (two, b) = image(10), image(12)
    budgets = ImageBudgets(max_user_image_bytes=one.size + two.size - 1)
    assert await db.put_image("t", one, a, uploader="ann", budgets=budgets)
    with pytest.raises(QuotaExceeded) as refused:
        await db.put_image("t", two, b, uploader="ann", budgets=budgets)
    assert refused.value.refusal.reason == "storage-quota"
    assert await db.image_info("t", two.digest) is None  # nothing stored
    assert await db.put_image("t", two, b, uploader="bob", budgets=budgets)  # bob has room
    # an image already there is no new byte: answered, not refused
    assert not await db.put_image("t", one, a, uploader="ann", budgets=budgets)
    tenant = ImageBudgets(max_tenant_image_bytes=one.size + two.size)
    three, c = image(13)
    with pytest.raises(QuotaExceeded):
        await db.put_image("t", three, c, uploader="cat", budgets=tenant)


async def test_two_nodes_storing_at_once_cannot_both_take_the_last_room(
    open_db: OpenStorage,
) -> None:
    first, second = await open_db(), await open_db()
    (one, a), (two, b) = image(20), image(21)
    budgets = ImageBudgets(max_tenant_image_bytes=max(one.size, two.size) + 1)
    outcomes = await asyncio.gather(
        first.put_image("t", one, a, uploader="ann", budgets=budgets),
        second.put_image("t", two, b, uploader="bob", budgets=budgets),
        return_exceptions=True,
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["QuotaExceeded", "bool"]


async def test_the_figures_survive_a_reopen_and_are_reported(open_db: OpenStorage) -> None:
    before = await open_db()
    one, a = image(10)
    await before.put_image("t", one, a, uploader="ann")
    await before.add_upload_bytes("t", "ann", one.size, T0)
    await before.add_upload_bytes("t", "bob", 9, T0)
    await before.close()
    after = await open_db()
    assert await after.image_use("t", "ann", T0 + 5) == ImageUse(
        one.size, one.size, [(T0, one.size)], [(T0, one.size + 9)]
    )
    assert await after.image_use_report(T0 + 5) == [
        ImageUseRow("t", "ann", one.size, one.size),
        ImageUseRow("t", "bob", 0, 9),
    ]
    assert await after.image_use_report(T0 + 3600) == [ImageUseRow("t", "ann", one.size, 0)]

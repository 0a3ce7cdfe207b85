"""The image budgets' rule, pure: which budget refuses, with which status and wait."""

from __future__ import annotations

from http import HTTPStatus

from imagechat_tui.server.image_quota import ImageBudgets, ImageUse, refusal, size, window_start

NOW = 1_800_000_030  # 30 s into a minute
MINUTE = NOW // 60 * 60


def test_within_every_budget_nothing_refuses() -> None:
    assert refusal(ImageBudgets(), ImageUse(), 25 * 2**20, NOW) is None
    assert refusal(ImageBudgets(0, 0, 0, 0), ImageUse(10**12, 10**12), 10**9, NOW) is None


def test_stored_bytes_refuse_with_413_unless_the_image_is_there_already() -> None:
    budgets = ImageBudgets(max_user_image_bytes=100)
    refused = refusal(budgets, ImageUse(user_stored=90), 20, NOW)
    assert refused is not None and refused.status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert refused.reason == "storage-quota" and refused.retry_after is None
    assert refusal(budgets, ImageUse(user_stored=90), 20, NOW, new=False) is None


def test_the_hour_refuses_with_429_until_enough_of_it_has_passed() -> None:
    budgets = ImageBudgets(max_user_upload_bytes_per_hour=100)
    minutes = [(MINUTE - 1800, 60), (MINUTE - 600, 30)]
    refused = refusal(budgets, ImageUse(user_minutes=minutes), 20, NOW)
    assert refused is not None and refused.status == HTTPStatus.TOO_MANY_REQUESTS
    # the 60 bytes leave the hour 1800 s after their minute began: 1770 s from NOW
    assert refused.retry_after == 1800 - 30 + 1
    both_must_go = refusal(budgets, ImageUse(user_minutes=minutes), 95, NOW)
    assert both_must_go is not None and both_must_go.retry_after == 3000 - 30 + 1
    tenant = ImageBudgets(max_tenant_upload_bytes_per_hour=50)
    assert refusal(tenant, ImageUse(tenant_minutes=minutes), 1, NOW) is not None


def test_the_hour_is_the_last_sixty_minute_buckets() -> None:
    assert window_start(NOW) == MINUTE - 59 * 60


def test_sizes_read_as_people_write_them() -> None:
    assert [size(n) for n in (40, 2048, 25 * 2**20, 2**30)] == [
        "40 bytes",
        "2 KiB",
        "25.0 MiB",
        "1.0 GiB",
    ]

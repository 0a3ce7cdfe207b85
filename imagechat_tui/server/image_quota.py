"""Image storage budgets: bytes stored and bytes uploaded per hour, per user and per
tenant. The rule is pure (``refusal``); the figures come from the database
(``Storage.image_use``), so they hold across restarts and across nodes.

Stored bytes are the images' own (each image counts once per tenant, for the user who
stored it first). Uploaded bytes are every body read by ``PUT /images`` (stored,
refused or already there: each was received), in minute buckets; the hour is the last
60 of them. A request is checked from its head (the declared length, or the largest
image for a chunked body) before its body is read, and the stored bytes again inside the
transaction that stores it (two uploads at once cannot both take the last room).

Kept light (no PIL, no websockets): ``server.config`` imports it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

HOUR = 3600
MIB = 1024 * 1024
GIB = 1024 * MIB


@dataclass(frozen=True, slots=True)
class ImageBudgets:
    """The four budgets (0: no limit); ``serve`` options (``ServerConfig.image_budgets``)."""

    max_user_image_bytes: int = 1 * GIB
    max_tenant_image_bytes: int = 20 * GIB
    max_user_upload_bytes_per_hour: int = 256 * MIB
    max_tenant_upload_bytes_per_hour: int = 2 * GIB


@dataclass(frozen=True, slots=True)
class ImageUse:
    """What a user and their tenant have stored, and uploaded in the last hour (per
    minute bucket: (bucket start, bytes), oldest first)."""

    user_stored: int = 0
    tenant_stored: int = 0
    user_minutes: list[tuple[int, int]] = field(default_factory=list)
    tenant_minutes: list[tuple[int, int]] = field(default_factory=list)

    @property
    def user_hour(self) -> int:
        return sum(n for _, n in self.user_minutes)

    @property
    def tenant_hour(self) -> int:
        return sum(n for _, n in self.tenant_minutes)


@dataclass(frozen=True, slots=True)
class QuotaRefusal:
    status: HTTPStatus
    reason: str  # "storage-quota" or "upload-rate"
    message: str
    retry_after: int | None = None  # seconds, for the hourly budgets


class QuotaExceeded(Exception):
    """Raised by ``Storage.put_image`` when storing would pass a stored-bytes budget."""

    def __init__(self, refusal: QuotaRefusal) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


def window_start(now: float) -> int:
    """The first minute bucket of the hour that ends at ``now``."""
    return int(now) // 60 * 60 - HOUR + 60


def size(n: int) -> str:
    """Bytes for a person: 1.0 GiB, 25.0 MiB, 812 KiB, 40 bytes."""
    for unit, scale in (("GiB", GIB), ("MiB", MIB)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n // 1024} KiB" if n >= 1024 else f"{n} bytes"


def refusal(
    budgets: ImageBudgets, use: ImageUse, incoming: int, now: float, *, new: bool = True
) -> QuotaRefusal | None:
    """Why an upload of ``incoming`` bytes may not be taken now, or None. An image the
    tenant has already (``new=False``) adds no stored byte, but its body is still sent."""
    stored = stored_refusal(budgets, use, incoming) if new else None
    if stored is not None:
        return stored
    for budget, minutes, whose in (
        (budgets.max_user_upload_bytes_per_hour, use.user_minutes, "You have"),
        (budgets.max_tenant_upload_bytes_per_hour, use.tenant_minutes, "This tenant has"),
    ):
        used = sum(n for _, n in minutes)
        if budget and used + incoming > budget:
            wait = _retry_after(minutes, budget - incoming, now)
            return QuotaRefusal(
                HTTPStatus.TOO_MANY_REQUESTS,
                "upload-rate",
                f"{whose} uploaded {size(used)} in the last hour and this is {size(incoming)}"
                f" more; the most is {size(budget)} an hour: retry in {wait} s.",
                wait,
            )
    return None


def stored_refusal(budgets: ImageBudgets, use: ImageUse, incoming: int) -> QuotaRefusal | None:
    """The stored-bytes half of ``refusal`` (checked again when the image is stored)."""
    for budget, used, whose, who in (
        (budgets.max_user_image_bytes, use.user_stored, "Your images", "one user"),
        (budgets.max_tenant_image_bytes, use.tenant_stored, "This tenant's images", "a tenant"),
    ):
        if budget and used + incoming > budget:
            return QuotaRefusal(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                "storage-quota",
                f"{whose} here take {size(used)}; with this {size(incoming)} they would pass"
                f" {size(budget)}, the most {who} may store.",
            )
    return None


def _retry_after(minutes: list[tuple[int, int]], room: int, now: float) -> int:
    """Seconds until the buckets still in the hour hold at most ``room`` bytes."""
    if room < 0:  # larger than the whole hour's budget: never; say an hour
        return HOUR
    left = sum(n for _, n in minutes)
    for start, n in minutes:  # oldest first: each leaves the hour at start + HOUR
        left -= n
        if left <= room:
            return max(1, int(start + HOUR - now) + 1)
    return HOUR


# --- what `stats` shows ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImageUseRow:
    """One user's image figures, for ``stats``: stored bytes, bytes uploaded in the hour."""

    tenant: str
    user_id: str  # "" for images stored before uploaders were recorded
    stored: int
    hour: int


def tenant_budget(
    budgets: ImageBudgets,
    stored: int = 0,
    hour: int = 0,
    users: list[dict[str, object]] | None = None,
) -> dict[str, object]:
    """One tenant's image figures beside its budgets (``stats --json``'s ``images``)."""
    return {
        "storedBytes": stored,
        "storedBytesBudget": budgets.max_tenant_image_bytes,
        "uploadedBytesLastHour": hour,
        "uploadBytesPerHourBudget": budgets.max_tenant_upload_bytes_per_hour,
        "users": users or [],
    }


def budget_report(
    rows: Iterable[ImageUseRow], budgets: ImageBudgets
) -> dict[str, dict[str, object]]:
    """Per tenant: its figures and each user's, against the budgets (0: no limit)."""
    by_tenant: dict[str, list[ImageUseRow]] = {}
    for row in rows:
        by_tenant.setdefault(row.tenant, []).append(row)
    report = {}
    for tenant, users in sorted(by_tenant.items()):
        report[tenant] = tenant_budget(
            budgets,
            sum(u.stored for u in users),
            sum(u.hour for u in users),
            [
                {
                    "user": u.user_id,
                    "storedBytes": u.stored,
                    "storedBytesBudget": budgets.max_user_image_bytes,
                    "uploadedBytesLastHour": u.hour,
                    "uploadBytesPerHourBudget": budgets.max_user_upload_bytes_per_hour,
                }
                for u in sorted(users, key=lambda u: (-u.stored, u.user_id))
                if u.user_id  # images stored before uploaders were recorded: tenant only
            ],
        )
    return report


def budget_table(report: dict[str, dict[str, Any]]) -> list[str]:
    """``stats``' lines: each tenant, then its users, as 'use of budget'."""

    def of(used: int, budget: int) -> str:
        return f"{size(used)} of {size(budget) if budget else 'no limit'}"

    lines = [f"{'images: tenant / user':<32} {'stored':>26} {'uploaded in the last hour':>28}"]
    for tenant, figures in report.items():
        lines.append(
            f"{tenant:<32} {of(figures['storedBytes'], figures['storedBytesBudget']):>26}"
            f" {of(figures['uploadedBytesLastHour'], figures['uploadBytesPerHourBudget']):>28}"
        )
        for user in figures["users"]:
            lines.append(
                f"  {user['user']:<30} {of(user['storedBytes'], user['storedBytesBudget']):>26}"
                f" {of(user['uploadedBytesLastHour'], user['uploadBytesPerHourBudget']):>28}"
            )
    return lines

"""Times in exports: epoch milliseconds (as the protocol carries them) to UTC text."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(ms: int) -> str:
    """ISO 8601 in UTC with milliseconds: ``2026-12-01T07:40:05.123Z`` (xsd:dateTime)."""
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def readable(ms: int) -> str:
    """For people: ``2026-12-01 07:40 UTC``."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")

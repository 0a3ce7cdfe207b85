"""``imagechat-tui migrate``: bring a database's schema up to date, and say what changed.

Both databases carry numbered migrations in their storage module: SQLite records the
version in ``PRAGMA user_version``; PostgreSQL in a ``schema_migrations`` table, applied
under an advisory lock. Opening a storage applies what is pending, which is also what
``serve`` does at start.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from imagechat_tui.server.storage import StorageUnavailable, open_storage


def _sqlite_version(path: str) -> int:
    if not Path(path).exists():
        return 0
    with sqlite3.connect(path) as db:
        return int(db.execute("PRAGMA user_version").fetchone()[0])


async def migrate(url: str) -> tuple[int, int]:
    """Apply pending migrations to ``url``; (version before, version after)."""
    storage = open_storage(url)
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        before = _sqlite_version(path)
        await storage.open()
        await storage.close()
        return before, _sqlite_version(path)
    await storage.open()
    try:
        after: int = await storage.schema_version()  # type: ignore[attr-defined]
        applied: list[int] = storage.applied_migrations  # type: ignore[attr-defined]
    finally:
        await storage.close()
    return (min(applied) - 1 if applied else after), after


__all__ = ["StorageUnavailable", "migrate"]

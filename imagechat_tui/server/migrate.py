"""``imagechat-tui migrate``: bring a database's schema up to date, and say what changed.

Each dialect's numbered migrations are ``.sql`` files under ``server/storage/sql/``
(SQLite records the version in ``PRAGMA user_version``; PostgreSQL in a
``schema_migrations`` table, applied under an advisory lock). Opening a storage applies
what is pending, which is also what ``serve`` does at start.
"""

from __future__ import annotations

from imagechat_tui.server.storage import StorageUnavailable, open_storage


async def migrate(url: str) -> tuple[int, int]:
    """Apply pending migrations to ``url``; (version before, version after)."""
    storage = open_storage(url)
    await storage.open()
    try:
        after = await storage.schema_version()
    finally:
        await storage.close()
    before = storage.migrated[0] if storage.migrated is not None else after
    return before, after


__all__ = ["StorageUnavailable", "migrate"]

"""Per-user and per-tenant quotas checked at ``join``: connections per user, rooms per tenant.

Both are counted on this node. Connections are counted per (tenant, user id) while
joined. A tenant's rooms are the rooms it has in storage plus the empty rooms it has
open here; a join that would bring a new room into being past the limit is refused.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from imagechat_tui.server.room import Room, RoomHub


class QuotaExceeded(Exception):
    def __init__(self, message: str, close_code: int) -> None:
        super().__init__(message)
        self.message = message
        self.close_code = close_code


class ConnectionQuota:
    """At most ``limit`` joined connections per (tenant, user id); 0 means no limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: Counter[tuple[str, str]] = Counter()

    def count(self, tenant: str, user_id: str) -> int:
        return self._open[(tenant, user_id)]

    def tenant_total(self, tenant: str) -> int:
        return sum(n for (t, _), n in self._open.items() if t == tenant)

    def acquire(self, tenant: str, user_id: str, close_code: int) -> None:
        """Count one more connection, or raise QuotaExceeded (and count nothing)."""
        key = (tenant, user_id)
        if self.limit and self._open[key] >= self.limit:
            raise QuotaExceeded(
                f"Too many connections for this user (the limit is {self.limit}); "
                "close another window first.",
                close_code,
            )
        self._open[key] += 1

    def release(self, tenant: str, user_id: str) -> None:
        key = (tenant, user_id)
        self._open[key] -= 1
        if self._open[key] <= 0:
            del self._open[key]


class RoomQuota:
    """At most ``limit`` rooms per tenant; 0 means no limit."""

    def __init__(self, hub: RoomHub, limit: int) -> None:
        self.hub = hub
        self.limit = limit
        self._locks: dict[str, asyncio.Lock] = {}

    async def open(self, tenant: str, name: str, close_code: int) -> Room:
        """The room, loaded; QuotaExceeded if it is new and the tenant has no room left."""
        hub = self.hub
        loaded = hub.rooms.get((tenant, name))
        if not self.limit or (loaded is not None and loaded.state.seq > 0):
            return await hub.get(tenant, name)
        # An empty room may be one whose join is being checked (and then evicted) right
        # now, so joins to empty rooms all take the tenant's lock.
        lock = self._locks.setdefault(tenant, asyncio.Lock())
        async with lock:  # two joins to new rooms must not both take the last one
            already_loaded = (tenant, name) in hub.rooms
            room = await hub.get(tenant, name)
            if already_loaded or room.state.seq > 0:
                return room
            stored = await hub.storage.room_count(tenant)
            open_empty = sum(
                1
                for (t, _), r in hub.rooms.items()
                if t == tenant and r is not room and r.state.seq == 0
            )
            if stored + open_empty >= self.limit:
                hub.evict_if_idle(room)
                raise QuotaExceeded(
                    f"This tenant has reached its limit of {self.limit} rooms.", close_code
                )
            return room

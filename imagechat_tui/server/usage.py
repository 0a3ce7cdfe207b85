"""Per-tenant usage: ``pubSubMessageCount`` and ``pubSubBandwidth``.

Counted in memory on the delivery path (one dict update per frame written, whatever the
number of recipients) and added to the database every few seconds and at shutdown.
"""

from __future__ import annotations

from imagechat_tui.server.storage import Storage, Usage


class UsageMeter:
    def __init__(self) -> None:
        self._messages: dict[str, int] = {}
        self._bytes: dict[str, int] = {}

    def add(self, tenant: str, messages: int, nbytes: int) -> None:
        self._messages[tenant] = self._messages.get(tenant, 0) + messages
        self._bytes[tenant] = self._bytes.get(tenant, 0) + nbytes

    def pending(self, tenant: str) -> Usage:
        """One tenant's counts not yet flushed (for a live figure), without resetting."""
        return Usage(messages=self._messages.get(tenant, 0), bytes=self._bytes.get(tenant, 0))

    def take(self) -> dict[str, Usage]:
        """The counts since the last take, and reset."""
        deltas = {
            t: Usage(messages=m, bytes=self._bytes.get(t, 0)) for t, m in self._messages.items()
        }
        self._messages, self._bytes = {}, {}
        return deltas

    async def flush(self, storage: Storage) -> None:
        deltas = self.take()
        try:
            await storage.add_usage(deltas)
        except Exception:
            self.restore(deltas)  # not lost: counted again at the next flush
            raise

    def restore(self, deltas: dict[str, Usage]) -> None:
        for tenant, usage in deltas.items():
            self.add(tenant, usage.messages, usage.bytes)


def usage_report(usage: dict[str, Usage]) -> list[dict[str, object]]:
    """Rows in the reference product's vocabulary."""
    return [
        {"tenant": t, "pubSubMessageCount": u.messages, "pubSubBandwidth": u.bytes}
        for t, u in sorted(usage.items())
    ]

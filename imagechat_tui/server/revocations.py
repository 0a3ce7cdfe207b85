"""Revoking an invite ends the access it gave: a token redeemed from an invite carries
its id (the ``inv`` claim, ``auth.Identity.invite``), and every place that accepts a
token (a join, a live session's re-check, the HTTP routes, the browser's cookie) asks
``Revocations.check`` too.

The truth is the invite as stored (``revoked``), so it holds on every node and across
restarts whoever revoked it (``imagechat-tui invite revoke`` writes the database
directly). Answers are cached per invite: a revocation is final, so it is kept; a
standing invite is looked up again after ``ttl`` seconds, so a revocation reaches a node
within ``ttl`` for new requests, and within ``reverify_interval`` (+ ``ttl``) for the
sessions already open, which are closed with 4001.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Final

from imagechat_tui.auth import AuthError, Identity
from imagechat_tui.protocol import CloseCode
from imagechat_tui.server.storage import Storage

CACHE_SECONDS: Final = 10.0
CACHE_SIZE: Final = 16384
REVOKED: Final = "The invite this access came from was revoked; ask for a new link."


class Revocations:
    def __init__(
        self,
        storage: Storage,
        ttl: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.storage = storage
        self.ttl = ttl
        self._clock = clock
        self._standing: OrderedDict[str, float] = OrderedDict()  # invite -> checked at
        self._revoked: OrderedDict[str, float] = OrderedDict()  # final: kept

    async def check(self, identity: Identity) -> None:
        """Raise ``AuthError`` (close 4001) when the token's invite was revoked (or is
        gone); ``StorageUnavailable`` when the database cannot say."""
        invite = identity.invite
        if invite is None:
            return
        if invite in self._revoked:
            raise AuthError(REVOKED, close_code=CloseCode.UNAUTHORIZED)
        checked = self._standing.get(invite)
        if checked is not None and self._clock() - checked < self.ttl:
            return
        stored = await self.storage.get_invite(invite)
        if stored is None or stored.revoked or stored.tenant != identity.tenant:
            self._standing.pop(invite, None)
            self._remember(self._revoked, invite, 0.0)
            raise AuthError(REVOKED, close_code=CloseCode.UNAUTHORIZED)
        self._remember(self._standing, invite, self._clock())

    @staticmethod
    def _remember(cache: OrderedDict[str, float], key: str, value: float) -> None:
        cache[key] = value
        cache.move_to_end(key)
        if len(cache) > CACHE_SIZE:
            cache.popitem(last=False)

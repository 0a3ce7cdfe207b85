"""Revoking an invite ends the access it gave: a token redeemed from an invite carries
its id (the ``inv`` claim, ``auth.Identity.invite``), and every place that accepts a
token (a join, a live session's re-check, the HTTP routes, the browser's cookie) asks
``Revocations.check`` too.

The truth is the invite as stored (``revoked``), so it holds on every node and across
restarts whoever revoked it (``imagechat-tui invite revoke`` writes the database
directly). Answers are cached per invite: a revocation is final, so it is kept; a
standing invite is looked up again after ``ttl`` seconds, so a revocation reaches a node
within ``ttl`` for new requests, and within ``reverify_interval`` (+ ``ttl``) for the
sessions already open, which are closed with 4001. An invite a guest made within their
own (``Invite.parent``) stands only while that one does: revoking an invite ends the
access of everyone it let in, and of everyone they let in.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Final

from imagechat_tui.auth import AuthError, Identity
from imagechat_tui.protocol import CloseCode
from imagechat_tui.server.storage import Storage

CACHE_SECONDS: Final = 10.0
CACHE_SIZE: Final = 16384
#: Invites made within invites made within ...: deeper than this is refused.
MAX_CHAIN: Final = 32
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
        # invite -> (checked at, the invite it was made within)
        self._standing: OrderedDict[str, tuple[float, str | None]] = OrderedDict()
        self._revoked: OrderedDict[str, None] = OrderedDict()  # final: kept

    async def check(self, identity: Identity) -> None:
        """Raise ``AuthError`` (close 4001) when the token's invite, or one it was made
        within, was revoked (or is gone); ``StorageUnavailable`` when the database
        cannot say."""
        if identity.invite is not None and not await self.standing(
            identity.invite, identity.tenant
        ):
            raise AuthError(REVOKED, close_code=CloseCode.UNAUTHORIZED)

    async def standing(self, invite: str, tenant: str) -> bool:
        """Whether the invite (by its hash) and each invite it was made within (a guest's
        invite's ``parent``, and so on up) exists for ``tenant`` and is not revoked."""
        seen: set[str] = set()
        current: str | None = invite
        while current is not None:
            if current in self._revoked or current in seen or len(seen) >= MAX_CHAIN:
                return False
            seen.add(current)
            cached = self._standing.get(current)
            if cached is not None and self._clock() - cached[0] < self.ttl:
                current = cached[1]
                continue
            stored = await self.storage.get_invite(current)
            if stored is None or stored.revoked or stored.tenant != tenant:
                self._standing.pop(current, None)
                self._revoked[current] = None
                _bound(self._revoked)
                return False
            self._standing[current] = (self._clock(), stored.parent)
            self._standing.move_to_end(current)
            _bound(self._standing)
            current = stored.parent
        return True


def _bound(cache: OrderedDict[str, Any]) -> None:
    while len(cache) > CACHE_SIZE:
        cache.popitem(last=False)

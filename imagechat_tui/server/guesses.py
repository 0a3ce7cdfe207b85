"""Invite-code guessing: a budget of failed guesses per client and one for everyone.

Every route that checks a code a stranger sends (``POST /api/invites/redeem``, ``POST
/r/ROOM/session``, ``GET /r/ROOM?invite=``, ``GET /images/...?invite=``) asks
``GuessLimiter`` first and tells it of each code that named no invite. What is counted
is what is guessed, the codes, whichever route carries them; only a failed guess spends
(a valid code costs nothing), as fail2ban counts failures, with nginx ``limit_req``-style
token buckets:

- per client address (the one a trusted proxy names in ``X-Forwarded-For``, so behind
  the documented nginx each browser has its own): a burst of 10, then one every 6 s;
- for the whole node: a burst of 100, then one a second, so an attacker who rotates
  addresses still gets at most ~3,600 guesses an hour (each one a 1 in 2^144 chance).

A request whose own bucket or the node's is empty is answered 429 with ``Retry-After``
before its code is looked at (otherwise the answer would still tell a right guess).
One client spends only its own bucket faster than the node's refills (1/6 of it), so
it cannot lock others out; only many addresses guessing together can, for as long as
they keep it up, and a code that was redeemed once is not needed again (the personal
token, or the browser's cookie, opens the room from then on).
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Final

from imagechat_tui.server.http_api import HttpRequest
from imagechat_tui.server.ratelimit import TokenBucket

PER_ADDRESS_RATE: Final = 1 / 6
PER_ADDRESS_BURST: Final = 10
GLOBAL_RATE: Final = 1.0
GLOBAL_BURST: Final = 100
#: Addresses remembered at once; the least recently failing is forgotten beyond (the
#: node's bucket still bounds everyone).
MAX_ADDRESSES: Final = 10_000


class GuessLimiter:
    def __init__(
        self,
        *,
        per_address: tuple[float, float] = (PER_ADDRESS_RATE, PER_ADDRESS_BURST),
        overall: tuple[float, float] = (GLOBAL_RATE, GLOBAL_BURST),
        trusted_proxies: frozenset[str] = frozenset(),
        clock: Callable[[], float] = time.monotonic,
        max_addresses: int = MAX_ADDRESSES,
    ) -> None:
        self.trusted_proxies = trusted_proxies
        self._per_address = per_address
        self._clock = clock
        self._overall = TokenBucket(*overall, clock=clock)
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()
        self._max_addresses = max_addresses

    def address_of(self, request: HttpRequest) -> str:
        """The client a request comes from (see ``client_address``)."""
        return client_address(
            request.peer, request.headers.get_all("X-Forwarded-For"), self.trusted_proxies
        )

    def refused(self, address: str) -> int | None:
        """Seconds to wait (for ``Retry-After``) when ``address`` may not try a code now,
        else None. Takes nothing: only ``failed`` spends."""
        own = self._buckets.get(address)
        for bucket in (own, self._overall):
            if bucket is not None and not bucket.ready():
                return max(1, math.ceil(bucket.retry_after()))
        return None

    def failed(self, address: str) -> None:
        """A code from ``address`` named no invite."""
        bucket = self._buckets.get(address)
        if bucket is None:
            bucket = self._buckets[address] = TokenBucket(*self._per_address, clock=self._clock)
            self._forget()
        else:
            self._buckets.move_to_end(address)
        bucket.take()
        self._overall.take()

    def _forget(self) -> None:
        while len(self._buckets) > self._max_addresses:
            self._buckets.popitem(last=False)


def parse_proxies(text: str) -> frozenset[str]:
    """``--trusted-proxy``: comma-separated addresses (normalised), checked."""
    out = set()
    for part in (p.strip() for p in text.split(",")):
        if part:
            try:
                out.add(str(ipaddress.ip_address(part)))
            except ValueError:
                raise ValueError(f"--trusted-proxy: {part!r} is not an IP address.") from None
    return frozenset(out)


def client_address(peer: str, forwarded_for: Iterable[str], trusted: frozenset[str]) -> str:
    """Who is asking: the peer, or, when the peer is a trusted proxy, the address that
    proxy appended to ``X-Forwarded-For`` (nginx's ``$proxy_add_x_forwarded_for``: the
    last entry is the one it saw; earlier ones are whatever the client wrote)."""
    if peer not in trusted:
        return peer
    entries = [e.strip() for value in forwarded_for for e in value.split(",") if e.strip()]
    if not entries:
        return peer
    try:
        return str(ipaddress.ip_address(entries[-1]))
    except ValueError:
        return peer

"""A token bucket per connection: how many frames a client may send, and how fast.

Each frame a connection sends takes one token; tokens come back at ``rate`` per second
up to ``burst``. A frame that finds the bucket empty is refused (``rate-limited``) and
nothing else happens, so a client that floods gets errors, not a share of the room.
The clock is injectable so the arithmetic can be tested without sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    def __init__(
        self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate < 0 or burst < 1:
            raise ValueError("A token bucket needs rate >= 0 and burst >= 1.")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = burst
        self._stamp = clock()

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(now - self._stamp, 0.0)  # a clock that steps back refills nothing
        self._stamp = now
        self._tokens = min(self.burst, self._tokens + elapsed * self.rate)

    def ready(self) -> bool:
        """Whether a token is there now, without taking it."""
        self._refill()
        return self._tokens >= 1.0

    def take(self) -> bool:
        """Take one token: True if there was one, False if the caller must refuse."""
        self._refill()
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def retry_after(self) -> float:
        """Seconds until one token is back (0 if one is available now)."""
        if self._tokens >= 1.0 or self.rate <= 0:
            return 0.0 if self._tokens >= 1.0 else float("inf")
        return (1.0 - self._tokens) / self.rate

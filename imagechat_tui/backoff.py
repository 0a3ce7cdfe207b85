"""Exponential backoff with jitter: how long to wait before the next attempt to reach
something again. One rule for the app's reconnects (client/connection.py) and the server's
Redis subscription (server/broker.py). Pure: the caller sleeps and brings the randomness.

The defaults are socket.io's client's (reconnectionDelayMax 5 s, half jitter): a wait
never grows with the length of an outage, so once a restarted server listens every client
tries again within 5 s, and the jitter spreads a storm of N clients at the cap over
[2.5, 5] s. The cap of 20 s made a client that had failed for T seconds wait up to about T
more: each second of a server's start-up cost up to one more. Full jitter (a delay in
[0, raw]) was tried: clients then race through the short delays to the cap's, and the last
of 1,000 after a 1 s restart tried 4.7 s after it instead of 2.0 (bench/backoff_tail.py)."""

from __future__ import annotations

import random
from dataclasses import dataclass

# 2 ** 60 times any base is past every cap; a larger exponent would overflow a float.
_MAX_EXPONENT = 60


@dataclass(frozen=True, slots=True)
class Backoff:
    base: float = 0.5  # the delay before the first retry ...
    cap: float = 5.0  # ... doubling per failed attempt, up to this
    jitter: float = 0.5  # the delay is scaled by a random factor in [1 - jitter, 1]
    give_up_after: int = 0  # attempts before going "offline" (0: never give up)

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait before attempt ``attempt`` (1 for the first retry)."""
        exponent = min(_MAX_EXPONENT, max(0, attempt - 1))
        raw = min(self.cap, self.base * 2.0**exponent)
        # Jitter spreads the retries of many clients that lost the same server at once.
        return raw * (1 - self.jitter * rng.random())

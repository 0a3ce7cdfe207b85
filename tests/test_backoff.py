"""The one backoff (app reconnects, the server's Redis subscription): doubling, capped,
jittered, and still a number after any count of failures."""

from __future__ import annotations

import random

from imagechat_tui.backoff import Backoff


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    backoff = Backoff(base=1.0, cap=8.0, jitter=0.5)
    rng = random.Random(7)
    delays = [backoff.delay(attempt, rng) for attempt in range(1, 8)]
    for attempt, delay in enumerate(delays, start=1):
        ceiling = min(8.0, 2 ** (attempt - 1))
        assert ceiling * 0.5 <= delay <= ceiling
    assert len(set(delays)) == len(delays)


def test_a_client_offline_for_hours_still_gets_a_capped_delay() -> None:
    # 2.0 ** 1100 overflows a float: hours of retries every 20 s must not crash the loop.
    backoff = Backoff(base=0.5, cap=20.0)
    assert 10.0 <= backoff.delay(5000, random.Random(1)) <= 20.0


def test_no_jitter_is_exact() -> None:
    backoff = Backoff(base=0.2, cap=5.0, jitter=0.0)
    assert [backoff.delay(a, random.Random()) for a in (1, 2, 3, 6)] == [0.2, 0.4, 0.8, 5.0]

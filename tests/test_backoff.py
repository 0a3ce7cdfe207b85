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


def test_the_apps_wait_does_not_grow_with_the_outage() -> None:
    # A server that took a minute to come back: the next try is still within the cap,
    # so a client is back within ~5 s of the server listening (it was up to 20 s, and
    # about as long as it had already failed for).
    backoff = Backoff()
    rng = random.Random(3)
    failed_for, attempt = 0.0, 0
    while failed_for < 60.0:
        attempt += 1
        failed_for += backoff.delay(attempt, rng)
    assert max(backoff.delay(attempt + 1, random.Random(seed)) for seed in range(1000)) <= 5.0


def test_a_storm_of_clients_at_the_cap_is_spread_over_its_upper_half() -> None:
    # 1,000 clients that lost the same server retry across [cap / 2, cap] evenly, not in
    # one burst at the cap.
    backoff = Backoff()
    delays = [backoff.delay(20, random.Random(seed)) for seed in range(1000)]
    tenths = [0] * 10
    for delay in delays:
        assert backoff.cap / 2 <= delay <= backoff.cap
        tenths[min(9, int((delay / backoff.cap - 0.5) * 20))] += 1
    assert min(tenths) >= 60 and max(tenths) <= 140  # each twentieth of the cap near its 100


def test_a_short_restart_is_waited_out_as_before() -> None:
    # The first retries still double from 0.5 s: after a 1 s outage no client waits
    # longer than 2 s (full jitter would race some through to the cap's 5 s).
    backoff = Backoff()
    for seed in range(1000):
        rng = random.Random(seed)
        t, attempt = 0.0, 0
        while t < 1.0:
            attempt += 1
            t += backoff.delay(attempt, rng)
        assert t - 1.0 <= 2.0

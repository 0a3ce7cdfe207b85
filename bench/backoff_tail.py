"""What a reconnect backoff costs after a restart, as a model: N clients lose the server
at t=0, every attempt before it accepts again at t=R is refused at once, and each client
waits ``Backoff.delay(attempt)`` between attempts. Prints, for several outages R, the wait
from R until the last client's next attempt (the *tail*: a storm's "after restart" if
joins were free) and the most attempts in any 100 ms after R (the *herd*), for the app's
rule (``imagechat_tui.backoff.Backoff()``) against the one it replaced (cap 20 s, half
jitter) and full jitter. Pure arithmetic: the same figures on any machine, whatever its load.

    python bench/backoff_tail.py [--clients 1000] [--seeds 5]
"""

from __future__ import annotations

import argparse
import random
import statistics

from imagechat_tui.backoff import Backoff

RULES = {
    "cap 20 s, half jitter (before)": Backoff(base=0.5, cap=20.0, jitter=0.5),
    "cap 5 s, full jitter (tried)": Backoff(base=0.5, cap=5.0, jitter=1.0),
    "Backoff() (now)": Backoff(),
}
OUTAGES = (1.0, 2.0, 4.0, 7.4, 15.0, 60.0)


def first_attempt_after(outage: float, backoff: Backoff, rng: random.Random) -> float:
    """When a client that lost the server at 0 next tries once it accepts again."""
    t, attempt = 0.0, 0
    while t < outage:
        attempt += 1
        t += backoff.delay(attempt, rng)
    return t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    print(
        f"{args.clients} clients, median of {args.seeds} seeds: tail (s from the restart"
        " until the last one tries) / herd (most tries in 100 ms)\n"
    )
    print("| outage (s) | " + " | ".join(RULES) + " |\n|---:|" + "---:|" * len(RULES))
    for outage in OUTAGES:
        cells = []
        for backoff in RULES.values():
            tails, herds = [], []
            for seed in range(args.seeds):
                rng = random.Random(seed)
                after = [
                    first_attempt_after(outage, backoff, rng) - outage for _ in range(args.clients)
                ]
                bins: dict[int, int] = {}
                for a in after:
                    bins[int(a * 10)] = bins.get(int(a * 10), 0) + 1
                tails.append(max(after))
                herds.append(max(bins.values()))
            cells.append(f"{statistics.median(tails):.2f} / {statistics.median(herds):.0f}")
        print(f"| {outage:g} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

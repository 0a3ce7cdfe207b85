"""The ``serve`` process's garbage collector, set once the node is up.

CPython's defaults (a young collection every 700 new containers, and full collections
that walk every object) are tuned for scripts. A node that has imported its modules and
opened its storage holds ~100,000 long-lived objects that will never be garbage; each
join allocates a few hundred more (a connection, its protocol, buffers, tasks), so a mass
join of 1,000 ran ~140 young, ~13 middle and 2 full collections, a sixth of its CPU
(bench/joins.py). What long-running Python servers do (Instagram's ``gc.freeze``,
gunicorn's and Celery's advice): collect once, move what start-up made out of the
collector's sight, and collect the young generation less often. Reference counting
still frees almost everything at once; only cycles wait for a collection.
"""

from __future__ import annotations

import gc
import logging
from typing import Final

log = logging.getLogger(__name__)

#: New containers between young collections (CPython: 700). At a few hundred a join, a
#: young collection every ~30 joins instead of every 2; the garbage cycles that can wait
#: meanwhile are at most this many objects (a few MB).
YOUNG_THRESHOLD: Final = 20_000


def settle() -> None:
    """Call once start-up is done: what it made is kept for the process's life."""
    gc.collect()
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
    log.debug(
        "garbage collector settled: %d objects frozen, a young collection every %d",
        gc.get_freeze_count(),
        YOUNG_THRESHOLD,
    )

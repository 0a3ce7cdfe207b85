"""Log a recurring failure once per cause, not once per occurrence.

During an outage the same failure happens hundreds of times a second (every commit, every
publish). ``FaultLog`` writes a warning the first time a cause is seen, with the reason;
repeats of it are counted and summed up in one line at most every ``interval`` seconds;
when the operation works again, one line says so and how many failed meanwhile.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Cause:
    first: str  # the occurrence that was logged
    repeats: int = 0  # since the last line about this cause
    total: int = 1
    last_line: float = 0.0


class FaultLog:
    def __init__(
        self,
        logger: logging.Logger,
        what: str,
        *,
        interval: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.what = what  # e.g. "commit", "publish to Redis"
        self.interval = interval
        self.clock = clock
        self._causes: dict[str, _Cause] = {}

    @property
    def failing(self) -> bool:
        return bool(self._causes)

    def failed(self, cause: str, where: str = "") -> None:
        """One occurrence of a failure; ``cause`` is the reason (what makes it the same
        failure again), ``where`` what it happened to (only in the first line)."""
        now = self.clock()
        known = self._causes.get(cause)
        if known is None:
            self._causes[cause] = _Cause(first=where, last_line=now)
            self.logger.warning("%s failed%s: %s", self.what, f" ({where})" if where else "", cause)
            return
        known.repeats += 1
        known.total += 1
        if now - known.last_line >= self.interval:
            self.logger.warning(
                "%s failed %d more times in %.0fs: %s",
                self.what,
                known.repeats,
                now - known.last_line,
                cause,
            )
            known.repeats, known.last_line = 0, now

    def succeeded(self) -> None:
        """The operation worked: say so once if it had been failing."""
        if not self._causes:
            return
        total = sum(c.total for c in self._causes.values())
        self.logger.info(
            "%s works again after %d failures (%s)",
            self.what,
            total,
            "; ".join(self._causes),
        )
        self._causes.clear()

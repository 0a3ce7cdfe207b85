"""``/ready``: whether this node can do its job now, for a load balancer.

``/health`` says the process is alive; ``/ready`` says it can commit (the database takes
writes) and, with a broker, publish (Redis answers and the subscription is up). Probed
every ``interval`` seconds, and at once whenever a commit or a publish fails: a failure
turns the node unready on the spot, and only a passing probe turns it ready again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from imagechat_tui.safe_text import inert

log = logging.getLogger(__name__)

Probe = Callable[[], Awaitable[None]]  # raises, with the reason, when the part is down

PUBLIC_REASONS = {
    "database": "cannot commit: the database is out of reach or does not take writes",
    "broker": "cannot publish: Redis is out of reach",
}


class Readiness:
    def __init__(
        self,
        probes: dict[str, Probe],
        interval: float = 1.0,
        timeout: float = 5.0,
        on_change: Callable[[bool], None] | None = None,
    ) -> None:
        self.probes = probes  # "database", "broker"
        self.interval = interval
        self.timeout = timeout  # a probe that hangs this long counts as failed
        self.on_change = on_change
        self.problems: dict[str, str] = {}  # part -> why it is down
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._checked = False  # nothing is ready before the first probe passes
        self._stopping = False

    @property
    def ready(self) -> bool:
        return self._checked and not self.problems

    def report(self, *, detail: bool = True) -> dict[str, object]:
        """/ready's JSON body: each part that is down and why. Without ``detail`` (the
        public port) the why is a fixed phrase per part: the probe's own error can name
        files, hosts and users, which the operator reads in the log or on the metrics
        port, and a load balancer does not need."""
        if not self._checked:
            return {"ready": False, "reasons": {"starting": "not probed yet"}}
        reasons = dict(self.problems)
        if not detail:
            reasons = {part: PUBLIC_REASONS.get(part, "down") for part in reasons}
        return {"ready": not self.problems, "reasons": reasons}

    def failed(self, part: str, reason: str) -> None:
        """A commit or a publish just failed: unready now; probe again soon."""
        self._set(part, reason)
        self._wake.set()

    async def check(self) -> None:
        """Run every probe once."""
        for part, probe in self.probes.items():
            try:
                await asyncio.wait_for(probe(), self.timeout)
            except asyncio.CancelledError:
                raise
            except TimeoutError:
                self._set(part, f"no answer within {self.timeout:g}s")
            except Exception as exc:
                self._set(part, str(exc) or exc.__class__.__name__)
            else:
                self._set(part, None)
        if not self._checked:
            self._checked = True
            self._changed()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            # The flag and the wake as well as the cancel: on 3.11 a wait_for whose
            # inner await finishes as the cancel arrives swallows it (the probe's, in
            # check()), and the loop would wait on forever.
            self._stopping = True
            self._wake.set()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while not self._stopping:
            await self.check()
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)

    def _set(self, part: str, reason: str | None) -> None:
        was = self.ready
        if reason is None:
            self.problems.pop(part, None)
        elif self.problems.get(part) != reason:
            if part not in self.problems:
                log.warning("not ready: %s: %s", part, inert(reason))
            self.problems[part] = reason
        if self.ready != was:
            if self.ready:
                log.info("ready again")
            self._changed()

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change(self.ready)

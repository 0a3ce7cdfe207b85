"""When a room's presence goes out, sans I/O: the coalescing rule on its own.

Every join and leave changes who is viewing, but viewers are not told of each: a change
with no frame pending starts a *window*, the changes within it ride along, and when it
ends one ``presence`` frame (the count, and past ``PRESENCE_NAMED`` viewers nothing
else) goes to the whole room. So a viewer gets at most one frame per window, and frames
are at least a window apart. The window grows with the room (a room of 200 waits 2 s,
one of 500 or more 5 s: there a frame is the count alone, and a count a few seconds old
is what large live rooms show; a frame is a socket write per viewer, so in a mass join
they were a quarter of a join's writes, bench/joins.py), so a mass join of N viewers costs each of them a few frames, not one per joiner: O(N)
presence bytes in all, not O(N²). ``tests/server/test_presence_window.py`` holds the
bound for 2,000 viewers at any join rate.

The same window paces what this node tells other nodes (``Publisher.viewers_changed``,
one Redis write per window), which would otherwise be one write of the whole viewer
list per join.
"""

from __future__ import annotations

from typing import Final

PRESENCE_DELAY: Final = 0.05  # seconds: the smallest window ...
PRESENCE_DELAY_PER_VIEWER: Final = 0.01  # ... growing by this per viewer (2 s at 195) ...
PRESENCE_DELAY_MAX: Final = 5.0  # ... up to this (from 495 viewers)


def presence_window(viewers: int) -> float:
    """How long a room of ``viewers`` gathers changes into one presence frame."""
    return min(PRESENCE_DELAY + PRESENCE_DELAY_PER_VIEWER * viewers, PRESENCE_DELAY_MAX)


class PresenceSchedule:
    """One room's pending presence frame. The room calls ``changed`` on every change of
    viewers and sets a timer for the delay it returns (None: a frame is already due);
    when the timer fires it calls ``due`` and sends the frame."""

    __slots__ = ("local", "pending")

    def __init__(self) -> None:
        self.pending = False
        self.local = False  # this node's own viewers changed (other nodes are told)

    def changed(self, viewers: int, *, local: bool = True) -> float | None:
        self.local |= local
        if self.pending:
            return None
        self.pending = True
        return presence_window(viewers)

    def due(self) -> bool:
        """The window is over: the frame goes now. True when this node's own viewers
        changed within it (so other nodes are to be told too)."""
        local = self.local
        self.pending = self.local = False
        return local

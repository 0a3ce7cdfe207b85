"""Keys typed right after a key that opens the composer land in the composer.

Textual routes each key from the terminal to the widget focused when the app takes it
from its queue, and runs a widget's bindings only when the key has bubbled back up to
the app. When one read holds ``rsee x⏎``, every letter after ``r`` has been routed to
the image (or the list) before ``r``'s binding opens the composer and moves focus, so
``e`` would edit and ``x`` delete. ``TypeAhead`` holds the keys that arrive after an
opening key until that key has been handled in full (the composer is open, or the
opening was refused), then hands them back to the app, which routes them to what has
focus by then: the composer.

"Handled in full" is a ``Settled`` message posted, after the opening key's binding
ran, to the node that owns the binding: it bubbles to the app along the same queues as
anything that binding posted (the image's ``PlaceRequested``), so it arrives after it.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual import events
from textual.dom import DOMNode
from textual.message import Message
from textual.screen import Screen

#: Actions that open the composer (the app's reply and edit, the image's place).
OPENS_COMPOSER = frozenset({"reply", "edit", "place"})


class Settled(Message):
    """The key that opened the composer has been handled, and all it posted."""


class TypeAhead:
    def __init__(self) -> None:
        self.opening: events.Key | None = None  # the key being handled
        self.owner: DOMNode | None = None  # whose binding it runs
        self.held: list[events.Key] = []

    @property
    def holding(self) -> bool:
        return self.opening is not None

    def hold_after(self, key: events.Key, screen: Screen[object]) -> bool:
        """Whether ``key`` opens the composer with the focus ``screen`` has now (then
        the keys after it are held)."""
        active = screen.active_bindings.get(key.key)
        if active is None or not active.enabled or active.binding.priority:
            return False  # a text box that takes the key is left out of active_bindings
        if active.binding.action.split("(", 1)[0] not in OPENS_COMPOSER:
            return False
        self.opening, self.owner = key, active.node
        return True

    def settle_after(self, key: events.Key) -> DOMNode | None:
        """Where to post ``Settled`` once ``key``'s bindings ran, if it is the opener."""
        return self.owner if key is self.opening else None

    def release(self) -> Iterable[events.Key]:
        """The held keys, in the order typed; nothing is held any more."""
        held, self.held = self.held, []
        self.opening = self.owner = None
        return held

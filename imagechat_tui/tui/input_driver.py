"""Terminal input where a paste is only ever text.

Textual's ``XTermParser`` (8.x) reads an escape sequence inside a bracketed paste as
key presses: pasting ``"\\x1b[31m red sx"`` presses ``s`` and ``x`` (resolve, delete)
before the ``Paste`` event arrives with what is left. ``PasteSafeParser`` takes every
bracketed paste out of the byte stream before Textual's parser sees it, so everything
between ``ESC[200~`` and ``ESC[201~`` becomes one ``Paste`` event, whatever it holds.

It also reports alt+enter as ``alt+enter``: most terminals send it as ESC CR, which
Textual reports as a plain enter (the composer sends on enter and adds a line on
alt+enter).
"""

from __future__ import annotations

from collections.abc import Iterable

from textual import events
from textual._time import get_time
from textual._xterm_parser import XTermParser
from textual.driver import Driver
from textual.message import Message

PASTE_START = "\x1b[200~"
PASTE_END = "\x1b[201~"
#: The rest of a marker split between two reads is already waiting when the driver
#: reads again; a held ESC older than this was a key press.
HOLD = 0.01


def _partial_suffix(data: str, marker: str) -> int:
    """How many characters at the end of ``data`` could begin ``marker``."""
    for size in range(min(len(marker) - 1, len(data)), 0, -1):
        if marker.startswith(data[-size:]):
            return size
    return 0


class PasteSafeParser(XTermParser):
    """``XTermParser`` that never sees a bracketed paste: pastes become ``Paste``
    events here, the rest of the input goes to Textual's parser unchanged."""

    def __init__(self, debug: bool = False) -> None:
        super().__init__(debug)
        self._pasting = False
        self._paste: list[str] = []
        self._held = ""  # the end of a read that may be the start of a marker
        self._held_since = 0.0

    def feed(self, data: str) -> Iterable[Message]:
        if not data:  # end of input
            if self._held and not self._pasting:
                yield from super().feed(self._held)
            self._held = ""
            yield from super().feed(data)
            return
        data, self._held = self._held + data, ""
        while data:
            if self._pasting:
                end = data.find(PASTE_END)
                if end < 0:
                    keep = _partial_suffix(data, PASTE_END)
                    self._paste.append(data[: len(data) - keep])
                    self._hold(data[len(data) - keep :])
                    return
                self._paste.append(data[:end])
                data = data[end + len(PASTE_END) :]
                self._pasting = False
                text = "".join(self._paste).replace("\x00", "")
                self._paste.clear()
                yield events.Paste(text)
            else:
                start = data.find(PASTE_START)
                if start < 0:
                    keep = _partial_suffix(data, PASTE_START)
                    if len(data) > keep:
                        yield from super().feed(data[: len(data) - keep])
                    self._hold(data[len(data) - keep :])
                    return
                if start:
                    yield from super().feed(data[:start])
                data = data[start + len(PASTE_START) :]
                self._pasting = True

    def _hold(self, tail: str) -> None:
        self._held = tail
        self._held_since = get_time()

    def tick(self) -> Iterable[Message]:
        # A lone ESC (or "ESC [") at the end of a read was held in case a paste
        # started; if nothing followed, it was a key press after all.
        if self._held and not self._pasting and get_time() - self._held_since >= HOLD:
            held, self._held = self._held, ""
            yield from super().feed(held)
        yield from super().tick()

    def _sequence_to_key_events(self, sequence: str, alt: bool = False) -> Iterable[events.Key]:
        if sequence == "\x1b\r" or (alt and sequence == "\r"):
            yield events.Key("alt+enter", None)
            return
        yield from super()._sequence_to_key_events(sequence, alt)


def paste_safe(driver_class: type[Driver]) -> type[Driver]:
    """``driver_class`` reading input with ``PasteSafeParser`` when it is Textual's
    Linux/macOS terminal driver; any other driver (headless, web, Windows) as it is."""
    try:
        from imagechat_tui.tui.posix_driver import LinuxDriver, PasteSafeLinuxDriver
    except ImportError:  # no termios (Windows)
        return driver_class
    return PasteSafeLinuxDriver if driver_class is LinuxDriver else driver_class

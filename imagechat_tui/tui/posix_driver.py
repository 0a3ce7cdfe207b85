"""Textual's terminal driver for Linux and macOS, reading input with ``PasteSafeParser``."""

from __future__ import annotations

import os
import selectors
from codecs import getincrementaldecoder

from rich._loop import loop_last
from textual._parser import ParseError
from textual.drivers.linux_driver import LinuxDriver

from imagechat_tui.tui.input_driver import PasteSafeParser

__all__ = ["LinuxDriver", "PasteSafeLinuxDriver"]


class PasteSafeLinuxDriver(LinuxDriver):
    def run_input_thread(self) -> None:
        """``LinuxDriver.run_input_thread`` (Textual 8.2) with ``PasteSafeParser``."""
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        fileno = self.fileno
        parser = PasteSafeParser(self._debug)
        decode = getincrementaldecoder("utf-8")().decode

        def process(
            selector_events: list[tuple[selectors.SelectorKey, int]], final: bool = False
        ) -> None:
            for last, (_key, mask) in loop_last(selector_events):
                if mask & selectors.EVENT_READ:
                    data = decode(os.read(fileno, 1024 * 4), final=final and last)
                    if not data:
                        break
                    for event in parser.feed(data):
                        self.process_message(event)
            for event in parser.tick():
                self.process_message(event)

        try:
            while not self.exit_event.is_set():
                process(selector.select(0.1))
            selector.unregister(self.fileno)
            process(selector.select(0.1), final=True)
        finally:
            selector.close()
            try:
                for _event in parser.feed(""):
                    pass
            except (EOFError, ParseError):
                pass

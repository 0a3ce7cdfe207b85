"""A pseudo-terminal that runs a command and answers the start-up probe like a given
terminal would (scripted replies, written once the probe's last question, DA1, arrives)."""

from __future__ import annotations

import os

from bench.terminal_bytes_bench import Terminal

DA1_QUESTION = b"\x1b[c"


class AnsweringTerminal(Terminal):
    """``Terminal`` (counts what the app writes) that replies to the probe with ``replies``
    (None: replies nothing, like a terminal that ignores every question)."""

    def __init__(
        self, argv: list[str], cols: int, rows: int, env: dict[str, str], replies: bytes | None
    ) -> None:
        self.replies = replies
        self.answered = False
        super().__init__(argv, cols, rows, env)

    def _read(self) -> None:
        super()._read()
        if self.replies is not None and not self.answered and DA1_QUESTION in b"".join(self.log):
            self.answered = True
            os.write(self.fd, self.replies)

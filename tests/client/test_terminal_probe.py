"""The start-up probe against scripted terminal replies on a real pseudo-terminal.

The test plays the terminal on the pty's master side: it waits for the probe's
questions (ending with DA1), then writes what a given terminal would answer.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import termios
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from imagechat_tui.client.terminal_probe import (
    DEFAULT_CELL,
    DEFAULT_TIMEOUT,
    QUERIES,
    Asked,
    Capabilities,
    choose_mode,
    parse_replies,
    probe_fd,
)

KITTY_REPLIES = (
    b"\x1b_Gi=4153;OK\x1b\\"
    b"\x1b[6;19;9t"
    b"\x1bP1+r524742\x1b\\"  # kitty answers XTGETTCAP from its own terminfo
    b"\x1bP0+r5463\x1b\\"
    b"\x1bP1$r0;48:2:1:2:3m\x1b\\"
    b"\x1b[?62;c"
)
XTERM_VT340_REPLIES = (
    b"\x1b[?1;0;1024S"
    b"\x1bP0+r\x1b\\"
    b"\x1bP0+r\x1b\\"
    b"\x1bP1$r0;48:2::1:2:3m\x1b\\"
    b"\x1b[?63;1;2;4;6;9;15;16;22;28c"
)
PLAIN_XTERM_256_REPLIES = (
    b"\x1bP0+r\x1b\\\x1bP0+r\x1b\\"  # no RGB, no Tc; DECRQSS refused
    b"\x1bP0$r\x1b\\"
    b"\x1b[?65;1;9c"
)
TMUX_REPLIES = b"\x1b[?1;2c"  # tmux 3.3 answers DA1 itself; nothing passes through
TMUX_WITH_SIXEL_REPLIES = b"\x1b[?1;2;4c"


@dataclass
class Pty:
    master: int
    slave: int

    def set_size(self, rows: int, cols: int, xpixel: int = 0, ypixel: int = 0) -> None:
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, xpixel, ypixel))

    def read_questions(self) -> bytes:
        """What the probe wrote, up to and including its last question (DA1)."""
        data = b""
        while not data.endswith(b"\x1b[c"):
            data += os.read(self.master, 4096)
        return data


@pytest.fixture
def term() -> Iterator[Pty]:
    master, slave = pty.openpty()
    yield Pty(master, slave)
    os.close(master)
    os.close(slave)


def run_probe(
    term: Pty, replies: bytes | None, env: dict[str, str] | None = None, before: bytes = b""
) -> tuple[Capabilities, bytes]:
    """Probe ``term`` in a thread while this thread answers as the terminal would."""
    result: list[Capabilities] = []
    thread = threading.Thread(
        target=lambda: result.append(probe_fd(term.slave, term.slave, env or {}))
    )
    thread.start()
    questions = term.read_questions()
    if replies is not None:
        os.write(term.master, before + replies)
    thread.join()
    return result[0], questions


def test_one_write_asks_everything_and_ends_with_da1(term: Pty) -> None:
    caps, questions = run_probe(term, XTERM_VT340_REPLIES)
    assert questions == QUERIES.encode()
    for question in (b"\x1b_G", b"\x1b[16t", b"\x1bP+q524742", b"\x1bP+q5463", b"\x1bP$qm"):
        assert question in questions
    assert caps.answered


def test_kitty(term: Pty) -> None:
    caps, _ = run_probe(term, KITTY_REPLIES)
    assert caps.kitty and not caps.sixel
    assert caps.truecolor
    assert caps.cell_size == (9, 19) and caps.cell_size_known
    assert choose_mode(caps) == "kitty"


def test_xterm_vt340_sixel_and_truecolor_from_the_read_back(term: Pty) -> None:
    term.set_size(24, 80, 80 * 6, 24 * 13)  # no CSI 16 t answer: the ioctl has pixels
    caps, _ = run_probe(term, XTERM_VT340_REPLIES)
    assert caps.sixel and not caps.kitty
    assert caps.truecolor  # DECRQSS read back the 24-bit background
    assert caps.color_registers == 1024
    assert caps.cell_size == (6, 13)
    assert choose_mode(caps) == "sixel"


def test_a_terminal_without_graphics_or_24_bit_colour(term: Pty) -> None:
    caps, _ = run_probe(term, PLAIN_XTERM_256_REPLIES)
    assert caps.answered
    assert not (caps.kitty or caps.sixel or caps.truecolor)
    assert choose_mode(caps) == "halfblock"


def test_keys_typed_during_the_probe_do_not_confuse_it(term: Pty) -> None:
    caps, _ = run_probe(term, KITTY_REPLIES, before=b"jjk\x1b[A")
    assert caps.kitty and caps.truecolor and choose_mode(caps) == "kitty"


def test_a_terminal_that_answers_nothing_gets_half_blocks_and_the_default_cell(
    term: Pty,
) -> None:
    """No reply at all (ssh to a terminal that ignores every question): the probe gives
    up after its one time budget and falls back."""
    caps, _ = run_probe(term, None)
    assert DEFAULT_TIMEOUT <= 0.5
    assert not caps.answered
    assert choose_mode(caps) == "halfblock"
    assert caps.cell_size == DEFAULT_CELL and not caps.cell_size_known
    assert not caps.truecolor


def test_colorterm_already_set_counts_as_truecolor(term: Pty) -> None:
    caps, _ = run_probe(term, PLAIN_XTERM_256_REPLIES, env={"COLORTERM": "truecolor"})
    assert caps.truecolor


def test_inside_tmux_kitty_is_not_used_and_sixel_only_when_tmux_has_it(term: Pty) -> None:
    env = {"TMUX": "/tmp/nonexistent-tmux-socket,1,0"}
    caps, _ = run_probe(term, TMUX_REPLIES, env=env)
    assert caps.in_tmux and not caps.sixel
    assert choose_mode(caps) == "halfblock"
    # Even if a Kitty reply came back through passthrough, direct placements would land
    # at the outer terminal's cursor: not used in tmux.
    assert choose_mode(Capabilities(kitty=True, in_tmux=True)) == "halfblock"
    assert choose_mode(parse_replies(TMUX_WITH_SIXEL_REPLIES)) == "sixel"


def test_the_users_choice_wins() -> None:
    kitty = parse_replies(KITTY_REPLIES)
    assert choose_mode(kitty, "halfblock") == "halfblock"
    assert choose_mode(Capabilities(), "sixel") == "sixel"


def test_a_failed_kitty_query_is_not_kitty() -> None:
    caps = parse_replies(b"\x1b_Gi=4153;EINVAL:unsupported\x1b\\\x1b[?62;c")
    assert not caps.kitty


def _until_readable(fd: int, count: int) -> None:
    """Wait until ``count`` bytes are there to read on ``fd`` (a pty delivers writes
    through a buffer of its own, not at once)."""
    while struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0" * 4))[0] < count:
        select.select([], [], [], 0.01)


def test_replies_that_came_after_the_deadline_are_read_not_left_for_the_app(term: Pty) -> None:
    """entry.py asks before it imports the app and reads the replies after: a launch
    slower than the timeout still reads what has come (left unread, the app would take
    the replies for keys; in tmux they opened the help screen)."""
    asked = Asked(term.slave, term.slave, timeout=0.0)
    assert term.read_questions() == QUERIES.encode()
    os.write(term.master, XTERM_VT340_REPLIES)
    _until_readable(term.slave, len(XTERM_VT340_REPLIES))
    caps = asked.answers({})
    assert caps.answered and caps.sixel
    assert select.select([term.slave], [], [], 0)[0] == []  # nothing left for the app

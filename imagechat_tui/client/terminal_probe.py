"""What the terminal can show: asked once at start, before Textual takes the terminal.

One write carries every question, and the primary device attributes request (DA1) goes
last: every terminal answers DA1, and answers in order, so its reply means "nothing more
is coming". A terminal that answers nothing at all costs ``timeout`` (0.5 s) once.

Questions (each reply is optional):

- Kitty graphics: a 1x1 query image (``a=q``); a terminal with the protocol answers OK.
- DA1 (``CSI c``): attribute 4 means Sixel.
- XTSMGRAPHICS (``CSI ? 1 ; 1 ; 0 S``): how many Sixel colour registers there are.
- CSI 16 t: the cell size in pixels (else the window-size ioctl, else a default, as over
  ssh where neither may be known).
- XTGETTCAP ``RGB`` and ``Tc`` and a DECRQSS read-back of a 24-bit SGR: 24-bit colour
  (ssh does not forward ``COLORTERM``, and ``TERM=xterm`` means 8 colours to Rich).

Inside tmux the answers are tmux's own (DA1 lists Sixel when tmux itself can show it);
24-bit colour comes from ``tmux display -p '#{client_termfeatures}'``. The Kitty protocol
is not used in tmux: its direct placements land at the outer terminal's cursor, not in
the pane.

``parse_replies`` and ``choose_mode`` are pure; ``probe_fd`` does the I/O on a tty. ``ask``
writes the questions and ``Asked.answers`` reads the replies later: ``imagechat-tui FILE``
asks before it imports the app (entry.py), so the terminal answers meanwhile (over ssh, a
whole round trip that no longer waits in line).
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import shutil
import struct
import subprocess
import sys
import termios
import time
import tty
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal, get_args

GraphicsMode = Literal["kitty", "sixel", "halfblock"]
GraphicsChoice = Literal["auto", "kitty", "sixel", "halfblock"]
GRAPHICS_CHOICES: tuple[str, ...] = get_args(GraphicsChoice)
DEFAULT_TIMEOUT = 0.5
DEFAULT_CELL = (10, 20)  # pixels (width, height): the VT340's, when nothing says otherwise
KITTY_QUERY_ID = 4153

# The questions, in one write. SGR 0 after the read-back leaves the colours as they were.
QUERIES = (
    f"\x1b_Gi={KITTY_QUERY_ID},s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\"
    "\x1b[?1;1;0S"  # XTSMGRAPHICS: number of colour registers
    "\x1b[16t"  # cell size in pixels
    "\x1bP+q524742\x1b\\"  # XTGETTCAP RGB
    "\x1bP+q5463\x1b\\"  # XTGETTCAP Tc
    "\x1b[48:2:1:2:3m\x1bP$qm\x1b\\\x1b[m"  # set a 24-bit background, read it back, reset
    "\x1b[c"  # DA1, answered last by every terminal
)

_DA1 = re.compile(rb"\x1b\[\?([\d;]*)c")
_KITTY = re.compile(rb"\x1b_Gi=" + str(KITTY_QUERY_ID).encode() + rb"[^;\x1b]*;([^\x1b]*)\x1b\\")
_CELL = re.compile(rb"\x1b\[6;(\d+);(\d+)t")
_REGISTERS = re.compile(rb"\x1b\[\?1;0;(\d+)S")
_XTGETTCAP_YES = re.compile(rb"\x1bP1\+r([0-9A-Fa-f]+)(?:=[0-9A-Fa-f]*)?\x1b\\")
_DECRQSS_SGR = re.compile(rb"\x1bP1\$r([\d:;]*)m\x1b\\")
_TRUECOLOR_NAMES = {b"RGB".hex().upper(), b"Tc".hex().upper()}


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What the terminal said (or what we assume when it said nothing)."""

    kitty: bool = False
    sixel: bool = False
    truecolor: bool = False
    cell_size: tuple[int, int] = DEFAULT_CELL
    cell_size_known: bool = False
    color_registers: int | None = None
    in_tmux: bool = False
    answered: bool = False  # DA1 came back: the terminal talks


def parse_replies(data: bytes) -> Capabilities:
    """The capabilities in a terminal's replies to ``QUERIES`` (any order, any noise)."""
    caps = Capabilities()
    da1 = _DA1.search(data)
    if da1:
        attributes = da1.group(1).split(b";")
        caps = replace(caps, answered=True, sixel=b"4" in attributes[1:])
    kitty = _KITTY.search(data)
    if kitty and kitty.group(1) == b"OK":
        caps = replace(caps, kitty=True)
    cell = _CELL.search(data)
    if cell:
        height, width = int(cell.group(1)), int(cell.group(2))
        if width > 0 and height > 0:
            caps = replace(caps, cell_size=(width, height), cell_size_known=True)
    registers = _REGISTERS.search(data)
    if registers:
        caps = replace(caps, color_registers=int(registers.group(1)))
    if any(
        name.upper() in _TRUECOLOR_NAMES for name in map(bytes.decode, _XTGETTCAP_YES.findall(data))
    ):
        caps = replace(caps, truecolor=True)
    for sgr in _DECRQSS_SGR.findall(data):
        # The background we set, read back in either notation: 48:2::1:2:3, 48;2;1;2;3 ...
        numbers = [part for part in re.split(rb"[:;]", sgr) if part]
        if b"48" in numbers and numbers[numbers.index(b"48") + 1 :][:4] == [b"2", b"1", b"2", b"3"]:
            caps = replace(caps, truecolor=True)
    return caps


def truecolor_from_env(env: Mapping[str, str]) -> bool:
    return env.get("COLORTERM", "").lower() in {"truecolor", "24bit"}


def choose_mode(caps: Capabilities, requested: GraphicsChoice = "auto") -> GraphicsMode:
    """The drawing mode: what was asked for, else the best the terminal has."""
    if requested != "auto":
        return requested
    if caps.kitty and not caps.in_tmux:
        return "kitty"
    if caps.sixel:
        return "sixel"
    return "halfblock"


def tmux_truecolor(env: Mapping[str, str]) -> bool:
    """Inside tmux: does the client terminal (the one outside tmux) have 24-bit colour?"""
    tmux = shutil.which("tmux")
    if not tmux or not env.get("TMUX"):
        return False
    try:
        result = subprocess.run(
            [tmux, "display-message", "-p", "#{client_termfeatures}"],
            capture_output=True,
            text=True,
            timeout=2,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return "RGB" in result.stdout.strip().split(",")


def window_cell_size(fd: int) -> tuple[int, int] | None:
    """The cell size from the window-size ioctl, when the terminal fills in pixels."""
    try:
        rows, cols, xpixel, ypixel = struct.unpack(
            "HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8)
        )
    except OSError:
        return None
    if rows and cols and xpixel and ypixel:
        return xpixel // cols, ypixel // rows
    return None


class Asked:
    """The questions written on a terminal in cbreak mode (no echo of the replies), the
    replies not read yet. ``answers`` reads them and gives the terminal its mode back;
    ``close`` does the same for a launch that ends before it needs them."""

    def __init__(
        self, fd_in: int, fd_out: int, timeout: float = DEFAULT_TIMEOUT, *, owned: bool = False
    ) -> None:
        """``owned``: ``fd_in`` is ours to close when done (``ask``'s /dev/tty)."""
        self._fd_in, self._fd_out = fd_in, fd_out
        self._owned = owned
        self._saved = termios.tcgetattr(fd_in)
        self._replies: bytes | None = None
        tty.setcbreak(fd_in, termios.TCSANOW)
        try:
            os.write(fd_out, QUERIES.encode())
        except OSError:
            self._restore()
            raise
        self._deadline = time.monotonic() + timeout  # from the asking, not the reading

    def replies(self) -> bytes:
        """What the terminal said, until its DA1 reply or the deadline; read once."""
        if self._replies is None:
            data = b""
            try:
                while not _DA1.search(data):
                    # Past the deadline, still read what has come: replies left unread
                    # would reach the app as keys (a launch slower than the timeout).
                    left = max(0.0, self._deadline - time.monotonic())
                    if not select.select([self._fd_in], [], [], left)[0]:
                        break
                    chunk = os.read(self._fd_in, 4096)
                    if not chunk:
                        break
                    data += chunk
            finally:
                self._replies = data
                self._restore()
        return self._replies

    def answers(self, env: Mapping[str, str]) -> Capabilities:
        """The capabilities, from the replies and ``env`` (see ``probe_fd``)."""
        in_tmux = bool(env.get("TMUX"))
        caps = replace(parse_replies(self.replies()), in_tmux=in_tmux)
        if not caps.cell_size_known:
            size = window_cell_size(self._fd_out)
            if size:
                caps = replace(caps, cell_size=size, cell_size_known=True)
        truecolor = caps.truecolor or truecolor_from_env(env) or (in_tmux and tmux_truecolor(env))
        self.close()
        return replace(caps, truecolor=truecolor)

    def close(self) -> None:
        """Read (and drop) the replies if not yet done, restore the terminal: none of
        them is left for the shell to print."""
        self.replies()
        if self._owned:
            self._owned = False
            os.close(self._fd_in)

    def _restore(self) -> None:
        termios.tcsetattr(self._fd_in, termios.TCSANOW, self._saved)


def read_replies(fd_in: int, fd_out: int, timeout: float = DEFAULT_TIMEOUT) -> bytes:
    """Write ``QUERIES`` and read until the DA1 reply arrives or ``timeout`` passes."""
    return Asked(fd_in, fd_out, timeout).replies()


def ask(tty_path: str = "/dev/tty", timeout: float = DEFAULT_TIMEOUT) -> Asked | None:
    """Write the questions to the controlling terminal now, when standard input is one
    (None: no terminal to ask, or it cannot be opened); read them with ``answers``."""
    stdin = sys.__stdin__
    if stdin is None or not stdin.isatty():
        return None
    try:
        fd = os.open(tty_path, os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return None
    try:
        return Asked(fd, fd, timeout, owned=True)
    except (OSError, termios.error):
        os.close(fd)
        return None


def probe_fd(
    fd_in: int, fd_out: int, env: Mapping[str, str], timeout: float = DEFAULT_TIMEOUT
) -> Capabilities:
    return Asked(fd_in, fd_out, timeout).answers(env)

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

``parse_replies`` and ``choose_mode`` are pure; ``probe`` does the I/O on a tty.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import select
import shutil
import struct
import subprocess
import termios
import time
import tty
from collections.abc import Iterator, Mapping
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


@contextlib.contextmanager
def _cbreak(fd: int) -> Iterator[None]:
    """No echo, no line buffering while the replies come in; restored afterwards."""
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd, termios.TCSANOW)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSANOW, saved)


def read_replies(fd_in: int, fd_out: int, timeout: float = DEFAULT_TIMEOUT) -> bytes:
    """Write ``QUERIES`` and read until the DA1 reply arrives or ``timeout`` passes."""
    with _cbreak(fd_in):
        os.write(fd_out, QUERIES.encode())
        deadline = time.monotonic() + timeout
        data = b""
        while not _DA1.search(data):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd_in], [], [], left)[0]:
                break
            chunk = os.read(fd_in, 4096)
            if not chunk:
                break
            data += chunk
    return data


def probe(
    env: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    tty_path: str = "/dev/tty",
) -> Capabilities:
    """Ask the controlling terminal; a terminal that cannot be asked gets the defaults."""
    env = os.environ if env is None else env
    try:
        fd = os.open(tty_path, os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return Capabilities(truecolor=truecolor_from_env(env))
    try:
        caps = probe_fd(fd, fd, env, timeout)
    finally:
        os.close(fd)
    return caps


def probe_fd(
    fd_in: int, fd_out: int, env: Mapping[str, str], timeout: float = DEFAULT_TIMEOUT
) -> Capabilities:
    in_tmux = bool(env.get("TMUX"))
    caps = replace(parse_replies(read_replies(fd_in, fd_out, timeout)), in_tmux=in_tmux)
    if not caps.cell_size_known:
        size = window_cell_size(fd_out)
        if size:
            caps = replace(caps, cell_size=size, cell_size_known=True)
    truecolor = caps.truecolor or truecolor_from_env(env) or (in_tmux and tmux_truecolor(env))
    return replace(caps, truecolor=truecolor)

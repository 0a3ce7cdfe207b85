"""The terminal the app draws on: its graphics mode and cell size, decided once at start.

``detect_terminal`` asks the terminal (``terminal_probe``) unless there is no terminal to
ask, honours ``--graphics`` / ``IMAGECHAT_GRAPHICS``, and turns on 24-bit colour for
Textual (through ``COLORTERM``, which Rich reads) when the terminal says it has it.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from dataclasses import dataclass, field

from PIL import Image

from imagechat_tui.client.halfblock import HalfBlockRenderer
from imagechat_tui.client.pixel_renderer import PixelRenderer
from imagechat_tui.client.terminal_probe import (
    Asked,
    Capabilities,
    GraphicsChoice,
    GraphicsMode,
    ask,
    choose_mode,
    truecolor_from_env,
)


@dataclass(frozen=True, slots=True)
class TerminalSetup:
    """How the image is drawn: the mode and what the terminal told us."""

    mode: GraphicsMode = "halfblock"
    caps: Capabilities = field(default_factory=Capabilities)

    @property
    def cell_size(self) -> tuple[int, int]:
        return self.caps.cell_size


def detect_terminal(
    requested: GraphicsChoice = "auto",
    env: MutableMapping[str, str] | None = None,
    asked: Asked | None = None,
) -> TerminalSetup:
    """Probe the terminal (when stdin is one) and pick the drawing mode. ``asked``: the
    questions were written earlier (``terminal_probe.ask``); only the replies are read."""
    env = os.environ if env is None else env
    asked = asked or ask()
    caps = asked.answers(env) if asked else Capabilities(truecolor=truecolor_from_env(env))
    if caps.truecolor and not truecolor_from_env(env):
        env["COLORTERM"] = "truecolor"  # Rich (and so Textual) read it
    return TerminalSetup(choose_mode(caps, requested), caps)


def make_renderer(
    image: Image.Image, terminal: TerminalSetup, background: tuple[int, int, int]
) -> HalfBlockRenderer | PixelRenderer:
    """Half blocks, or the image at the cells' real pixel size for Kitty and Sixel."""
    if terminal.mode == "halfblock":
        return HalfBlockRenderer(image, background=background)
    return PixelRenderer(image, cell_size=terminal.cell_size, background=background)

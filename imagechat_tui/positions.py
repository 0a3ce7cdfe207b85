"""Where a marker is, for people and for other programs: the one rounding rule.

A position is kept in percent of the image (the protocol's ``x``/``y``/``w``/``h``);
people read it as a pixel of the image. The pixel of a point is the one it falls in
(``floor``, the last pixel for 100 %), and a region covers every pixel it touches, so
it is never empty. The app's status bar and marker list, the Markdown and CSV exports,
the W3C selectors and the PNG pins all call these functions. Pure: no I/O.
"""

from __future__ import annotations

import math


def pixel(percent: float, length: int) -> int:
    """The pixel (0 to ``length - 1``) that ``percent`` of ``length`` falls in."""
    return max(0, min(length - 1, math.floor(percent * length / 100)))


def span(start: float, extent: float, length: int) -> tuple[int, int]:
    """The first pixel and the count of pixels a region's side touches (count >= 1)."""
    first = pixel(start, length)
    # A tiny tolerance, so 40 % of 400 px ends at 160, not 161, despite float noise.
    end = math.ceil((start + extent) * length / 100 - 1e-9)
    return first, max(1, min(length, end) - first)


def box(
    x: float, y: float, w: float | None, h: float | None, size: tuple[int, int]
) -> tuple[int, int, int, int]:
    """The pixel box (left, top, width, height) of a marker; a point is its 1x1 pixel."""
    width, height = size
    if w is None or h is None:
        return pixel(x, width), pixel(y, height), 1, 1
    left, pw = span(x, w, width)
    top, ph = span(y, h, height)
    return left, top, pw, ph


def percent(value: float) -> str:
    """A percentage as the app shows it: one decimal, always (``25.0``)."""
    return f"{value:.1f}"


def describe(x: float, y: float, w: float | None, h: float | None, size: tuple[int, int]) -> str:
    """A marker's place for people: ``point at 25.0%, 50.0% (pixel 100, 150)``."""
    left, top, pw, ph = box(x, y, w, h, size)
    if w is None or h is None:
        return f"point at {percent(x)}%, {percent(y)}% (pixel {left}, {top})"
    return (
        f"region at {percent(x)}%, {percent(y)}%, {percent(w)}% x {percent(h)}% "
        f"(pixel {left}, {top}, {pw} x {ph})"
    )


def center_percent(first: int, count: int, length: int) -> float:
    """The percent at the centre of ``count`` pixels from ``first``: the inverse of
    ``pixel`` for a point read back from a 1x1 box (``pixel`` of it is ``first``)."""
    return (first + count / 2) * 100 / length


def edge_percent(first: int, length: int) -> float:
    """The percent at the start of pixel ``first``: the inverse of ``span`` for a region."""
    return first * 100 / length

"""Kitty graphics protocol commands: transmit an image once, place it, delete it.

Every command carries ``q=2`` so the terminal sends no replies (they would arrive as
key presses). Images are sent as PNG (``f=100``), base64 in chunks of 4096 bytes, and
shown by placements of parts of them (a source rectangle onto whole cells).
"""

from __future__ import annotations

import base64
import io

from PIL import Image

CHUNK = 4096


def _command(keys: str, payload: bytes = b"") -> bytes:
    return b"\x1b_G" + keys.encode() + (b";" + payload if payload else b"") + b"\x1b\\"


def transmit(image_id: int, image: Image.Image) -> bytes:
    """Send ``image`` to the terminal under ``image_id`` (replacing what it held)."""
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PNG", compress_level=6)
    data = base64.standard_b64encode(buffer.getvalue())
    chunks = [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)] or [b""]
    out = []
    for n, chunk in enumerate(chunks):
        more = 1 if n < len(chunks) - 1 else 0
        keys = f"a=t,f=100,t=d,i={image_id},q=2,m={more}" if n == 0 else f"m={more}"
        out.append(_command(keys, chunk))
    return b"".join(out)


def place(
    image_id: int,
    placement_id: int,
    source: tuple[int, int, int, int],
    cols: int,
    rows: int,
    *,
    row: int,
    col: int,
) -> bytes:
    """Show the ``source`` rectangle (x, y, width, height in the image's pixels) over
    ``cols`` x ``rows`` cells from screen cell (col, row) (0-based), above the text,
    leaving the cursor where it was. The same ids again move or replace the placement."""
    x, y, w, h = source
    keys = f"a=p,i={image_id},p={placement_id},x={x},y={y},w={w},h={h},c={cols},r={rows},C=1,q=2"
    return b"\x1b7\x1b[%d;%dH" % (row + 1, col + 1) + _command(keys) + b"\x1b8"


def unplace(image_id: int, placement_id: int) -> bytes:
    """Remove one placement."""
    return _command(f"a=d,d=i,i={image_id},p={placement_id},q=2")


def hide(image_id: int) -> bytes:
    """Remove the image's placements; the terminal keeps its data for a later place."""
    return _command(f"a=d,d=i,i={image_id},q=2")


def delete(image_id: int) -> bytes:
    """Remove the image's placements and free its data."""
    return _command(f"a=d,d=I,i={image_id},q=2")

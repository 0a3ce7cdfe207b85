"""Sixel encoding (DEC VT340 graphics) of paletted images, with holes.

``quantize`` turns a view into at most ``colors - 1`` palette colours once; ``encode``
turns any box of it into one Sixel image. Index ``HOLE`` (255) is never drawn: the
image is sent with a transparent background (P2=1), so whatever the terminal shows in
a hole (the text of a pin, say) stays visible.

Each band of six pixel rows becomes, per colour present in it, one line of sixel
characters: the six rows' "is this colour" bits are combined with big-integer shifts
(one byte per column, no carries) and translated to characters in C; runs of four or
more become ``!N`` repeats.
"""

from __future__ import annotations

import re

from PIL import Image

HOLE = 255
MAX_COLORS = 256
_TO_SIXEL_CHAR = bytes(range(63, 63 + 64)) + bytes(192)  # value 0-63 -> '?'..'~'
_RUN = re.compile(rb"(.)\1{3,}", re.DOTALL)
_IS_COLOR: dict[int, bytes] = {}  # translate tables: palette index -> 1, others -> 0


def _is_color(index: int) -> bytes:
    table = _IS_COLOR.get(index)
    if table is None:
        table = _IS_COLOR[index] = bytes(1 if i == index else 0 for i in range(256))
    return table


def quantize(image: Image.Image, colors: int = MAX_COLORS) -> Image.Image:
    """``image`` as a paletted ("P") image of at most ``colors - 1`` colours (``HOLE``
    stays free). Few-colour images keep their exact colours."""
    rgb = image.convert("RGB")
    count = max(2, min(MAX_COLORS, colors) - 1)
    if rgb.getcolors(count) is not None:
        # No more colours than registers: median cut keeps every colour exactly.
        return rgb.quantize(colors=count, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    return rgb.quantize(colors=count, method=Image.Quantize.FASTOCTREE)


def _repeat(match: re.Match[bytes]) -> bytes:
    run = match.group(0)
    return b"!%d%c" % (len(run), run[0])


def encode(paletted: Image.Image) -> bytes:
    """One Sixel image (DCS ... ST) of a paletted image; index ``HOLE`` is transparent."""
    width, height = paletted.size
    palette = paletted.getpalette() or []
    data = paletted.tobytes()
    used = set(data) - {HOLE}
    out = [b'\x1bP0;1;0q"1;1;%d;%d' % (width, height)]
    for index in sorted(used):
        r, g, b = palette[index * 3 : index * 3 + 3]
        out.append(
            b"#%d;2;%d;%d;%d"
            % (index, (r * 100 + 127) // 255, (g * 100 + 127) // 255, (b * 100 + 127) // 255)
        )
    for top in range(0, height, 6):
        rows = [data[y * width : (y + 1) * width] for y in range(top, min(top + 6, height))]
        present = set().union(*map(set, rows)) - {HOLE}
        lines = []
        for index in sorted(present):
            table = _is_color(index)
            bits = 0
            for shift, row in enumerate(rows):
                bits |= int.from_bytes(row.translate(table), "big") << shift
            chars = bits.to_bytes(width, "big").translate(_TO_SIXEL_CHAR).rstrip(b"?")
            lines.append(b"#%d" % index + _RUN.sub(_repeat, chars))
        out.append(b"$".join(lines) + b"-")
    out.append(b"\x1b\\")
    return b"".join(out)

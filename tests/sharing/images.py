"""Image bytes for the sharing tests: real encoders, plus a hand-built PNG bomb."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib

from PIL import Image


def png(width: int = 64, height: int = 48, color: tuple[int, int, int] = (30, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bomb(width: int = 20000, height: int = 20000) -> bytes:
    """A valid greyscale PNG of all-zero pixels: ~400 KB that inflates to width*height bytes."""
    compressor = zlib.compressobj(9)
    row = b"\x00" * (width + 1)  # filter byte + pixels
    parts = [compressor.compress(row) for _ in range(height)]
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", b"".join(parts))
        + _chunk(b"IEND", b"")
    )


def webp_bomb(width: int = 16383, height: int = 16383) -> bytes:
    """A lossless WebP whose header claims width x height (the pixels are one 1x1 image's):
    a few dozen bytes that a decoder would have to allocate width*height*4 bytes for."""
    out = io.BytesIO()
    Image.new("RGBA", (1, 1), (1, 2, 3, 255)).save(out, "WEBP", lossless=True)
    data = bytearray(out.getvalue())
    assert data[12:16] == b"VP8L" and data[20] == 0x2F
    bits = int.from_bytes(data[21:25], "little")
    bits = (bits & ~((1 << 28) - 1)) | (width - 1) | ((height - 1) << 14)
    data[21:25] = bits.to_bytes(4, "little")
    return bytes(data)


def gradient(side: int, mode: str = "RGB") -> Image.Image:
    """A side x side picture with detail in every channel (compresses, but not to nothing)."""
    base = Image.linear_gradient("L").resize((side, side))
    other = base.transpose(Image.Transpose.ROTATE_90)
    # noise in 8x8 blocks: every channel varies, yet PNG, GIF and WebP stay under 25 MB
    noise = Image.effect_noise((side // 8 + 1, side // 8 + 1), 40).resize(
        (side, side), Image.Resampling.NEAREST
    )
    if mode == "L":
        return noise
    bands = [base, other, noise] + ([base] if mode == "RGBA" else [])
    return Image.merge(mode, bands)


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def bmp_rle8(side: int) -> bytes:
    """An 8-bit RLE BMP (Pillow reads, does not write, RLE): runs of 255 pixels."""
    rows = []
    for y in range(side):
        row = bytearray()
        left = side
        while left:
            run = min(255, left)
            row += bytes((run, y % 256))
            left -= run
        row += b"\x00\x00"  # end of line
        rows.append(bytes(row))
    pixels = b"".join(rows) + b"\x00\x01"  # end of bitmap
    palette = b"".join(bytes((i, i, i, 0)) for i in range(256))
    offset = 14 + 40 + len(palette)
    info = struct.pack("<IiiHHIIiiII", 40, side, side, 1, 8, 1, len(pixels), 2835, 2835, 256, 0)
    head = b"BM" + struct.pack("<IHHI", offset + len(pixels), 0, 0, offset)
    return head + info + palette + pixels

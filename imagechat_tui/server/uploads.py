"""What the server accepts as an image: checked bytes, a real picture, within limits.

``check_image`` (bytes) and ``check_file`` (a spooled upload) are the one gate for ``PUT
/images/{sha256}``. The order matters: size, then hash, then the header alone (format
and dimensions, a few hundred bytes read), then what the check's decode will cost, and
only when that fits the decode budget the decode itself. So a decompression bomb (a
small file that claims 20000x20000 pixels) is refused before a single row of it is
inflated.

The decode budget is ``DECODE_BYTES_PER_PIXEL`` bytes per allowed pixel (160 MB at the
default 40 M pixels): what Pillow's own image of the largest allowed PNG, GIF or BMP
takes (at most 4 bytes a pixel). A decoder that needs more per pixel is allowed
proportionally fewer pixels (``decode_cost``, measured by bench/upload_memory.py):
WebP (Pillow decodes it through libwebp's animation decoder: two canvases, a copy, the
image) and JPEGs that libjpeg buffers whole (progressive or multi-scan: 2 bytes per
coefficient). A JPEG is decoded at 1/8 scale (libjpeg's DCT scaling, Pillow's draft
mode): every scan is still entropy-decoded, so a truncated or corrupt one still fails.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import IO, TYPE_CHECKING, Final

if TYPE_CHECKING:  # Pillow is imported by the first upload, not by the server's start
    from PIL import Image

from imagechat_tui.server.config import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS

#: Formats a browser and the app both show; Pillow is never asked to guess among others.
FORMATS: Final = ("PNG", "JPEG", "GIF", "WEBP", "BMP")
MIME: Final = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "GIF": "image/gif",
    "WEBP": "image/webp",
    "BMP": "image/bmp",
}
DIGEST_PATTERN: Final = re.compile(r"^[0-9a-f]{64}$")

#: The decode budget per allowed pixel: Pillow's largest image mode (RGB, RGBA) is 4.
DECODE_BYTES_PER_PIXEL: Final = 4
#: Peak bytes per pixel of Pillow's WebP decode (measured: 16.3 lossy, 16.8 lossless).
WEBP_BYTES_PER_PIXEL: Final = 17.0
#: libjpeg's whole-image coefficient buffer: 2 bytes (a JCOEF) per component sample.
JPEG_COEFFICIENT_BYTES: Final = 2


class UploadRejected(Exception):
    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class ImageInfo:
    digest: str
    mime: str
    width: int
    height: int
    size: int


def decode_budget(max_pixels: int) -> int:
    """Bytes the check's decode of one upload may take (Pillow's, libjpeg's, libwebp's)."""
    return max_pixels * DECODE_BYTES_PER_PIXEL


def decode_bound(max_pixels: int, max_bytes: int) -> int:
    """What checking one upload may add to the server's memory: its decode, and its bytes
    (read for the database write, after the decode)."""
    return decode_budget(max_pixels) + max_bytes


def check_image(
    data: bytes,
    digest: str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> ImageInfo:
    """The stored form of an upload, or ``UploadRejected`` with its HTTP status."""
    _check_name(digest)
    _check_size(len(data), max_bytes)
    _check_digest(hashlib.sha256(data).hexdigest(), digest)
    return _check_picture(io.BytesIO(data), digest, len(data), max_pixels)


def check_file(
    path: Path,
    size: int,
    sha256: str,
    digest: str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> ImageInfo:
    """``check_image`` for an upload spooled to ``path`` (its size and SHA-256 computed
    on the way): decoded from the file, so its bytes are not in memory beside the decode."""
    _check_name(digest)
    _check_size(size, max_bytes)
    _check_digest(sha256, digest)
    with path.open("rb") as file:
        return _check_picture(file, digest, size, max_pixels)


def _check_name(digest: str) -> None:
    if not DIGEST_PATTERN.match(digest):
        raise UploadRejected(HTTPStatus.BAD_REQUEST, "The path must be /images/<sha256 hex>.")


def _check_size(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise UploadRejected(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"The image is {size} bytes; this server takes at most {max_bytes}.",
        )
    if not size:
        raise UploadRejected(HTTPStatus.BAD_REQUEST, "The upload is empty.")


def _check_digest(actual: str, digest: str) -> None:
    if actual != digest:
        raise UploadRejected(
            HTTPStatus.BAD_REQUEST, f"The bytes' sha256 is {actual}, not the {digest} named."
        )


def _check_picture(file: IO[bytes], digest: str, size: int, max_pixels: int) -> ImageInfo:
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(file, formats=FORMATS)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise UploadRejected(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"The image claims too many pixels; this server takes at most {max_pixels}.",
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise UploadRejected(
            HTTPStatus.BAD_REQUEST, f"Not an image in a supported format ({', '.join(FORMATS)})."
        ) from None
    with image:
        width, height = image.size
        if width < 1 or height < 1 or width * height > max_pixels:
            raise UploadRejected(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"The image is {width}x{height} pixels; this server takes at most "
                f"{max_pixels} pixels.",
            )
        fmt = image.format or ""
        cost, kind = decode_cost(image, file)
        allowed = int(decode_budget(max_pixels) // cost)
        if width * height > allowed:
            raise UploadRejected(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"The image is {width}x{height} pixels; this server takes at most "
                f"{allowed} pixels in a {kind}.",
            )
        if fmt == "JPEG":
            image.draft(image.mode, (1, 1))  # decode at 1/8 scale: every scan still read
        try:
            image.load()  # the full decode: a truncated or corrupt file fails here
        except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError):
            raise UploadRejected(
                HTTPStatus.BAD_REQUEST, "The image is truncated or corrupt: it does not decode."
            ) from None
    return ImageInfo(digest=digest, mime=MIME[fmt], width=width, height=height, size=size)


def decode_cost(image: Image.Image, file: IO[bytes]) -> tuple[float, str]:
    """Peak bytes per pixel of the check's decode of ``image`` (opened from ``file``),
    and what kind of image that is, for the message that refuses it."""
    if image.format == "WEBP":
        return WEBP_BYTES_PER_PIXEL, "WebP (its decoder takes 17 bytes a pixel)"
    if image.format == "JPEG":
        layers = getattr(image, "layer", [])
        if layers and _jpeg_buffers_whole_image(file, len(layers), image):
            h_max = max(h for _, h, _, _ in layers) or 1
            v_max = max(v for _, _, v, _ in layers) or 1
            samples = sum(h * v for _, h, v, _ in layers) / (h_max * v_max)
            # + 1/4: the blocks' padding to whole MCUs, and the 1/8-scale output
            return JPEG_COEFFICIENT_BYTES * samples + 0.25, (
                "progressive or multi-scan JPEG of this sampling"
            )
        return 1.0, "JPEG"
    return DECODE_BYTES_PER_PIXEL, image.format or "image"


def _jpeg_buffers_whole_image(file: IO[bytes], components: int, image: Image.Image) -> bool:
    """Whether libjpeg keeps every coefficient of the image while decoding it: when the
    file is progressive or its first scan has fewer components than the frame (the
    ``has_multiple_scans`` of libjpeg's jdinput.c)."""
    if image.info.get("progressive"):
        return True
    if components == 1:
        return False
    at = file.tell()
    try:
        file.seek(2)  # after SOI
        while True:
            marker = file.read(2)
            if len(marker) < 2 or marker[0] != 0xFF:
                return True  # not what Pillow parsed: assume the costly case
            if marker[1] == 0xFF:  # fill byte
                file.seek(-1, io.SEEK_CUR)
                continue
            if 0xD0 <= marker[1] <= 0xD8 or marker[1] == 0x01:  # no length
                continue
            length = int.from_bytes(file.read(2), "big")
            if marker[1] == 0xDA:  # start of scan: Ns, its number of components
                return file.read(1)[:1] != bytes((components,))
            file.seek(length - 2, io.SEEK_CUR)
    finally:
        file.seek(at)

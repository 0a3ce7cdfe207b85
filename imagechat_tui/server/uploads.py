"""What the server accepts as an image: checked bytes, a real picture, within limits.

``check_image`` is the one gate for ``PUT /images/{sha256}``. The order matters: size,
then hash, then the header alone (format and dimensions, a few hundred bytes read), and
only when the pixel count is within the limit the full decode. So a decompression bomb
(a small file that claims 20000x20000 pixels) is refused before a single row of it is
inflated, and the server's memory stays bounded by ``max_pixels``.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from dataclasses import dataclass
from http import HTTPStatus
from typing import Final

from PIL import Image, UnidentifiedImageError

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


def check_image(
    data: bytes,
    digest: str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> ImageInfo:
    """The stored form of an upload, or ``UploadRejected`` with its HTTP status."""
    if not DIGEST_PATTERN.match(digest):
        raise UploadRejected(HTTPStatus.BAD_REQUEST, "The path must be /images/<sha256 hex>.")
    if len(data) > max_bytes:
        raise UploadRejected(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"The image is {len(data)} bytes; this server takes at most {max_bytes}.",
        )
    if not data:
        raise UploadRejected(HTTPStatus.BAD_REQUEST, "The upload is empty.")
    actual = hashlib.sha256(data).hexdigest()
    if actual != digest:
        raise UploadRejected(
            HTTPStatus.BAD_REQUEST, f"The bytes' sha256 is {actual}, not the {digest} named."
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=FORMATS)
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
        try:
            image.load()  # the full decode: a truncated or corrupt file fails here
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            raise UploadRejected(
                HTTPStatus.BAD_REQUEST, "The image is truncated or corrupt: it does not decode."
            ) from None
    return ImageInfo(digest=digest, mime=MIME[fmt], width=width, height=height, size=len(data))

"""Load the image under review from an http(s) URL or a local path.

Everything that can go wrong ends in one ``ImageLoadError`` with a one-line message
for a person: the app prints it and exits non-zero, never with a traceback. Remote
images are cached by URL (revalidated with ETag / Last-Modified when the server
offers them); the loaded image is upright (EXIF orientation applied), RGB, or RGBA
when it has transparency (the app draws that over checks).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import ssl
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from PIL import Image, ImageOps, UnidentifiedImageError

from imagechat_tui.paths import cache_dir
from imagechat_tui.safe_text import inert

if TYPE_CHECKING:
    import httpx

#: Largest image (in pixels) we agree to decode; larger ones are treated as bombs.
MAX_PIXELS = 80_000_000
#: Largest encoded file we read or download.
MAX_BYTES = 200 * 1024 * 1024
DEFAULT_TIMEOUT = 20.0

Progress = Callable[[int, int | None], None]
"""Called with (bytes received so far, total bytes or None when unknown)."""


class ImageLoadError(Exception):
    """The image could not be loaded; ``str(error)`` is one line for a person."""


@dataclass(frozen=True, slots=True)
class LoadedImage:
    image: Image.Image  # RGB (RGBA with transparency), upright
    source: str  # the URL or the resolved path, as given to load_image
    digest: str  # sha256 hex of the encoded bytes
    is_remote: bool

    @property
    def default_room(self) -> str:
        return room_for(self.source if self.is_remote else None, self.digest)


def is_url(source: str) -> bool:
    return urlsplit(source).scheme.lower() in ("http", "https")


def room_for(url: str | None, digest: str) -> str:
    """The room for an image: a hash of its URL when remote, of its bytes when local.

    Short, and made of the characters protocol.RoomName allows. The server scopes
    rooms by the token's tenant, so two tenants never share a room by accident.
    """
    basis = url.encode("utf-8") if url is not None else digest.encode("ascii")
    return "img-" + hashlib.sha256(basis).hexdigest()[:24]


def load_image(
    source: str,
    *,
    progress: Progress | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    cache: Path | None = None,
    verify: ssl.SSLContext | bool = True,
) -> LoadedImage:
    """Read, decode and normalise the image at ``source`` (URL or path)."""
    if is_url(source):
        data = _download(source, progress, timeout, cache or cache_dir(), verify)
        remote = True
    else:
        data = _read_file(source)
        remote = False
    return LoadedImage(
        image=decode_image(data, name=source),
        source=source,
        digest=hashlib.sha256(data).hexdigest(),
        is_remote=remote,
    )


def _shown(source: str) -> str:
    return inert(source if len(source) <= 120 else source[:117] + "...")


def _read_file(source: str) -> bytes:
    path = Path(source).expanduser()
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise ImageLoadError(f"{_shown(source)} is a directory, not an image file.")
        if size > MAX_BYTES:
            raise ImageLoadError(
                f"{_shown(source)} is {size // 2**20} MiB; the limit is {MAX_BYTES // 2**20} MiB."
            )
        return path.read_bytes()
    except FileNotFoundError:
        raise ImageLoadError(f"No such file: {_shown(source)}.") from None
    except PermissionError:
        raise ImageLoadError(f"Permission denied reading {_shown(source)}.") from None
    except OSError as exc:
        raise ImageLoadError(f"Cannot read {_shown(source)}: {exc.strerror or exc}.") from None


def decode_image(data: bytes, *, name: str = "the image") -> Image.Image:
    """Decode ``data`` into an upright, opaque RGB image, or raise ImageLoadError."""
    shown = _shown(name)
    if not data:
        raise ImageLoadError(f"{shown} is empty.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image: Image.Image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ImageLoadError(
                    f"{shown} is {width}x{height} pixels, too large to decode safely "
                    f"(limit {MAX_PIXELS // 1_000_000} megapixels)."
                )
            image.load()
            image = ImageOps.exif_transpose(image)
    except ImageLoadError:
        raise
    except UnidentifiedImageError:
        raise ImageLoadError(f"{shown} is not an image in a format this app can read.") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageLoadError(f"{shown} looks like a decompression bomb; refused.") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "truncated" in reason.lower():
            raise ImageLoadError(f"{shown} is truncated or damaged.") from None
        raise ImageLoadError(f"{shown} could not be decoded: {inert(reason)}.") from None
    return _opaque_rgb(image)


def _opaque_rgb(image: Image.Image) -> Image.Image:
    """RGB, or RGBA when the image has transparency (drawn over checks in the app;
    ``halfblock.opaque`` flattens it where a file needs no alpha)."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    return image.convert("RGBA" if has_alpha else "RGB")


# --- download with cache ---------------------------------------------------------------


def _cache_paths(url: str, cache: Path) -> tuple[Path, Path]:
    key = hashlib.sha256(url.encode("utf-8")).hexdigest()
    return cache / f"{key}.img", cache / f"{key}.json"


def _download(
    url: str,
    progress: Progress | None,
    timeout: float,
    cache: Path,
    verify: ssl.SSLContext | bool,
) -> bytes:
    body_path, meta_path = _cache_paths(url, cache)
    cached_meta: dict[str, str] = {}
    if body_path.exists() and meta_path.exists():
        try:
            cached_meta = json.loads(meta_path.read_text("utf-8"))
        except (OSError, ValueError):
            cached_meta = {}
    headers = {"User-Agent": "imagechat-tui"}
    if cached_meta.get("etag"):
        headers["If-None-Match"] = cached_meta["etag"]
    if cached_meta.get("last_modified"):
        headers["If-Modified-Since"] = cached_meta["last_modified"]
    shown = _shown(url)
    import httpx  # only for a URL: a file opens without it (the first paint waits)

    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=True, verify=verify) as client,
            client.stream("GET", url, headers=headers) as response,
        ):
            if response.status_code == 304 and cached_meta:
                return body_path.read_bytes()
            if response.status_code >= 400:
                raise ImageLoadError(
                    f"{shown} answered HTTP {response.status_code} {inert(response.reason_phrase)}."
                )
            data = _read_body(response, progress, shown)
            meta = {
                "etag": response.headers.get("etag", ""),
                "last_modified": response.headers.get("last-modified", ""),
            }
    except httpx.TimeoutException:
        raise ImageLoadError(f"Timed out after {timeout:g}s downloading {shown}.") from None
    except httpx.HTTPError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ImageLoadError(f"Could not download {shown}: {inert(reason)}.") from None
    if meta["etag"] or meta["last_modified"]:
        _store(body_path, meta_path, data, meta)
    return data


def _read_body(response: httpx.Response, progress: Progress | None, shown: str) -> bytes:
    length = response.headers.get("content-length")
    total = int(length) if length and length.isdigit() else None
    if total is not None and total > MAX_BYTES:
        raise ImageLoadError(
            f"{shown} is {total // 2**20} MiB; the limit is {MAX_BYTES // 2**20} MiB."
        )
    chunks: list[bytes] = []
    received = 0
    for chunk in response.iter_bytes(chunk_size=64 * 1024):
        chunks.append(chunk)
        received += len(chunk)
        if received > MAX_BYTES:
            raise ImageLoadError(f"{shown} is larger than {MAX_BYTES // 2**20} MiB; refused.")
        if progress is not None:
            progress(received, total)
    return b"".join(chunks)


def _store(body_path: Path, meta_path: Path, data: bytes, meta: dict[str, str]) -> None:
    try:
        body_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = body_path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, body_path)
        meta_path.write_text(json.dumps(meta), "utf-8")
    except OSError:
        pass  # the cache is an optimisation; a read-only cache dir is no error

"""Every accepted format, uploaded over a real socket to a real `serve` process at the
pixel limit (scaled down to 4 M pixels so each decode is quick): the answer, and the
server's peak RSS (VmHWM) within the documented decode bound (``uploads.decode_bound``).
A format whose decoder needs more than the budget per pixel is taken up to its own cap
and refused (413, one line) at the pixel limit. Before that rule (and JPEG's 1/8-scale
decode) both were accepted there: a WebP took ~17 bytes a pixel, 4.2x the budget, and a
progressive 4:4:4 JPEG ~10, 2.5x (the growth assertion failed for each).
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from http import HTTPStatus
from pathlib import Path

import httpx
import pytest

from imagechat_tui.auth import TenantStore
from imagechat_tui.server.uploads import (
    JPEG_COEFFICIENT_BYTES,
    WEBP_BYTES_PER_PIXEL,
    decode_budget,
)
from tests.sharing.images import bmp_rle8, encode, gradient, sha

PIXELS = 4_000_000
SIDE = math.isqrt(PIXELS)  # a square at the limit
#: What a request costs the server beyond its decode (buffers, the answer): small.
SLACK = 6 * 2**20
SERVE = (sys.executable, "-m", "imagechat_tui", "serve", "--port", "0")


class Serve:
    """``imagechat-tui serve`` in a process of its own, whose memory can be read."""

    def __init__(self, home: Path) -> None:
        env = {**os.environ, "IMAGECHAT_HOME": str(home)}
        self.process = subprocess.Popen(
            [*SERVE, "--max-image-pixels", str(PIXELS)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        found = re.search(r":(\d+)/ws", self.process.stdout.readline())
        assert found, "serve did not say where it listens"
        self.url = f"http://127.0.0.1:{found.group(1)}"
        self.token = TenantStore.in_home(home).mint(tenant="local", user_id="alice")

    def put(self, data: bytes) -> httpx.Response:
        return httpx.put(
            f"{self.url}/images/{sha(data)}",
            content=data,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=120,
        )

    def peak(self) -> int:
        """The process's peak resident memory so far, in bytes."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
        assert found
        return int(found.group(1)) * 1024


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    running = Serve(tmp_path)
    try:
        yield running
    finally:
        running.process.terminate()
        running.process.wait()


def _cap(bytes_per_pixel: float) -> int:
    return math.isqrt(int(decode_budget(PIXELS) // bytes_per_pixel))


WEBP_SIDE = _cap(WEBP_BYTES_PER_PIXEL)
JPEG444_SIDE = _cap(JPEG_COEFFICIENT_BYTES * 3 + 0.25)

# (label, the largest image of its kind that is taken, one just too large or None)
Make = Callable[[int], bytes]
KINDS: dict[str, tuple[int, Make, bool]] = {
    "PNG RGBA": (SIDE, lambda s: encode(gradient(s, "RGBA"), "PNG"), False),
    "JPEG 4:2:0": (SIDE, lambda s: encode(gradient(s), "JPEG", quality=80), False),
    "JPEG progressive 4:4:4": (
        JPEG444_SIDE,
        lambda s: encode(gradient(s), "JPEG", quality=80, progressive=True, subsampling=0),
        True,
    ),
    "GIF": (SIDE, lambda s: encode(gradient(s, "L"), "GIF"), False),
    "WebP lossy": (WEBP_SIDE, lambda s: encode(gradient(s), "WEBP", quality=60), True),
    "WebP lossless": (
        WEBP_SIDE,
        lambda s: encode(gradient(s, "RGBA"), "WEBP", lossless=True, method=0),
        True,
    ),
    "BMP RLE8": (SIDE, bmp_rle8, False),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_format_at_its_limit_decodes_within_the_bound(serve: Serve, kind: str) -> None:
    side, make, capped = KINDS[kind]
    data = make(side)
    assert serve.put(make(8)).status_code == HTTPStatus.CREATED  # warm-up: imports, pools
    before = serve.peak()
    answer = serve.put(data)
    assert answer.status_code == HTTPStatus.CREATED, answer.text
    assert (answer.json()["width"], answer.json()["height"]) == (side, side)
    growth = serve.peak() - before
    assert growth <= decode_budget(PIXELS) + len(data) + SLACK, f"{kind}: +{growth >> 20} MiB"
    if capped:  # at the pixel limit it would need more than the budget: refused first
        refused = serve.put(make(SIDE))
        assert refused.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE, refused.text
        message = refused.json()["error"]
        assert f"{SIDE}x{SIDE} pixels" in message and "\n" not in message

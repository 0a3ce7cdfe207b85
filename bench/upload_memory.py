"""Server memory while it checks uploads: every accepted format at the pixel limit, the
worst variant of each, and bombs, against a small PNG as the named baseline.

Run: python bench/upload_memory.py [--pixels N] [--only LABEL-SUBSTRING]

Each case gets a fresh `imagechat-tui serve` process (SQLite, a temporary data dir) with
`--max-image-pixels N` (default: the server's, 40 M), one warm-up upload of a 64x64 PNG
(so imports and first-use allocations are not counted), then one PUT /images/{sha256}
with a member's token. Reported: the status, and the growth of the server's peak RSS
(VmHWM after, minus VmHWM after the warm-up), in MiB, beside the documented decode
bound (``uploads.decode_bound``: the budget every format's decode must fit, plus the
upload's own bytes) as a ratio. The baseline is a 64x64 PNG uploaded the same way:
what an upload costs beyond its decode.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from imagechat_tui.auth import TenantStore
from imagechat_tui.server.config import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS
from imagechat_tui.server.uploads import (
    JPEG_COEFFICIENT_BYTES,
    WEBP_BYTES_PER_PIXEL,
    decode_bound,
    decode_budget,
)
from tests.sharing.images import bmp_rle8, encode, gradient, png, png_bomb, webp_bomb


def status_kb(pid: int, field: str) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.M)
    assert match
    return int(match.group(1))


def cases(pixels: int) -> list[tuple[str, Callable[[], bytes]]]:
    side = math.isqrt(pixels)  # a square at the limit
    bmp24 = math.isqrt((DEFAULT_MAX_BYTES - 1024) // 3)  # 24-bit BMP: bytes bind first
    # the largest a costlier decoder is allowed (uploads.decode_cost)
    webp = math.isqrt(int(decode_budget(pixels) // WEBP_BYTES_PER_PIXEL))
    jpeg444 = math.isqrt(int(decode_budget(pixels) // (JPEG_COEFFICIENT_BYTES * 3 + 0.25)))
    return [
        ("baseline: 64x64 PNG", lambda: png(64, 64)),
        (f"PNG RGB {side}x{side}", lambda: encode(gradient(side), "PNG")),
        (f"PNG RGBA {side}x{side}", lambda: encode(gradient(side, "RGBA"), "PNG")),
        (
            f"PNG RGBA interlaced {side}x{side}",
            lambda: encode(gradient(side, "RGBA"), "PNG", interlace=True),
        ),
        (f"JPEG 4:2:0 {side}x{side}", lambda: encode(gradient(side), "JPEG", quality=80)),
        (
            f"JPEG progressive 4:4:4 {side}x{side}",
            lambda: encode(gradient(side), "JPEG", quality=80, progressive=True, subsampling=0),
        ),
        (
            f"JPEG progressive 4:4:4 {jpeg444}x{jpeg444}",
            lambda: encode(gradient(jpeg444), "JPEG", quality=80, progressive=True, subsampling=0),
        ),
        (f"GIF {side}x{side}", lambda: encode(gradient(side, "L"), "GIF")),
        (f"WebP lossy {side}x{side}", lambda: encode(gradient(side), "WEBP", quality=60)),
        (
            f"WebP lossless RGBA {side}x{side}",
            lambda: encode(gradient(side, "RGBA"), "WEBP", lossless=True, method=0),
        ),
        (f"WebP lossy {webp}x{webp}", lambda: encode(gradient(webp), "WEBP", quality=60)),
        (
            f"WebP lossless RGBA {webp}x{webp}",
            lambda: encode(gradient(webp, "RGBA"), "WEBP", lossless=True, method=0),
        ),
        (f"BMP RLE8 {side}x{side}", lambda: bmp_rle8(side)),
        (f"BMP 24-bit {bmp24}x{bmp24} (bytes bind)", lambda: encode(gradient(bmp24), "BMP")),
        ("bomb: 20000x20000 PNG", lambda: png_bomb(20000, 20000)),
        ("bomb: 16383x16383 WebP", lambda: webp_bomb(16383, 16383)),
        ("30 MB of zeros", lambda: b"\0" * (30 * 1024 * 1024)),
    ]


def put(port: int, token: str, data: bytes) -> int:
    answer = httpx.put(
        f"http://127.0.0.1:{port}/images/{hashlib.sha256(data).hexdigest()}",
        content=data,
        headers={"Authorization": f"Bearer {token}"},
        timeout=300,
    )
    return answer.status_code


def measure(data: bytes, pixels: int) -> tuple[int, float]:
    """(status, peak RSS growth in MiB) of one upload to a fresh server."""
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "IMAGECHAT_HOME": home}
        command = [sys.executable, "-m", "imagechat_tui", "serve", "--port", "0"]
        command += ["--max-image-pixels", str(pixels)]
        server = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        try:
            assert server.stdout is not None
            line = server.stdout.readline()
            port = int(re.search(r":(\d+)/ws", line).group(1))  # type: ignore[union-attr]
            token = TenantStore.in_home(Path(home)).mint(tenant="local", user_id="bench")
            assert put(port, token, png(64, 64, (1, 2, 3))) == 201  # warm-up
            before = status_kb(server.pid, "VmHWM")
            status = put(port, token, data)
            peak = status_kb(server.pid, "VmHWM")
        finally:
            server.terminate()
            server.wait()
    return status, (peak - before) / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pixels", type=int, default=DEFAULT_MAX_PIXELS)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    bound = decode_bound(args.pixels, DEFAULT_MAX_BYTES) / 2**20
    print(
        f"--max-image-pixels {args.pixels}: decode bound {bound:.1f} MiB "
        "(decode budget + the upload's bytes)"
    )
    print(f"{'upload':<40} {'bytes':>9}  status  {'peak RSS':>10}  vs bound")
    for label, make in cases(args.pixels):
        if args.only.lower() not in label.lower():
            continue
        data = make()
        status, growth = measure(data, args.pixels)
        print(
            f"{label:<40} {len(data) / 1e6:>7.2f}MB  {status:>6}  +{growth:>7.1f}MiB"
            f"  {growth / bound:>7.2f}x"
        )
        del data


if __name__ == "__main__":
    main()

"""Server memory during hostile uploads, against a legitimate upload of the largest
allowed image as the baseline.

Run: python bench/upload_memory.py

Each case gets a fresh `imagechat-tui serve` process (SQLite, a temporary data dir), one
PUT /images/{sha256} with a member's token, and the growth of the server's peak RSS
(VmHWM in /proc/PID/status, minus VmRSS after start) is reported next to the status it
answered. A bomb must be refused from its header: its growth should be about the size
of the upload itself (kept in memory while read), far below the baseline's decode.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from imagechat_tui.auth import TenantStore
from tests.sharing.images import png_bomb


def status_kb(pid: int, field: str) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.M)
    assert match
    return int(match.group(1))


def legit_image() -> bytes:
    """6000x6000 (36 Mpx, under the 40 Mpx default limit): a gradient, as a PNG."""
    image = Image.linear_gradient("L").resize((6000, 6000)).convert("RGB")
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)
    return out.getvalue()


def measure(label: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "IMAGECHAT_HOME": home}
        server = subprocess.Popen(
            [sys.executable, "-m", "imagechat_tui", "serve", "--port", "0"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert server.stdout is not None
            line = server.stdout.readline()
            port = int(re.search(r":(\d+)/ws", line).group(1))  # type: ignore[union-attr]
            token = TenantStore.in_home(Path(home)).mint(tenant="local", user_id="bench")
            before = status_kb(server.pid, "VmRSS")
            started = time.perf_counter()
            answer = httpx.put(
                f"http://127.0.0.1:{port}/images/{hashlib.sha256(data).hexdigest()}",
                content=data,
                headers={"Authorization": f"Bearer {token}"},
                timeout=300,
            )
            seconds = time.perf_counter() - started
            peak = status_kb(server.pid, "VmHWM")
        finally:
            server.terminate()
            server.wait()
    print(
        f"{label:<34} {len(data) / 1e6:>8.2f} MB  -> {answer.status_code}  "
        f"peak RSS +{(peak - before) / 1024:>7.1f} MiB  ({seconds:.2f} s)"
    )


def main() -> None:
    cases = [
        ("baseline: 6000x6000 PNG (allowed)", legit_image()),
        ("bomb: 20000x20000 PNG", png_bomb(20000, 20000)),
        ("bomb: 9000x9000 PNG (< Pillow's)", png_bomb(9000, 9000)),
        ("30 MB of zeros", b"\0" * (30 * 1024 * 1024)),
    ]
    for label, data in cases:
        measure(label, data)


if __name__ == "__main__":
    main()

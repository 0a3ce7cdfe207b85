"""Real terminal emulators on a virtual X screen: Xvfb, xterm (Sixel), kitty (Kitty
graphics), screenshots with ImageMagick's ``import``. Used by the real-terminal tests
and by ``scripts/terminal_screenshots.py``."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[1]
SCREEN = (1280, 800)
PIN_OPEN_RGB = (255, 196, 0)  # ImageView's PIN_OPEN background
TERMINAL_PROGRAMS = {"xterm": ("Xvfb", "xterm", "import"), "kitty": ("Xvfb", "kitty", "import")}


def stripes_image() -> Image.Image:
    """One-pixel black and white stripes on the left half, small text on the right."""
    image = Image.new("RGB", (480, 300), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    for x in range(0, 240, 2):
        draw.line((x, 0, x, 299), fill=(0, 0, 0))
    draw.text((260, 20), "Small text 123", fill=(0, 0, 0))
    draw.text((260, 40), "Review me: ok?", fill=(200, 0, 0))
    draw.rectangle((260, 100, 460, 280), fill=(30, 90, 200))
    return image


class VirtualScreen:
    """An Xvfb display (it picks a free number itself)."""

    def __init__(self) -> None:
        read, write = os.pipe()
        self.process = subprocess.Popen(
            [
                "Xvfb",
                "-displayfd",
                str(write),
                "-screen",
                "0",
                "x".join(map(str, SCREEN)) + "x24",
                "-nolisten",
                "tcp",
            ],
            pass_fds=(write,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(write)
        with os.fdopen(read) as pipe:
            number = pipe.readline().strip()
        if not number:
            self.process.kill()
            raise RuntimeError("Xvfb did not start")
        self.display = f":{number}"

    def screenshot(self) -> Image.Image:
        png = subprocess.run(
            ["import", "-display", self.display, "-window", "root", "png:-"],
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout
        with Image.open(io.BytesIO(png)) as shot:
            return shot.convert("RGB")

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def terminal_command(kind: str, argv: list[str]) -> list[str]:
    if kind == "xterm":
        # 256 Sixel colour registers (the VT340 had 16); 160x48 cells of 6x13 pixels.
        return [
            "xterm",
            "-ti",
            "vt340",
            "-xrm",
            "XTerm*numColorRegisters: 256",
            "-geometry",
            "160x48+0+0",
            "-e",
            *argv,
        ]
    return [
        "kitty",
        "-o",
        "initial_window_width=1040",
        "-o",
        "initial_window_height=640",
        "-o",
        "remember_window_size=no",
        "-o",
        "placement_strategy=top-left",
        *argv,
    ]


def start_terminal(
    screen: VirtualScreen, kind: str, argv: list[str], env: dict[str, str]
) -> subprocess.Popen[bytes]:
    """``argv`` running in a new ``kind`` terminal window on ``screen``."""
    env = {**env, "DISPLAY": screen.display, "LIBGL_ALWAYS_SOFTWARE": "1"}
    env.pop("COLORTERM", None)  # the app must find out itself (kitty sets it anyway)
    return subprocess.Popen(
        terminal_command(kind, argv), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def app_argv(image: Path, server_url: str, token: str, room: str, graphics: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "imagechat_tui",
        str(image),
        "--server",
        server_url,
        "--token",
        token,
        "--room",
        room,
        "--graphics",
        graphics,
    ]


def app_env(home: Path) -> dict[str, str]:
    env = {**os.environ, "IMAGECHAT_HOME": str(home), "PYTHONPATH": str(REPO)}
    env.pop("IMAGECHAT_GRAPHICS", None)
    return env


async def wait_for_screen(
    screen: VirtualScreen, condition: Callable[[Image.Image], bool], timeout: float = 120.0
) -> Image.Image:
    """Screenshots until one meets ``condition``; the last one is attached on failure."""
    shot = screen.screenshot()
    try:
        async with asyncio.timeout(timeout):
            while not condition(shot):
                await asyncio.sleep(0.5)
                shot = await asyncio.to_thread(screen.screenshot)
    except TimeoutError:
        path = Path(os.environ.get("TMPDIR", "/tmp")) / f"imagechat-screen-{os.getpid()}.png"
        shot.save(path)
        raise AssertionError(f"the screen never showed what was expected; last: {path}") from None
    return shot


# --- what a screenshot shows ---------------------------------------------------------


def stripe_run(row: list[int], min_length: int = 150) -> tuple[int, int] | None:
    """The first stretch of ``row`` (grey levels) at least ``min_length`` pixels long
    where black and white alternate every 1 to 3 pixels: resolved one-pixel stripes.
    Half blocks turn such stripes into flat grey, text never alternates that long."""
    bits = [value > 128 for value in row]
    runs: list[tuple[int, int]] = []  # (start, length) of equal values
    start = 0
    for x in range(1, len(bits) + 1):
        if x == len(bits) or bits[x] != bits[start]:
            runs.append((start, x - start))
            start = x
    first = None
    for run_start, length in runs:
        if length <= 3:
            first = run_start if first is None else first
            if run_start + length - first >= min_length:
                return first, run_start + length
        else:
            first = None
    return None


def stripes_resolved(shot: Image.Image) -> bool:
    grey = shot.convert("L")
    width = grey.width
    data = grey.tobytes()
    rows = range(0, grey.height, 7)
    return sum(stripe_run(list(data[y * width : (y + 1) * width])) is not None for y in rows) >= 10


def pin_box(shot: Image.Image) -> tuple[int, int, int, int] | None:
    """Where the open pin's yellow background is, if anywhere."""
    r, g, b = (
        channel.point(lambda v, c=c: 255 if abs(v - c) <= 12 else 0)
        for channel, c in zip(shot.split(), PIN_OPEN_RGB, strict=True)
    )
    mask = Image.composite(Image.composite(r, Image.new("L", r.size), g), Image.new("L", r.size), b)
    return mask.getbbox()


def pin_over_stripes(shot: Image.Image) -> bool:
    """A pin is drawn and the stripes run right up to it on its row: it is over the image."""
    box = pin_box(shot)
    if box is None:
        return False
    grey = shot.convert("L")
    y = (box[1] + box[3]) // 2
    row = [grey.getpixel((x, y)) for x in range(grey.width)]
    left = stripe_run(row[: box[0]], min_length=40)
    right = stripe_run(row[box[2] :], min_length=40)
    return (left is not None and box[0] - left[1] <= 12) or (right is not None and right[0] <= 12)

"""Time turning a 4000x3000 image into half-block cells: ours vs rich-pixels.

Run: .venv/bin/python bench/render_bench.py [--repeat N]  (needs the bench extra: rich-pixels)

Fair by construction: both sides start from the same decoded RGB image and produce
ready-to-write segments for the same 160x60 cells (160x120 pixels; the bench checks
both cell counts). Our side uses a fresh renderer each round, so no cached colours,
styles or strips carry over. Rounds alternate between the contenders so that load
from other processes hits all of them alike. Prints medians of wall time and of CPU
time (less disturbed by other processes on a shared machine) and the ratios; the
target is at least 5x. A last row renders the image with an alpha gradient (drawn over
the checkerboard), including the renderer's one-time premultiply.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable

from PIL import Image, ImageDraw
from rich.cells import cell_len
from rich.segment import Segment
from rich_pixels import Pixels
from textual.strip import Strip

from imagechat_tui.client.halfblock import HalfBlockRenderer, Viewport


def screenshot_like(width: int = 4000, height: int = 3000) -> Image.Image:
    """A busy synthetic 'screenshot': gradient, panels, buttons and noise."""
    gradient = Image.linear_gradient("L").resize((width, height))
    image = Image.merge("RGB", (gradient, gradient.rotate(90), Image.new("L", (width, height), 90)))
    draw = ImageDraw.Draw(image)
    for i in range(0, width, 160):
        for j in range(0, height, 120):
            colour = ((i * 7) % 256, (j * 5) % 256, ((i + j) * 3) % 256)
            draw.rounded_rectangle((i + 10, j + 10, i + 140, j + 60), 12, fill=colour)
    noise = Image.effect_noise((width // 4, height // 4), 40).resize((width, height))
    return Image.blend(image, Image.merge("RGB", (noise, noise, noise)), 0.15)


def cells(segments: list[Segment]) -> int:
    return sum(cell_len(segment.text) for segment in segments if segment.text != "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    cols, rows = 160, 60
    image = screenshot_like()
    geometry = HalfBlockRenderer(image).geometry(cols, rows, Viewport())
    x0, y0, x1, y1 = geometry.image_box()
    size = (x1 - x0, y1 - y0)

    def ours() -> list[Strip]:
        return HalfBlockRenderer(image).render(geometry)

    def ours_256() -> list[Strip]:
        return HalfBlockRenderer(image, colors="256").render(geometry)

    # The same image with transparency (alpha falling from 255 to 0 across it): drawn
    # over the checkerboard, the extra cost of transparent images.
    transparent = image.copy()
    transparent.putalpha(Image.linear_gradient("L").rotate(90).resize(image.size))

    def ours_transparent() -> list[Strip]:
        return HalfBlockRenderer(transparent).render(geometry)

    def baseline() -> Pixels:
        return Pixels.from_image(image, resize=size)

    contenders: dict[str, Callable[[], object]] = {
        "rich-pixels": baseline,
        "ours, truecolor": ours,
        "ours, 256 colours": ours_256,
        "ours, truecolor, transparent": ours_transparent,
    }
    sizes = {
        "rich-pixels": cells(list(baseline()._segments.segments)),  # type: ignore[union-attr]
        "ours, truecolor": cells([segment for strip in ours() for segment in strip]),
        "ours, 256 colours": cells([segment for strip in ours_256() for segment in strip]),
        "ours, truecolor, transparent": cells(
            [segment for strip in ours_transparent() for segment in strip]
        ),
    }
    assert len(set(sizes.values())) == 1, f"not the same output size: {sizes}"
    wall: dict[str, list[float]] = {name: [] for name in contenders}
    cpu: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(args.repeat):
        for name, fn in contenders.items():
            gc.collect()  # every contender starts from the same clean heap
            start_wall, start_cpu = time.perf_counter(), time.process_time()
            result = fn()
            cpu[name].append(time.process_time() - start_cpu)
            wall[name].append(time.perf_counter() - start_wall)
            del result  # freed after the clock stops: the app keeps what it renders
    base_wall = statistics.median(wall["rich-pixels"])
    base_cpu = statistics.median(cpu["rich-pixels"])
    print(
        f"image {image.width}x{image.height} -> {cols}x{rows} cells ({size[0]}x{size[1]} px),"
        f" {sizes['rich-pixels']} cells each, median of {args.repeat}"
    )
    print(f"{'':30}  {'wall':>8}  {'vs':>6}    {'cpu':>8}  {'vs':>6}")
    for name in contenders:
        w, c = statistics.median(wall[name]), statistics.median(cpu[name])
        print(
            f"{name:30}  {w * 1000:6.1f}ms  {base_wall / w:5.1f}x    "
            f"{c * 1000:6.1f}ms  {base_cpu / c:5.1f}x"
        )


if __name__ == "__main__":
    main()

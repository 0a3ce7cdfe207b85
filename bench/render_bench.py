"""Time turning a 4000x3000 image into cells for a 200x60 area: ours vs rich-pixels.

Run: .venv/bin/python bench/render_bench.py [--repeat N]

Both sides start from the same decoded RGB image and produce ready-to-write segments
for the same pixel size (aspect kept, so 160x120 pixels = 160x60 cells here). Our side
uses a fresh renderer each round, so no cached strips help it. Prints the medians and
the ratio; the target is at least 5x.
"""

from __future__ import annotations

import argparse
import statistics
import time

from PIL import Image, ImageDraw
from rich_pixels import Pixels

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


def time_it(fn: object, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    cols, rows = 200, 60
    image = screenshot_like()
    geometry = HalfBlockRenderer(image).geometry(cols, rows, Viewport())
    x0, y0, x1, y1 = geometry.image_box()
    size = (x1 - x0, y1 - y0)

    def ours() -> None:
        HalfBlockRenderer(image).render(geometry)

    def ours_256() -> None:
        HalfBlockRenderer(image, colors="256").render(geometry)

    def baseline() -> None:
        Pixels.from_image(image, resize=size)

    t_base = time_it(baseline, args.repeat)
    t_ours = time_it(ours, args.repeat)
    t_256 = time_it(ours_256, args.repeat)
    print(
        f"image {image.width}x{image.height} -> area {cols}x{rows} cells ({size[0]}x{size[1]} px)"
    )
    print(f"rich-pixels Pixels.from_image : {t_base * 1000:8.1f} ms")
    print(
        f"ours, truecolor               : {t_ours * 1000:8.1f} ms  ({t_base / t_ours:5.1f}x faster)"
    )
    print(
        f"ours, 256 colours             : {t_256 * 1000:8.1f} ms  ({t_base / t_256:5.1f}x faster)"
    )


if __name__ == "__main__":
    main()

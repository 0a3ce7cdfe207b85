from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from rich.color import Color
from rich.color_triplet import ColorTriplet
from textual.strip import Strip

from imagechat_tui.client.halfblock import (
    CHECK_SIZE,
    CHECKS,
    FLAT_BACKGROUND,
    UPPER_HALF,
    Geometry,
    HalfBlockRenderer,
    Viewport,
)


def quadrants() -> Image.Image:
    """Top half red, bottom half blue, 100x50: exactly fills a 100x25-cell area."""
    image = Image.new("RGB", (100, 50), (252, 0, 0))
    image.paste((0, 0, 252), (0, 25, 100, 50))
    return image


def test_strips_cover_the_area_exactly() -> None:
    renderer = HalfBlockRenderer(quadrants())
    geometry = renderer.geometry(50, 25, Viewport())
    strips = renderer.render(geometry)
    assert len(strips) == 25
    assert all(strip.cell_length == 50 for strip in strips)
    assert strips[0].text == UPPER_HALF * 50


def test_colours_land_in_the_right_half_cells() -> None:
    renderer = HalfBlockRenderer(quadrants())
    strips = renderer.render(renderer.geometry(100, 25, Viewport()))
    top_style = next(iter(strips[0])).style
    bottom_style = next(iter(strips[24])).style
    assert top_style is not None and bottom_style is not None
    assert top_style.color.triplet == (252, 0, 0)  # type: ignore[union-attr]
    assert bottom_style.bgcolor.triplet == (0, 0, 252)  # type: ignore[union-attr]


def test_image_is_centred_with_aspect_kept() -> None:
    geometry = Geometry.fit((100, 100), 80, 20, Viewport())  # 80x40 px area, square image
    assert geometry.scale == 0.4
    assert geometry.image_box() == (20, 0, 60, 40)


def test_256_colour_mode_uses_palette_colours() -> None:
    renderer = HalfBlockRenderer(Image.new("RGB", (10, 10), (250, 3, 3)), colors="256")
    strips = renderer.render(renderer.geometry(10, 5, Viewport()))
    style = next(iter(strips[2])).style
    assert style is not None and style.color.triplet == (255, 0, 0)  # type: ignore[union-attr]


def test_zoom_shows_a_smaller_part_at_the_centre() -> None:
    fit = Geometry.fit((400, 300), 100, 30, Viewport())
    zoomed = Geometry.fit((400, 300), 100, 30, Viewport(zoom=4))
    assert zoomed.scale == 4 * fit.scale
    assert zoomed.to_percent(50, 15) == fit.to_percent(50, 15)  # centre stays put
    assert zoomed.to_percent(0, 0) is not None and fit.to_percent(0, 0) is None


def test_pan_is_clamped_to_the_image() -> None:
    geometry = Geometry.fit((400, 300), 100, 30, Viewport(zoom=4, cx=1.0, cy=1.0))
    assert geometry.to_percent(99.99, 29.99) is not None
    x, y = geometry.to_percent(99.99, 29.99) or (0, 0)
    assert x > 99.9 and y > 99.9


@given(
    st.floats(0, 100),
    st.floats(0, 100),
    st.sampled_from([1.0, 2.0, 5.5]),
    st.floats(0, 1),
    st.floats(0, 1),
)
def test_percent_and_cell_agree(x: float, y: float, zoom: float, cx: float, cy: float) -> None:
    geometry = Geometry.fit((1600, 900), 120, 40, Viewport(zoom, cx, cy))
    col, row = geometry.to_cell(x, y)
    if 0 <= col < 120 and 0 <= row < 40:
        back = geometry.to_percent(col + 0.5, row + 0.5)
        assert back is not None
        cell_w = 100 / (1600 * geometry.scale)  # percent of width per cell
        cell_h = 100 / (900 * geometry.scale) * 2
        assert abs(back[0] - x) <= cell_w and abs(back[1] - y) <= cell_h


def test_renders_are_cached_per_geometry() -> None:
    renderer = HalfBlockRenderer(quadrants())
    geometry = renderer.geometry(50, 25, Viewport())
    assert renderer.render(geometry) is renderer.render(geometry)


def _cells(strips: list[object]) -> list[list[tuple[str, object, object]]]:
    """Every cell of every strip as (character, foreground, background)."""
    rows = []
    for strip in strips:
        row = []
        for segment in strip:  # type: ignore[attr-defined]
            for char in segment.text:
                row.append((char, segment.style.color, segment.style.bgcolor))
        rows.append(row)
    return rows


def test_each_cell_shows_its_two_pixels_as_rich_would_name_them() -> None:
    """The fast path against the plain definition: cell (x, y) is ``▀`` with the
    pixel (x, 2y) as foreground and (x, 2y + 1) as background, colours exactly as
    ``Color.from_rgb`` makes them; equal neighbours share one Segment."""
    noise = Image.effect_noise((37, 22), 80)
    image = Image.merge("RGB", (noise, noise.transpose(Image.Transpose.ROTATE_180), noise))
    image.paste((10, 20, 30), (0, 0, 12, 22))  # a flat block: long runs
    renderer = HalfBlockRenderer(image)
    geometry = renderer.geometry(37, 11, Viewport())
    assert geometry.image_box() == (0, 0, 37, 22)
    strips = renderer.render(geometry)
    six_bits = image.point([v & 0xFC for v in range(256)] * 3)
    for y, row in enumerate(_cells(strips)):
        assert len(row) == 37
        for x, (char, fg, bg) in enumerate(row):
            assert char == UPPER_HALF
            assert fg == Color.from_rgb(*six_bits.getpixel((x, 2 * y)))
            assert bg == Color.from_rgb(*six_bits.getpixel((x, 2 * y + 1)))
    for strip in strips:
        styles = [segment.style for segment in strip]
        assert all(a != b for a, b in pairwise(styles))
    assert len(list(strips[0])) < 37  # the flat block is one run


def test_a_second_render_reuses_colours_and_styles() -> None:
    renderer = HalfBlockRenderer(quadrants())
    red = Color.from_rgb(252, 0, 0)

    def red_on_red(strips: list[object]) -> object:
        return next(
            segment.style
            for strip in strips
            for segment in strip  # type: ignore[attr-defined]
            if segment.style.color == red and segment.style.bgcolor == red
        )

    first = renderer.render(renderer.geometry(100, 25, Viewport()))
    again = renderer.render(renderer.geometry(100, 26, Viewport()))  # not from the strip cache
    assert again is not first
    assert red_on_red(again) is red_on_red(first)


def _cell_colours(strips: list[Strip]) -> list[list[tuple[object, object]]]:
    """(top, bottom) colour triplets of every cell."""
    rows = []
    for strip in strips:
        row = []
        for segment in strip:
            assert segment.style is not None
            pair = (segment.style.color.triplet, segment.style.bgcolor.triplet)  # type: ignore[union-attr]
            row += [pair] * len(segment.text)
        rows.append(row)
    return rows


def test_transparent_areas_are_drawn_as_checks_and_opaque_ones_as_they_are() -> None:
    image = Image.new("RGBA", (40, 20), (0, 0, 0, 0))  # transparent black underneath
    image.paste((250, 0, 0, 255), (20, 0, 40, 20))  # right half opaque red
    renderer = HalfBlockRenderer(image, background=(24, 24, 24))
    strips = renderer.render(renderer.geometry(40, 10, Viewport()))
    cells = _cell_colours(strips)
    light, dark = (ColorTriplet(*CHECKS[0]), ColorTriplet(*CHECKS[1]))
    left = {pair for row in cells for pair in row[:20]}
    assert {colour for pair in left for colour in pair} == {light, dark}  # never black
    # Squares of CHECK_SIZE pixels: the colour alternates every CHECK_SIZE columns.
    assert cells[0][0][0] != cells[0][CHECK_SIZE][0]
    assert cells[0][0][0] == cells[0][CHECK_SIZE - 1][0]
    assert {pair for row in cells for pair in row[20:]} == {
        (ColorTriplet(248, 0, 0), ColorTriplet(248, 0, 0))  # 6 bits a channel
    }
    # Files get the flat background, not checks.
    assert renderer.image.mode == "RGB" and renderer.image.getpixel((0, 0)) == FLAT_BACKGROUND


def test_an_opaque_rgba_image_draws_like_its_rgb() -> None:
    rgb = Image.new("RGB", (30, 30), (10, 200, 30))
    rgb.paste((200, 20, 20), (0, 0, 15, 15))
    from_rgba = HalfBlockRenderer(rgb.convert("RGBA"))
    for zoom in (1.0, 3.0):
        geometry = from_rgba.geometry(30, 15, Viewport(zoom))
        assert HalfBlockRenderer(rgb).render(geometry) == from_rgba.render(geometry)

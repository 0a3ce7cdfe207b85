from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from imagechat_tui.client.halfblock import UPPER_HALF, Geometry, HalfBlockRenderer, Viewport


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

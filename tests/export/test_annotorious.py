"""The W3C export in Annotorious 3 (vendored, tests/export/annotorious/), the field's
image-annotation library, in headless Chromium: it loads every annotation, each at its
place on the image; and a rectangle drawn in Annotorious, in its own W3C output, is
imported with ``imagechat-tui import`` as a region at that place, and exported, imported
and exported again it is the same review."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.export.hostile_room import PLACES, SIZE, Seeded, export
from tests.export.test_w3c_import import import_file, review
from tests.tools import require

HERE = Path(__file__).parent / "annotorious"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--allow-file-access-from-files",
]
PAGE = """<!doctype html>
<html><head><meta charset="utf-8">
<link rel="stylesheet" href="annotorious.css"><script src="annotorious.js"></script>
</head><body style="margin:0"><img id="image" src="screen.png"></body></html>
"""
LOAD = """async (items) => {
  const image = document.getElementById('image');
  await image.decode();
  const source = items[0].target.source;
  window.anno = Annotorious.createImageAnnotator(image, {
    adapter: Annotorious.W3CImageFormat(source), drawingEnabled: true });
  const errors = [];
  const warn = console.warn;
  console.warn = (...args) => { errors.push(args.map(String).join(' ')); warn(...args); };
  anno.setAnnotations(items, true);
  console.warn = warn;
  await new Promise(requestAnimationFrame);
  const shapes = [...document.querySelectorAll('svg rect.a9s-inner')].map(r =>
    ['x', 'y', 'width', 'height'].map(k => parseFloat(r.getAttribute(k))));
  return { loaded: anno.getAnnotations(), errors, shapes,
           box: image.getBoundingClientRect().toJSON() };
}"""


@pytest.fixture
async def page(tmp_path: Path, hostile: Seeded) -> Any:
    require(CHROMIUM)
    from playwright.async_api import async_playwright

    site = tmp_path / "site"
    site.mkdir()
    for name in ("annotorious.js", "annotorious.css"):
        shutil.copy(HERE / name, site / name)
    shutil.copy(hostile.image, site / "screen.png")
    (site / "page.html").write_text(PAGE, encoding="utf-8")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        tab = await browser.new_page(viewport={"width": SIZE[0], "height": SIZE[1]})
        await tab.goto((site / "page.html").as_uri())
        yield tab
        await browser.close()


async def test_annotorious_loads_every_annotation_at_its_place(hostile: Seeded, page) -> None:
    code, out, err = await export(hostile, "-f", "w3c")
    assert code == 0, err
    items = json.loads(out)["first"]["items"]
    result = await page.evaluate(LOAD, items)
    assert result["errors"] == []
    loaded = {a["id"]: a for a in result["loaded"]}
    assert len(loaded) == len(items) == len(PLACES)
    for item in items:
        # Read back as Annotorious holds it: the same pixel box, the same thread.
        back = loaded[item["id"]]
        assert back["target"]["selector"]["value"] == item["target"]["selector"]["value"]
        assert [b["value"] for b in back["body"]] == [b["value"] for b in item["body"]]
    # Drawn where the export says: each box a shape in the image's pixels.
    boxes = sorted(
        tuple(float(v) for v in i["target"]["selector"]["value"][11:].split(",")) for i in items
    )
    assert sorted(tuple(s) for s in result["shapes"]) == boxes


DRAW = """async () => {
  anno.setAnnotations([]);
  anno.setDrawingTool('rectangle');
  anno.setDrawingEnabled(true);
}"""


async def test_a_rectangle_drawn_in_annotorious_imports_as_a_region(
    hostile: Seeded, page, tmp_path: Path
) -> None:
    code, out, err = await export(hostile, "-f", "w3c")
    assert code == 0, err
    await page.evaluate(LOAD, json.loads(out)["first"]["items"][:1])
    await page.evaluate(DRAW)
    # A person drags a rectangle from (40, 60) to (200, 160) on the image.
    await page.mouse.move(40, 60)
    await page.mouse.down()
    await page.mouse.move(120, 110, steps=5)
    await page.mouse.move(200, 160, steps=5)
    await page.mouse.up()
    drawn = await page.evaluate("() => anno.getAnnotations()")
    assert len(drawn) == 1, drawn
    file = tmp_path / "annotorious.json"
    file.write_text(json.dumps(drawn), encoding="utf-8")
    code, err = await import_file(hostile, file, "from-annotorious", "--size", "400x300")
    assert code == 0, err
    code, again, err = await export(hostile, "-f", "w3c", "--room", "from-annotorious")
    assert code == 0, err
    (region,) = json.loads(again)["first"]["items"]
    assert region["shape"] == "region"
    assert region["target"]["selector"]["value"] == "xywh=pixel:40,60,160,100"
    # And it moves on like any review: our export of it, imported into another room
    # and exported again, is the same review.
    moved = tmp_path / "moved.w3c.json"
    moved.write_bytes(again)
    code, err = await import_file(hostile, moved, "from-annotorious-moved")
    assert code == 0, err
    code, last, err = await export(hostile, "-f", "w3c", "--room", "from-annotorious-moved")
    assert code == 0, err
    assert review(json.loads(last)) == review(json.loads(again))

"""The browser client's copy of the mention rule (web/static/room.js) run in Chromium
against the rule itself (imagechat_tui/mention_syntax.py, through client/mentions.py):
the same mentions, and the same mention being typed, for every text."""

from __future__ import annotations

import base64
import itertools
import random

import pytest

from imagechat_tui.client.mentions import mentioned, typing_mention
from imagechat_tui.web import assets
from tests.web.helpers import ARGS, CHROMIUM, need_browser

PIECES = ["@", "bob", "Al-1", ".", "_", "é", "日本", " ", "(", "x@y", "-", "+", "9", "²", "e\u0301"]
CHECK = """async ([source, texts]) => {
  const room = await import('data:text/javascript;base64,' + source);
  return texts.map((t) => [[...room.mentions(t)].sort(), room.TYPING.exec(t)?.[1] ?? null]);
}"""


@pytest.fixture
async def page():
    need_browser()
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield await browser.new_page()
        await browser.close()


async def test_the_page_finds_the_mentions_the_app_finds(page) -> None:
    rng = random.Random(21)
    texts = ["é@bob 日本@carol @@dave bob@example.com a_@x", "hello @al", "a@b", "@"]
    texts += ["".join(p) for p in itertools.product(PIECES[:6], repeat=3)]
    texts += ["".join(rng.choices(PIECES, k=rng.randint(1, 10))) for _ in range(2000)]
    source = base64.b64encode(assets.assets()["room.js"].data).decode()
    found = await page.evaluate(CHECK, [source, texts])
    for text, (page_mentions, page_typing) in zip(texts, found, strict=True):
        assert page_mentions == sorted(mentioned(text)), text
        assert page_typing == typing_mention(text), text

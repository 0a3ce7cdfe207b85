"""The documented commands never put a token on the command line, where every user of
a shared host can read it (``ps``): they pass it in IMAGECHAT_TOKEN."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOKEN_ON_THE_COMMAND_LINE = re.compile(r"--token[ =]+[\"']?\$")


def test_no_example_passes_a_token_as_an_argument() -> None:
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            assert not TOKEN_ON_THE_COMMAND_LINE.search(line), f"{path.name}:{number}: {line}"
    assert 'IMAGECHAT_TOKEN="$(cat' in (ROOT / "README.md").read_text("utf-8")

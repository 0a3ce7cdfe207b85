"""Write the README's key table from the app's bindings (keys.py), between the
``<!-- keys:start -->`` and ``<!-- keys:end -->`` markers.

Run: python scripts/readme_keys.py   (tests/tui/test_keys_and_footer.py checks it)
"""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the fixed demo states live with the tests

from imagechat_tui.tui.keys import live_sections, markdown_table  # noqa: E402
from tests.tui.demo import DemoApp  # noqa: E402

README = ROOT / "README.md"
BLOCK = re.compile(r"(<!-- keys:start -->\n)(.*?)(<!-- keys:end -->)", re.DOTALL)


async def table() -> str:
    app = DemoApp("main")
    async with app.run_test(size=(120, 36)):
        return markdown_table(live_sections(app))


def main() -> None:
    text = README.read_text("utf-8")
    if not BLOCK.search(text):
        sys.exit("README.md has no <!-- keys:start --> ... <!-- keys:end --> block")
    new = asyncio.run(table())
    README.write_text(BLOCK.sub(lambda m: m.group(1) + new + m.group(3), text), "utf-8")
    print("README.md key table written")


if __name__ == "__main__":
    main()

"""GitHub's renderer as the tests run it: Debian's ``cmark-gfm`` with the extensions
GitHub enables, and a mention check equivalent to GitHub's (html-pipeline's
MentionFilter: in every text node outside ``a``, ``code``, ``pre``, ``script`` and
``style``, ``@name`` after the start or a non-word character, where only ASCII letters,
digits and ``_`` are word characters, as in Ruby's regular expressions)."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser

from tests.tools import require

EXTENSIONS = ("autolink", "table", "strikethrough", "tagfilter")
MENTION = re.compile(
    r"(?:^|\W)@((?>[a-z0-9][a-z0-9-]*))(?!/)(?=\.+[ \t\W]|\.+$|[^0-9a-zA-Z_.]|$)",
    re.IGNORECASE | re.ASCII | re.MULTILINE,
)
_IGNORED = {"a", "code", "pre", "script", "style"}


def render(markdown: str) -> str:
    require("cmark-gfm")
    args = [str(shutil.which("cmark-gfm")), *(a for e in EXTENSIONS for a in ("-e", e))]
    done = subprocess.run(args, input=markdown.encode(), capture_output=True, check=True)
    return done.stdout.decode()


class Html(HTMLParser):
    """The tags, links and text of rendered HTML, and the mentions GitHub would make."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.links: list[str] = []
        self.text: list[str] = []
        self.mentions: list[str] = []
        self._open: list[str] = []
        self._node: list[str] = []
        self.feed(html)
        self.close()
        self._flush()

    def _flush(self) -> None:
        # One text node: what lies between two tags (entities already decoded).
        node = "".join(self._node)
        self._node = []
        if node and not _IGNORED & set(self._open):
            self.mentions += MENTION.findall(node)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._flush()
        self.tags.append(tag)
        if tag == "a":
            self.links.append(dict(attrs).get("href") or "")
        if tag not in ("br", "hr", "img"):
            self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        self._flush()
        if tag in self._open:
            del self._open[len(self._open) - 1 - self._open[::-1].index(tag)]

    def handle_data(self, data: str) -> None:
        self._node.append(data)
        self.text.append(data)

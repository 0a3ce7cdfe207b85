"""GitHub's renderer as the tests run it: Debian's ``cmark-gfm`` with the extensions
GitHub enables, and a mention check equivalent to GitHub's (html-pipeline's
MentionFilter: in every text node outside ``a``, ``code``, ``pre``, ``script`` and
``style``, ``@name`` after the start or a non-word character, where only ASCII letters,
digits and ``_`` are word characters, as in Ruby's regular expressions), and, in the
same text nodes, what GitHub's and GitLab's reference and emoji filters would turn into
links or emoji: issue references (``#26``, ``GH-26``, ``owner/repo#26``, GitLab's
``!26``, ``%26``, ``&26``, ``$26``, ``~26``, labels and milestones by name ``~bug``,
``%v1``) and shortcodes (``:smile:``, ``:+1:``). These two checks are looser than the
filters (a reference is counted whether or not such an issue exists, a shortcode whether
or not such an emoji does), so finding none means neither site would make one."""

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
REFERENCE = re.compile(r'[#!%&$~][0-9]|(?i:GH-[0-9])|[~%][A-Za-z]|[~%]"[^"\n]+"')
EMOJI = re.compile(r":[a-z0-9_+\-]+:", re.IGNORECASE)
_IGNORED = {"a", "code", "pre", "script", "style", "tt"}


def render(markdown: str) -> str:
    require("cmark-gfm")
    args = [str(shutil.which("cmark-gfm")), *(a for e in EXTENSIONS for a in ("-e", e))]
    done = subprocess.run(args, input=markdown.encode(), capture_output=True, check=True)
    return done.stdout.decode()


class Html(HTMLParser):
    """The tags, links and text of rendered HTML, and the mentions, references and emoji
    GitHub (or GitLab) would make of it."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.links: list[str] = []
        self.text: list[str] = []
        self.mentions: list[str] = []
        self.references: list[str] = []
        self.emoji: list[str] = []
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
            self.references += REFERENCE.findall(node)
            self.emoji += EMOJI.findall(node)

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

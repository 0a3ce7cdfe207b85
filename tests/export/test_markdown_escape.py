"""Any comment text, however hostile, comes back out of the Markdown as the same text and
adds nothing but a quote, paragraphs and line breaks (read back by a GFM-like parser)."""

from __future__ import annotations

from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from imagechat_tui.export.markdown import escape, quote
from imagechat_tui.safe_text import inert

MARKDOWN_ALPHABET = st.sampled_from(
    list("abc XYZ 019 \n\t") + list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") + ["é", "→", "\u202e"]
)
_PARSER = MarkdownIt("gfm-like")


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.links: list[dict[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag == "a":
            self.links.append(dict(attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _words(text: str) -> list[str]:
    return text.split()


@settings(max_examples=300, deadline=None)
@given(st.text(MARKDOWN_ALPHABET, min_size=1, max_size=80))
def test_quoted_text_is_inert_and_comes_back(text: str) -> None:
    html = _PARSER.render("\n".join(quote(text)) + "\n")
    seen = _Collect()
    seen.feed(html)
    # Bare URLs may be linkified, as GitHub does; nothing else may become markup.
    # A mention is a code span (so GitHub and GitLab ping nobody when it is pasted).
    assert seen.tags <= {"blockquote", "p", "br", "a", "code"}, (text, html)
    for link in seen.links:
        assert link.get("href", "").startswith(("http://", "https://", "mailto:")), html
    # Leading indentation is kept as no-break spaces; other controls are made visible.
    expected = "\n".join(inert(line.lstrip(" \t")) for line in text.split("\n"))
    assert _words("".join(seen.text)) == _words(expected)


@settings(max_examples=200, deadline=None)
@given(st.text(MARKDOWN_ALPHABET, min_size=1, max_size=40))
def test_an_escaped_name_in_bold_stays_one_bold_name(name: str) -> None:
    html = _PARSER.render(f"Opened by **{escape(name)}**\n")
    seen = _Collect()
    seen.feed(html)
    assert seen.tags <= {"p", "strong", "a", "code"}, (name, html)


def test_a_mention_and_an_address_are_code_spans_and_read_the_same() -> None:
    html = _PARSER.render("\n".join(quote("ping @alice and mail bob@example.com")) + "\n")
    assert "<code>@alice</code>" in html
    assert "<code>bob@example.com</code>" in html and html.count("<code>") == 2

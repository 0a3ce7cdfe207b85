"""The Markdown export as GitHub renders it (cmark-gfm with autolink, table,
strikethrough and tagfilter) and as it reads raw: every comment comes back as written,
no link, no mention, no markup but ours; escapes only where they are needed."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from imagechat_tui.export.markdown import escape, quote
from imagechat_tui.safe_text import inert
from tests.export.github import Html, render
from tests.export.hostile_room import ESCAPES, EVE, MARKDOWN, Seeded, export

OURS = {"h1", "h2", "p", "br", "strong", "blockquote", "code"}


def _shown(text: str) -> str:
    """A comment as the export shows it: controls visible, indents as no-break spaces."""
    lines = []
    for line in text.split("\n"):
        body = line.lstrip(" \t")
        indent = "\u00a0" * len(line[: len(line) - len(body)].expandtabs(4))
        lines.append(indent + inert(body, keep_joiners=True) if body else "")
    return "\n".join(lines)


async def test_github_renders_every_comment_as_written_and_links_nothing(
    hostile: Seeded,
) -> None:
    code, out, err = await export(hostile, "-f", "markdown")
    assert code == 0, err
    md = out.decode()
    page = Html(render(md))
    assert set(page.tags) <= OURS, page.tags
    assert page.links == []  # no autolink: addresses, URLs, www. all stay text
    assert page.mentions == []  # GitHub would ping nobody (é@bob, 日本@bob, (@carol), @eve)
    assert page.references == []  # no #123, GH-7, owner/repo#9, !4, ~bug linked
    assert page.emoji == []  # :smile: stays a word
    text = "".join(page.text)
    for comment in (MARKDOWN, ESCAPES, "@eve fixed", " =1+1", "Button misaligned\nby two pixels"):
        assert _shown(comment) in text, comment
    assert "👨\u200d👩\u200d👧" in text  # joiners kept: the family stays one emoji
    assert inert(EVE) in text  # a name as written, in bold
    assert page.tags.count("h2") == 8


async def test_the_raw_file_reads_as_written(hostile: Seeded) -> None:
    code, out, err = await export(hostile, "-f", "markdown")
    assert code == 0, err
    md = out.decode()
    assert md.startswith("# Review of screen.png\n")  # no escaped dot
    assert "\nImage: `urn:sha256:" in md  # an identifier, whole, in one code span
    assert "&nbsp;" not in md and "\ufffd\u200d" not in md
    assert "## 1. Open · point at 25.0%, 50.0% (pixel 100, 150)\n" in md
    assert "## 4. Open · point at 100.0%, 100.0% (pixel 399, 299)\n" in md
    assert "(pixel 200, 30, 160 x 90)" in md
    # Only what would mean something is escaped.
    assert "> snake_case" not in md  # (inside a line, below)
    assert "snake_case stays, so does 2\\*3 > 5 and a\\|b" in md
    assert "> \\# Not a heading\\" in md and "> 1\\. not a list\\" in md
    assert "> \\===\\" in md
    assert "`bob@example.com`" in md and "www\\.example.com" in md
    assert "é`@bob` 日本`@bob` (`@carol`)" in md
    assert "see `#123`, `GH-7`, `owner/repo#9`, `!4` `%5` `&6` `~bug` and `:smile:` `:+1:`" in md
    assert "\\,\\" not in md and "\\(" not in md and "\\?" not in md


ALPHABET = st.sampled_from(
    list("abc XYZ 019 \n\t")
    + list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
    + ["é", "日", "→", "\u202e", "\u200d", "www.", "http://", "a@b.co", "@bob", "&amp;"]
    + ["#1", "GH-2", "o/r#3", "!4", ":smile:", ":+1:", "~bug", "%v1"]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(ALPHABET, min_size=1, max_size=40).map("".join))
def test_any_text_comes_back_from_github_with_no_link_mention_or_markup(text: str) -> None:
    page = Html(render("\n".join(quote(text)) + "\n"))
    assert set(page.tags) <= {"blockquote", "p", "br", "code"}, (text, page.tags)
    assert page.links == [] and page.mentions == [], text
    assert page.references == [] and page.emoji == [], text
    shown = "\n".join(line for line in _shown(text).split("\n"))
    assert "".join(page.text).split() == shown.split(), text


@settings(max_examples=100, deadline=None)
@given(st.lists(ALPHABET, min_size=1, max_size=20).map("".join))
def test_a_name_in_bold_stays_one_bold_name(name: str) -> None:
    page = Html(render(f"Opened by **{escape(name.strip())}**\n"))
    assert set(page.tags) <= {"p", "strong", "code"}, (name, page.tags)
    assert page.links == [] and page.mentions == [], name
    assert page.references == [] and page.emoji == [], name

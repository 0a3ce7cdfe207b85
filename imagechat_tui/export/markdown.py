"""Markdown for a pull request, a ticket or a report: one entry per marker, by number.

It is meant to read well as it is and to render as written on GitHub (cmark-gfm with
its autolink, table, strikethrough and tagfilter extensions) and GitLab. Comment text,
names and the image's name are untrusted, so a character is escaped only where it
would mean something where it stands:

- at a line's start, where they would start a block: ``#`` of a heading, ``>``, the
  ``-``, ``+``, ``1.`` or ``1)`` of a list item, a line of ``=`` or ``-``; leading spaces become no-break spaces (U+00A0),
  which keep the indent without starting a code block;
- anywhere: ``*``, ``~``, `````, ``[``, ``]``, ``<``, ``|`` and ``$`` (emphasis,
  strikethrough, code, links, HTML, table cells, GitHub's math), ``_`` at a word's edge
  (``snake_case`` stays as it is), ``&`` only before an entity's name, ``\\`` only before
  punctuation or at a line's end;
- autolinks: ``http:``, ``https:`` and ``ftp:`` get their colon escaped and ``www.`` its
  dot, which cmark-gfm then leaves as text. E-mail addresses and mentions (every run of
  address characters holding an ``@``: ``bob@example.com``, ``@alice``, ``é@bob``, by the
  app's own mention rule, ``mention_syntax``), issue and other references (``#123``,
  ``owner/repo#4``, ``GH-5``, GitLab's ``!6``, ``%7``, ``&8``, ``~bug``) and emoji
  shortcodes (``:smile:``) become code spans: GitHub and GitLab find these in the
  rendered text, after escapes are undone, so only a code span keeps one as written,
  and they link, ping and replace nothing in code.

Control, bidi and zero-width characters are made visible as in the app
(``safe_text.inert``), except the joiners that hold an emoji such as 👨‍👩‍👧 together.
"""

from __future__ import annotations

import re
from typing import Final

from imagechat_tui.export import Review, position
from imagechat_tui.export.timefmt import readable
from imagechat_tui.mention_syntax import ADDRESS_RUN
from imagechat_tui.protocol import Chat, Comment
from imagechat_tui.safe_text import inert

#: Escaped wherever they stand.
_ALWAYS: Final = frozenset("*~`[]<|$")
_ASCII_PUNCTUATION: Final = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
#: References GitHub links in text (``#123``, ``owner/repo#123``, ``GH-123``) and GitLab
#: too (``!123`` merge request, ``%123`` milestone, ``&123`` epic, ``$123`` snippet,
#: ``~123`` label, and labels and milestones by name: ``~bug``, ``%"Sprint 3"``).
_REFERENCE: Final = (
    r"(?:[A-Za-z0-9_.\-]+(?:/[A-Za-z0-9_.\-]+)*)?[#!%&$~][0-9]+"
    r"|(?i:GH-[0-9]+)"
    r'|[~%](?:[A-Za-z][A-Za-z0-9_.\-]*|"[^"\n]+")'
)
#: Emoji shortcodes GitHub and GitLab show as emoji: ``:smile:``, ``:+1:``.
_SHORTCODE: Final = r":[A-Za-z0-9_+\-]+:"
_INERT: Final = re.compile(
    rf"(?P<address>{ADDRESS_RUN.pattern})|(?P<reference>{_REFERENCE})|(?P<emoji>{_SHORTCODE})"
)
_URL_SCHEME: Final = re.compile(r"(?i)(?:https?|ftp)(:)")
_WWW: Final = re.compile(r"(?i)www(\.)")
_ENTITY: Final = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{0,31});")
#: What starts a block at a line's start: a heading, a quote, a list item (``-``, ``+``,
#: ``1.``, ``1)``), a setext underline or a thematic break. Group 1 is escaped.
_BLOCK_START: Final = re.compile(
    r"(#)#{0,5}(?:[ \t]|$)|(>)|([-+])(?:[ \t]|$)|[0-9]{1,9}([.)])(?:[ \t]|$)|([-=])[-= \t]*$"
)
_NBSP: Final = "\u00a0"


def _clean(text: str) -> str:
    return inert(text, keep_joiners=True)


def escape(text: str) -> str:
    """One line of untrusted text as Markdown that renders as exactly this text."""
    return _escape_line(text, line_start=False)


def _escape_line(line: str, *, line_start: bool) -> str:
    """One line of raw text (no line break in it) as Markdown."""
    out: list[str] = []
    indent = len(line) - len(line.lstrip(" \t")) if line_start else 0
    if indent:
        # No-break spaces: the indent shows, and no indented code block starts.
        out.append(_NBSP * len(line[:indent].expandtabs(4)))
        line_start = False  # content after a no-break space is not at a line's start
    body = _clean(line[indent:])
    forced = _forced_escapes(body, line_start=line_start)
    last = 0
    for start, end in _inert_spans(body):
        out.append(_escape_chars(body, last, start, forced))
        out.append(_code_span(body[start:end]))
        last = end
    out.append(_escape_chars(body, last, len(body), forced))
    return "".join(out)


def _code_span(text: str) -> str:
    """``text`` as a code span: fenced by more backticks than it holds in a row (padded
    with a space where it starts or ends with one, which the renderer strips)."""
    runs = re.findall(r"`+", text)
    fence = "`" * (max(map(len, runs), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _inert_spans(body: str) -> list[tuple[int, int]]:
    """Where ``body`` holds something GitHub or GitLab would turn into a link, a ping or
    an emoji after Markdown is rendered (escapes undone), so only a code span keeps it
    as written: e-mail addresses and mentions, issue and other references, emoji
    shortcodes. Touching spans are merged (two code spans side by side would not be)."""
    spans: list[tuple[int, int]] = []
    for found in _INERT.finditer(body):
        start, end = found.span()
        if found.lastgroup == "address":
            end = start + len(found.group().rstrip("."))  # a final dot is punctuation
            if not re.search(r"[A-Za-z0-9]", body[start:end]):
                continue
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
        else:
            spans.append((start, end))
    return spans


def _forced_escapes(body: str, *, line_start: bool) -> set[int]:
    """Indexes of characters that mean something only where they stand."""
    forced = {m.start(1) for m in _URL_SCHEME.finditer(body)}
    forced |= {m.start(1) for m in _WWW.finditer(body)}
    if line_start and (block := _BLOCK_START.match(body)):
        forced.add(block.start(block.lastindex or 0))
    return forced


def _escape_chars(line: str, start: int, end: int, forced: set[int]) -> str:
    out: list[str] = []
    for i in range(start, end):
        ch = line[i]
        before = line[i - 1] if i > 0 else " "
        after = line[i + 1] if i + 1 < len(line) else " "
        if (
            ch in _ALWAYS
            or i in forced
            or (ch == "_" and not (before.isalnum() and after.isalnum()))
            or (ch == "&" and _ENTITY.match(line, i))
            # Before punctuation, at the line's end, or before a code span we open.
            or (ch == "\\" and (i + 1 == end or after in _ASCII_PUNCTUATION))
        ):
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def quote(text: str) -> list[str]:
    """Multi-line untrusted text as a block quote, its line breaks kept."""
    # A line of nothing but spaces shows nothing: it is an empty line.
    lines = [
        _escape_line(line, line_start=True) if line.strip(" \t") else ""
        for line in text.split("\n")
    ]
    # A trailing backslash is a hard line break; an empty line starts a new paragraph.
    return [
        "> " + line + ("\\" if line and i < len(lines) - 1 and lines[i + 1] else "")
        if line
        else ">"
        for i, line in enumerate(lines)
    ]


def _name(name: str) -> str:
    """A person's name in bold (inner spaces kept; edge spaces would undo the bold)."""
    shown = escape(name.strip()) or "(no name)"
    return f"**{shown}**"


def _comment(comment: Comment, first: bool) -> list[str]:
    edited = f" (edited {readable(comment.editedAt)})" if comment.editedAt else ""
    role = "" if first else "Reply from "
    return [
        f"{role}{_name(comment.author.name)} · {readable(comment.createdAt)}{edited}",
        "",
        *quote(comment.text),
        "",
    ]


def _entry(chat: Chat, review: Review) -> list[str]:
    status = "Resolved" if chat.resolved else "Open"
    replies = len(chat.comments) - 1
    lines = [
        f"## {chat.number}. {status} · {position(chat, review.image.size)}",
        "",
        f"Opened by {_name(chat.createdBy.name)} · {readable(chat.createdAt)}"
        f" · {replies} {'reply' if replies == 1 else 'replies'}",
        "",
    ]
    for index, comment in enumerate(chat.comments):
        lines += _comment(comment, index == 0)
    return lines


def render(review: Review) -> str:
    open_count = sum(not c.resolved for c in review.chats)
    total = len(review.chats)
    lines = [
        f"# Review of {escape(review.title)}",
        "",
        # An identifier (a URL or urn:sha256:), not prose: one code span, links nothing.
        f"Image: {_code_span(inert(review.public_source))}  ",
        f"Room: {escape(review.room)}  ",
        f"Exported: {readable(review.exported_at)}",
        "",
        f"{total} {'marker' if total == 1 else 'markers'}: "
        f"{open_count} open, {total - open_count} resolved.",
        "",
    ]
    for chat in review.chats:
        lines += _entry(chat, review)
    return "\n".join(lines).rstrip("\n") + "\n"

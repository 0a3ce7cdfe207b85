"""Markdown for a pull request, a ticket or a report: one entry per marker, by number.

Comment text, names and the image's name are untrusted: every character Markdown or
HTML gives a meaning to is escaped, so a comment reads exactly as it was written and
can add no link, image, heading, table, list, emphasis or HTML to the report.
"""

from __future__ import annotations

import re

from imagechat_tui.client.mentions import MENTION
from imagechat_tui.export import Review, position
from imagechat_tui.export.timefmt import readable
from imagechat_tui.protocol import Chat, Comment
from imagechat_tui.safe_text import inert

#: Every ASCII punctuation character may be backslash-escaped in CommonMark (and GFM);
#: escaping them all leaves no syntax to open. <, > and & become entities instead, so
#: that no HTML tag or entity survives either.
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_PUNCTUATION = frozenset("!\"#$%'()*+,-./:;=?@[\\]^_`{|}~")
_LEADING_SPACE = re.compile(r"^[ \t]+")


def escape(text: str) -> str:
    """One line of untrusted text as literal Markdown (control characters made visible).

    An ``@id`` mention becomes a code span: it reads the same, and pasted into GitHub or
    GitLab it pings nobody (those sites never resolve mentions inside code).
    """
    out: list[str] = []
    text = inert(text)
    last = 0
    for match in MENTION.finditer(text):
        out.append(_escape_chars(text[last : match.start()]))
        out.append(f"`@{match.group(1)}`")  # ids hold no backtick: the span cannot break
        last = match.end()
    out.append(_escape_chars(text[last:]))
    return "".join(out)


def _escape_chars(text: str) -> str:
    out: list[str] = []
    for ch in text:
        if ch in _ENTITIES:
            out.append(_ENTITIES[ch])
        elif ch in _PUNCTUATION:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def _escape_line(line: str) -> str:
    # Leading spaces would make an indented code block: keep the indent as no-break spaces.
    indent = _LEADING_SPACE.match(line)
    width = len(indent.group(0).expandtabs(4)) if indent else 0
    return "&nbsp;" * width + escape(line[indent.end() if indent else 0 :])


def quote(text: str) -> list[str]:
    """Multi-line untrusted text as a block quote, its line breaks kept."""
    lines = [_escape_line(line) for line in text.split("\n")]
    # A trailing backslash is a hard line break; an empty line starts a new paragraph.
    return [
        "> " + line + ("\\" if line and i < len(lines) - 1 and lines[i + 1] else "")
        if line
        else ">"
        for i, line in enumerate(lines)
    ]


def _comment(comment: Comment, first: bool) -> list[str]:
    edited = f" (edited {readable(comment.editedAt)})" if comment.editedAt else ""
    role = "" if first else "Reply from "
    return [
        f"{role}**{escape(comment.author.name)}** · {readable(comment.createdAt)}{edited}",
        "",
        *quote(comment.text),
        "",
    ]


def _entry(chat: Chat, review: Review) -> list[str]:
    status = "Resolved" if chat.resolved else "Open"
    replies = len(chat.comments) - 1
    lines = [
        f"## {chat.number}\\. {status} · {position(chat, review.image.size)}",
        "",
        f"Opened by **{escape(chat.createdBy.name)}** · {readable(chat.createdAt)}"
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
        f"Image: {escape(review.source)}  ",
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

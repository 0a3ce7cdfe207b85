"""CSV: one row per comment, for a spreadsheet or a tracker's import.

Spreadsheets run a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula (CSV injection). Every cell that comes from a person is
neutralised the way OWASP recommends: such a cell gets a leading apostrophe, which
spreadsheets show as text and do not evaluate.
"""

from __future__ import annotations

import csv
import io
from typing import Final

from imagechat_tui.export import Review
from imagechat_tui.export.timefmt import iso

COLUMNS: Final = (
    "marker",
    "status",
    "x",
    "y",
    "w",
    "h",
    "comment",
    "kind",
    "comment_id",
    "author_id",
    "author",
    "created",
    "edited",
    "text",
)
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def cell(text: str) -> str:
    """Untrusted text as a cell no spreadsheet evaluates."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def rows(review: Review) -> list[list[str]]:
    out: list[list[str]] = []
    for chat in review.chats:
        for index, comment in enumerate(chat.comments):
            out.append(
                [
                    str(chat.number),
                    "resolved" if chat.resolved else "open",
                    f"{chat.x:g}",
                    f"{chat.y:g}",
                    "" if chat.w is None else f"{chat.w:g}",
                    "" if chat.h is None else f"{chat.h:g}",
                    str(index),
                    "comment" if index == 0 else "reply",
                    cell(comment.id),
                    cell(comment.author.id),
                    cell(comment.author.name),
                    iso(comment.createdAt),
                    iso(comment.editedAt) if comment.editedAt else "",
                    cell(comment.text),
                ]
            )
    return out


def render(review: Review) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180
    writer.writerow(COLUMNS)
    writer.writerows(rows(review))
    return out.getvalue()

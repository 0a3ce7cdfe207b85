"""CSV: one row per comment, for a spreadsheet or a tracker's import.

The file is UTF-8 with a byte order mark: what Excel and LibreOffice go by to read it as
UTF-8 when opened with no import options (without one, ``é`` reads as ``Ã©``).

Spreadsheets run a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (CSV
injection), and an import that trims spaces makes `` =1+1`` one too. Every cell that
comes from a person and could be read so (its first character other than white space
is one of those, or it starts with a tab, carriage return or line feed) is neutralised
the way OWASP recommends: it gets a leading apostrophe, shown as text, never evaluated.
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
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r", "\n")
BOM: Final = "\ufeff"


def cell(text: str) -> str:
    """Untrusted text as a cell no spreadsheet evaluates."""
    if text.startswith(_FORMULA_START) or text.lstrip().startswith(_FORMULA_START):
        return "'" + text
    return text


#: The columns whose text comes from a person (and so may look like a formula).
_FROM_PEOPLE: Final = frozenset({"comment_id", "author_id", "author", "text"})


def table(review: Review) -> list[list[str]]:
    """One row per comment, the exact values (the CSV and the .xlsx export share it)."""
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
                    comment.id,
                    comment.author.id,
                    comment.author.name,
                    iso(comment.createdAt),
                    iso(comment.editedAt) if comment.editedAt else "",
                    comment.text,
                ]
            )
    return out


def rows(review: Review) -> list[list[str]]:
    """``table`` with every cell that comes from a person neutralised (``cell``)."""
    guarded = [i for i, name in enumerate(COLUMNS) if name in _FROM_PEOPLE]
    out = table(review)
    for row in out:
        for i in guarded:
            row[i] = cell(row[i])
    return out


def render(review: Review) -> str:
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180
    writer.writerow(COLUMNS)
    writer.writerows(rows(review))
    return out.getvalue()

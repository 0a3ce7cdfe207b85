"""Make untrusted text inert before it reaches a terminal, a log line or a report.

One function, ``inert``: every character that could restyle, move, hide or reorder
what a reader sees is replaced by a visible stand-in. Rich markup needs no escaping
here because callers wrap the result in ``rich.text.Text`` (never markup); ``inert``
handles what Rich would pass straight through to the terminal.
"""

from __future__ import annotations

from typing import Final

#: Bidirectional embeddings, overrides and isolates (the "Trojan Source" characters).
_BIDI: Final = frozenset(range(0x202A, 0x202F)) | frozenset(range(0x2066, 0x206A))
#: Zero-width and invisible formatting characters that can hide or split text.
_INVISIBLE: Final = frozenset(range(0x200B, 0x2010)) | {0xFEFF, 0x2060, 0x00AD, 0x180E}
_REPLACEMENT: Final = "\ufffd"


def _build_table(keep_newlines: bool) -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0x20):  # C0 controls -> control pictures (ESC shows as ␛)
        table[code] = chr(0x2400 + code)
    table[0x7F] = "\u2421"  # DEL -> ␡
    for code in range(0x80, 0xA0):  # C1 controls (CSI, OSC, ...) have no picture
        table[code] = _REPLACEMENT
    for code in _BIDI | _INVISIBLE:
        table[code] = _REPLACEMENT
    table[0x2028] = table[0x2029] = _REPLACEMENT  # line/paragraph separators
    if keep_newlines:
        del table[0x0A]
    return table


_TABLE_ONE_LINE: Final = _build_table(keep_newlines=False)
_TABLE_MULTILINE: Final = _build_table(keep_newlines=True)
#: Joiners: they only glue characters into one glyph (the family emoji, Indic
#: conjuncts), so a file for another program keeps them.
_JOINERS: Final = (0x200C, 0x200D)
_TABLE_ONE_LINE_JOINED: Final = {k: v for k, v in _TABLE_ONE_LINE.items() if k not in _JOINERS}
_TABLE_MULTILINE_JOINED: Final = {k: v for k, v in _TABLE_MULTILINE.items() if k not in _JOINERS}


def inert(text: str, *, keep_newlines: bool = False, keep_joiners: bool = False) -> str:
    """``text`` with every control, escape, bidi and zero-width character made visible.

    C0 controls (including ESC, CR and TAB) become Unicode control pictures
    (``\\x1b`` → ``␛``), DEL becomes ``␡``, and C1 controls, bidi overrides/isolates
    and zero-width characters become U+FFFD. ``keep_newlines=True`` keeps ``\\n`` (and
    only ``\\n``) for multi-line display; by default the result is one line.
    ``keep_joiners=True`` keeps the zero-width (non-)joiners U+200C and U+200D, for
    text that is not going to a terminal (a Markdown report).
    """
    if keep_joiners:
        table = _TABLE_MULTILINE_JOINED if keep_newlines else _TABLE_ONE_LINE_JOINED
    else:
        table = _TABLE_MULTILINE if keep_newlines else _TABLE_ONE_LINE
    return text.translate(table)

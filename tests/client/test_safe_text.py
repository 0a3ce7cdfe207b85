from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console
from rich.text import Text

from imagechat_tui.safe_text import inert


def test_escape_sequences_become_visible_pictures() -> None:
    assert inert("\x1b[2J\x1b]0;pwned\x07") == "␛[2J␛]0;pwned␇"


def test_c1_controls_del_bidi_and_zero_width_are_replaced() -> None:
    hostile = "a\x9b31mb\x7fc\u202ed\u2066e\u200bf\ufeffg\u2060h"
    assert inert(hostile) == "a\ufffd31mb\u2421c\ufffdd\ufffde\ufffdf\ufffdg\ufffdh"


def test_newlines_are_kept_only_when_asked() -> None:
    assert inert("one\ntwo\r") == "one␊two␍"
    assert inert("one\ntwo\r", keep_newlines=True) == "one\ntwo␍"


def test_markup_stays_literal_when_rendered_as_text() -> None:
    console = Console(width=80, color_system="truecolor", force_terminal=True, record=True)
    console.print(Text(inert("[bold red]boom[/] [link=http://x]y[/link]")))
    assert "[bold red]boom[/] [link=http://x]y[/link]" in console.export_text()


@given(st.text())
def test_result_has_no_control_or_format_characters(text: str) -> None:
    for char in inert(text):
        assert unicodedata.category(char) not in {"Cc", "Zl", "Zp"}
        assert not (0x202A <= ord(char) <= 0x202E or 0x2066 <= ord(char) <= 0x2069)
        assert not (0x200B <= ord(char) <= 0x200F or ord(char) in (0xFEFF, 0x2060))


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Zl", "Zp"))))
def test_ordinary_text_is_unchanged(text: str) -> None:
    assert inert(text) == text

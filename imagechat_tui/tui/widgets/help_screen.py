"""The help: every key, generated from the bindings (``keys.py``), grouped by where it works.

One column of sections that scrolls on small screens (80x24), two side by side from 120
columns (one flow of sections split in two, each column as long as the other). Built when opened, so a keymap or a new binding shows up at once.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from imagechat_tui.tui.keys import Section

KEY_WIDTH = 8
KEY_MAX_WIDTH = 18  # longer key lists wrap


def section_table(section: Section) -> Table:
    table = Table.grid(padding=(0, 1), expand=True)
    table.add_column(min_width=KEY_WIDTH, max_width=KEY_MAX_WIDTH, style="bold cyan")
    table.add_column(ratio=1)
    for row in section.rows:
        table.add_row(Text(" ".join(row.keys)), Text(row.text))
    return table


def split(sections: Sequence[Section]) -> tuple[list[Section], list[Section]]:
    """Two columns of about the same length (in rows), sections kept whole and in order."""
    total = sum(len(section.rows) + 2 for section in sections)
    left: list[Section] = []
    used = 0
    for section in sections:
        if left and used + (len(section.rows) + 2) / 2 > total / 2:
            break
        left.append(section)
        used += len(section.rows) + 2
    return left, list(sections[len(left) :])


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,question_mark,q", "close", "Close", id="help.close"),
        Binding("j", "scroll(1)", "Down", show=False),
        Binding("k", "scroll(-1)", "Up", show=False),
    ]

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
        & > #help {
            width: 100%;
            max-width: 150;
            height: 100%;
            max-height: 46;
            border: thick $accent;
            border-title-align: center;
            border-subtitle-align: center;
            background: $surface;
            padding: 0 1;
        }
        & #help-body {
            layout: vertical;
            height: 1fr;
        }
        & .help-column {
            height: auto;
            width: 100%;
        }
        & .help-section {
            height: auto;
            margin: 0 0 1 0;
            border-title-color: $accent;
            border-title-style: bold;
            border-top: solid $primary 50%;
        }
    }
    HelpScreen.-wide #help-body {
        layout: horizontal;
    }
    HelpScreen.-wide .help-column {
        width: 1fr;
    }
    HelpScreen.-wide #help-right {
        margin-left: 2;
    }
    """

    def __init__(self, sections: Sequence[Section]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with Vertical(id="help") as frame:
            frame.border_title = "Keys"
            frame.border_subtitle = "esc or ? closes · ↑↓ scroll"
            with VerticalScroll(id="help-body"):
                left, right = split(self.sections)
                for column_id, sections in (("help-left", left), ("help-right", right)):
                    with Vertical(id=column_id, classes="help-column"):
                        for section in sections:
                            widget = Static(section_table(section), classes="help-section")
                            widget.border_title = section.title
                            yield widget

    def on_resize(self) -> None:
        self.set_class(self.size.width >= 120, "-wide")

    def on_mount(self) -> None:
        self.set_class(self.size.width >= 120, "-wide")
        self.query_one("#help-body").focus()

    def action_scroll(self, step: int) -> None:
        body = self.query_one("#help-body", VerticalScroll)
        body.scroll_relative(y=step, animate=False)

    def action_close(self) -> None:
        self.dismiss(None)

"""Modal screens: a yes/no confirmation and the new-token prompt (the help is help_screen.py)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question whose default (focused, so enter answers it) is Cancel."""

    AUTO_FOCUS = "#no"
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "Cancel", id="confirm.no"),
    ]

    def __init__(self, question: str, confirm: str = "Yes") -> None:
        super().__init__()
        self.question = question
        self.confirm = confirm

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Text(self.question))
            with Horizontal(id="dialog-buttons"):
                yield Button("Cancel (n)", variant="primary", id="no")
                yield Button(f"{self.confirm} (y)", variant="error", id="yes")
        # A footer reads the bindings of its own screen: without one here the dimmed
        # footer below showed the image's keys (n New marker) while n meant Cancel.
        yield Footer()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class TokenScreen(ModalScreen[str | None]):
    """Asks for a new token after the server refused or expired the old one."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="token.cancel")]

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Text(self.reason))
            yield Label(Text("Paste a new token (imagechat-tui token ...) and press enter:"))
            yield Input(password=True, id="token-input")
        yield Footer()  # this dialog's keys, not the screen's below (as in ConfirmScreen)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)

"""One input for a new marker's first comment, a reply, or an edit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input

Purpose = Literal["new", "reply", "edit"]


@dataclass(frozen=True, slots=True)
class Draft:
    purpose: Purpose
    x: float = 0.0  # new: where, in percent
    y: float = 0.0
    chat_id: str | None = None  # reply / edit
    comment_id: str | None = None  # edit


class CommentInput(Input):
    """Enter sends, Escape cancels; hidden when not composing."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="compose.cancel")]

    class Sent(Message):
        def __init__(self, draft: Draft, text: str) -> None:
            super().__init__()
            self.draft = draft
            self.text = text

    class Cancelled(Message):
        pass

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, max_length=2000)
        self.draft: Draft | None = None

    def start(self, draft: Draft, text: str = "") -> None:
        self.draft = draft
        self.placeholder = {
            "new": f"First comment for a marker at {draft.x:.1f}%, {draft.y:.1f}% (enter sends, esc cancels)",
            "reply": "Reply (enter sends, esc cancels)",
            "edit": "Edit your comment (enter saves, esc cancels)",
        }[draft.purpose]
        self.value = text
        self.display = True
        self.focus()

    def stop(self) -> None:
        self.draft = None
        self.value = ""
        self.display = False

    async def action_submit(self) -> None:
        if self.draft is not None and self.value.strip():
            self.post_message(self.Sent(self.draft, self.value))

    def action_cancel(self) -> None:
        self.post_message(self.Cancelled())

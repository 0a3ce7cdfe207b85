"""The thread of the selected marker: every comment, each one highlightable."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from imagechat_tui.protocol import Chat, Comment
from imagechat_tui.safe_text import inert


def comment_text(comment: Comment, own: bool) -> Text:
    when = datetime.fromtimestamp(comment.createdAt / 1000).strftime("%H:%M")
    text = Text()
    text.append(inert(comment.author.name), style="bold cyan" if own else "bold")
    text.append(f"  {when}", style="dim")
    if comment.editedAt is not None:
        text.append(" (edited)", style="dim italic")
    text.append("\n")
    text.append(inert(comment.text, keep_newlines=True))
    return text


class ThreadView(OptionList):
    """Options are comment ids of the shown chat."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.chat: Chat | None = None
        self.user_id: str | None = None
        self.border_title = "Thread"

    def show(self, chat: Chat | None, user_id: str | None) -> None:
        if chat == self.chat and user_id == self.user_id:
            return
        previous = self.highlighted_comment_id
        self.chat, self.user_id = chat, user_id
        self.clear_options()
        if chat is None:
            self.border_title = "Thread"
            self.add_option(
                Option(
                    Text("Select a marker, or place one with n / a click.", style="dim"),
                    disabled=True,
                )
            )
            return
        state = "resolved" if chat.resolved else "open"
        count = len(chat.comments)
        self.border_title = f"#{chat.number} · {state} · {count} comment{'s' * (count != 1)}"
        self.add_options(
            Option(comment_text(c, c.author.id == user_id), id=c.id) for c in chat.comments
        )
        ids = [c.id for c in chat.comments]
        self.highlighted = ids.index(previous) if previous in ids else len(ids) - 1

    @property
    def highlighted_comment_id(self) -> str | None:
        if self.chat is None or self.highlighted is None:
            return None
        option = self.get_option_at_index(self.highlighted)
        return option.id

"""The composer: one multi-line box for a new marker's first comment, a reply, or an edit.

enter sends; ctrl+j, alt+enter and shift+enter (where the terminal reports it) start a
new line; a paste lands as text at the cursor with its line breaks. A counter shows
once the text nears the server's limit, and text over it is refused here, with the
reason, before anything is sent: it is never cut.

Send and new line are bindings with ids (priority, so the TextArea does not take enter
as a newline first), so the help, the palette, the README and a keymap all see them;
while the mention picker is open, send gives way and enter reaches the picker.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static, TextArea

from imagechat_tui.client.review import Draft as Draft  # what the composer writes
from imagechat_tui.model import DEFAULT_LIMITS, Limits, check_text
from imagechat_tui.protocol import User
from imagechat_tui.safe_text import inert
from imagechat_tui.tui.keys import keymapped_bindings
from imagechat_tui.tui.widgets.mention_picker import MentionPicker

COUNTER_FROM = 0.8  # of the limit: the counter shows from here on
HINT_KEYS = 2  # keys per action in the border's hint (shift+enter is in the help)


def pasted_text(text: str) -> str:
    """What a paste puts in the box: its line breaks as newlines, tabs as spaces, and
    every other control or escape character as a visible stand-in (``␛``), so the text
    is exactly what the box shows."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    return inert(text, keep_newlines=True)


class ComposerArea(TextArea):
    """The composer's TextArea; the mention picker, while open, gets its keys first
    (send and new line are the CommentInput's bindings)."""

    picker: MentionPicker | None = None  # names offered after '@' get keys first

    async def _on_key(self, event: events.Key) -> None:
        if self.picker is not None and self.picker.is_open and self.picker.handle(event.key, self):
            event.stop()
            event.prevent_default()
            return
        await super()._on_key(event)

    async def _on_paste(self, event: events.Paste) -> None:
        event.stop()
        event.prevent_default()
        if not self.read_only:
            result = self.replace(pasted_text(event.text), *self.selection)
            self.move_cursor(result.end_location)


class CommentInput(Vertical):
    """The composer; hidden when not composing. ``limits`` gives the current limits
    (the server's, which the replica holds)."""

    BINDINGS = [
        # priority: checked before the focused TextArea, which would take enter as a newline
        Binding(
            "enter",
            "send",
            "Send",
            id="compose.send",
            priority=True,
            show=False,
            tooltip="Send the comment",
        ),
        Binding(
            "ctrl+j,alt+enter,shift+enter",
            "newline",
            "New line",
            id="compose.newline",
            priority=True,
            show=False,
            tooltip="Start a new line",
        ),
        # Escape closes and keeps the draft (workspace.cancel_comment): "cancel" said the
        # text was thrown away.
        Binding(
            "escape",
            "cancel",
            "Close",
            id="compose.cancel",
            tooltip="Close the composer (the draft is kept)",
        ),
    ]

    DEFAULT_CSS = """
    CommentInput {
        height: auto;
        border: round $accent;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
        padding: 0 0;
        & > ComposerArea, & > ComposerArea:focus {
            height: auto;
            min-height: 1;
            max-height: 25vh;  /* 6 lines at 24 rows, 12 at 48: the image stays in view */
            border: none;
            padding: 0 1;
        }
        & > #compose-status {
            height: auto;
            padding: 0 1;
            color: $text-muted;
            text-align: right;
        }
        & > #compose-status.-over {
            color: $error;
            text-style: bold;
        }
    }
    """

    class Sent(Message):
        def __init__(self, draft: Draft, text: str) -> None:
            super().__init__()
            self.draft = draft
            self.text = text

    class Cancelled(Message):
        pass

    def __init__(
        self,
        *,
        limits: Callable[[], Limits] = lambda: DEFAULT_LIMITS,
        people: Callable[[], list[User]] = list,
        me: Callable[[], str | None] = lambda: None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.draft: Draft | None = None
        self.limits = limits
        self.people, self.me = people, me
        self._refusal: str | None = None

    def compose(self) -> ComposeResult:
        area = ComposerArea(id="compose-text", soft_wrap=True, highlight_cursor_line=False)
        area.picker = MentionPicker(self.people, self.me, id="compose-mentions")
        yield area
        yield area.picker
        yield Static(id="compose-status")

    @property
    def area(self) -> ComposerArea:
        return self.query_one(ComposerArea)

    @property
    def value(self) -> str:
        """The text in the box."""
        return self.area.text

    @value.setter
    def value(self, text: str) -> None:
        self.area.load_text(text)
        self.area.move_cursor(self.area.document.end)

    @property
    def composing(self) -> bool:
        return self.draft is not None

    # --- what the app calls ----------------------------------------------------------

    def start(self, draft: Draft, text: str = "", title: str = "") -> None:
        """Open the box for ``draft`` (with ``text`` to edit) under ``title``."""
        self.draft = draft
        self._refusal = None
        self.border_title = inert(title) if title else _default_title(draft)
        self.border_subtitle = self.hint()
        self.area.placeholder = {
            "new": "The first comment for this spot",
            "reply": "Your reply",
            "edit": "Your comment",
        }[draft.purpose]
        self.value = text
        self.display = True
        self.area.focus()
        self._show_count()

    def retarget(self, draft: Draft, title: str) -> None:
        """Keep the text, change what it is for (a reply following the selection)."""
        self.draft = draft
        self.border_title = inert(title)

    def stop(self) -> None:
        if self.area.picker is not None:
            self.area.picker.close()
        self.draft = None
        self._refusal = None
        self.area.load_text("")
        self.display = False

    def focus(self, scroll_visible: bool = True) -> CommentInput:
        self.area.focus(scroll_visible)
        return self

    # --- counter and refusal ---------------------------------------------------------

    @on(TextArea.Changed)
    def _changed(self, event: TextArea.Changed) -> None:
        event.stop()
        self._refusal = None
        self._show_count()
        if self.area.picker is not None:
            self.area.picker.update_for(self.area)

    @on(TextArea.SelectionChanged)
    def _moved(self, event: TextArea.SelectionChanged) -> None:
        event.stop()
        if self.area.picker is not None and self.area.picker.is_open:
            self.area.picker.update_for(self.area)

    def _show_count(self) -> None:
        status = self.query_one("#compose-status", Static)
        limit = self.limits().max_text
        count = len(self.value)
        over = count > limit
        if self._refusal is not None:
            line = self._refusal
        elif over:
            line = f"{count:,} / {limit:,}: {count - limit:,} over the limit, shorten it to send"
        elif count >= COUNTER_FROM * limit:
            line = f"{count:,} / {limit:,}"
        else:
            line = ""
        status.update(Text(line))
        status.display = bool(line)
        status.set_class(over or self._refusal is not None, "-over")

    # --- keys --------------------------------------------------------------------------

    def hint(self) -> str:
        """The border's key hint, from the bindings (a keymap applied)."""
        # In the order declared (a keymap reorders the map), keys as they are now.
        keys: dict[str, list[str]] = {
            b.id: [] for b in self.BINDINGS if isinstance(b, Binding) and b.id
        }
        label = {b.id: b.description.lower() for b in self.BINDINGS if isinstance(b, Binding)}
        for group in keymapped_bindings(self.app, self).key_to_bindings.values():
            for binding in group:
                if binding.id in keys:
                    keys[binding.id].append(self.app.get_key_display(binding))
        return " · ".join(
            f"{' / '.join(shown[:HINT_KEYS])} {label[id_]}" for id_, shown in keys.items() if shown
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("send", "newline") and self.draft is None:
            return False  # not composing (the palette leaves them out)
        picker = self.area.picker
        # While names are offered, enter goes on to the picker: it chooses the name.
        return not (action == "send" and picker is not None and picker.is_open)

    # A priority binding runs as the app takes the key, before the keys ahead of it
    # (already routed to the text box) are typed in: the edit waits behind them.

    def action_newline(self) -> None:
        self.area.call_later(self._newline)

    def action_send(self) -> None:
        self.area.call_later(self._send)

    def _newline(self) -> None:
        self.area.replace("\n", *self.area.selection)

    def _send(self) -> None:
        picker = self.area.picker
        if picker is not None and picker.is_open:  # opened by a key typed ahead of enter
            picker.accept(self.area)
            return
        if self.draft is None:
            return
        text = self.value
        refusal = check_text(text, self.limits())
        if refusal is not None:
            self._refusal = f"Not sent: {refusal.message}"
            self._show_count()
            return
        self.post_message(self.Sent(self.draft, text))

    def action_cancel(self) -> None:
        self.post_message(self.Cancelled())


def _default_title(draft: Draft) -> str:
    return {
        "new": f"New marker at {draft.x:.1f}%, {draft.y:.1f}%",
        "reply": "Reply",
        "edit": "Edit your comment",
    }[draft.purpose]

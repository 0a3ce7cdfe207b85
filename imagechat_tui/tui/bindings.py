"""The app's own keys: each a binding with an id and a sentence, so the footer, the help,
the command palette, the README's key table and a keymap all read the same list
(``keys.py``). Whether each applies now is ``Review.applies``."""

from __future__ import annotations

from textual.binding import Binding, BindingType

APP_BINDINGS: list[BindingType] = [
    Binding(
        "question_mark",
        "help",
        "Help",
        key_display="?",
        id="app.help",
        tooltip="This help: every key, by where it works",
    ),
    Binding("q", "quit", "Quit", id="app.quit", tooltip="Quit (asks first if a comment is unsent)"),
    Binding(
        "left_square_bracket",
        "select_step(-1)",
        "Prev",
        key_display="[",
        id="marker.prev",
        tooltip="Previous marker (of those the list shows)",
    ),
    Binding(
        "right_square_bracket",
        "select_step(1)",
        "Next",
        key_display="]",
        id="marker.next",
        tooltip="Next marker (of those the list shows)",
    ),
    Binding("r", "reply", "Reply", id="thread.reply", tooltip="Reply to the selected marker"),
    Binding("e", "edit", "Edit", id="thread.edit", tooltip="Edit your highlighted comment"),
    Binding(
        "x",
        "delete_comment",
        "Del comment",
        show=False,
        id="thread.delete-comment",
        tooltip="Delete your highlighted comment (u brings it back)",
    ),
    Binding(
        "s",
        "set_resolved(True)",
        "Resolve",
        id="marker.resolve",
        tooltip="Resolve the selected marker",
    ),
    Binding(
        "s",
        "set_resolved(False)",
        "Reopen",
        id="marker.reopen",
        tooltip="Reopen the selected (resolved) marker",
    ),
    Binding(
        "D",
        "delete_marker",
        "Del marker",
        id="marker.delete",
        tooltip="Delete the selected marker and its thread (asks; u brings it back)",
    ),
    Binding(
        "u", "undo", "Undo", id="edit.undo", tooltip="Undo the last delete (for 10 s after it)"
    ),
    Binding(
        "m",
        "move_marker",
        "Move",
        id="marker.move",
        tooltip="Move the selected marker: click the new spot, or crosshair + enter",
    ),
    Binding(
        "escape",
        "cancel_move",
        "Cancel move",
        show=False,
        id="marker.move-cancel",
        tooltip="Cancel the move",
    ),
    Binding(
        "escape",
        "focus_image",
        "Image",
        show=False,
        id="app.to-image",
        tooltip="Back to the image (from the list or the thread)",
    ),
    Binding(
        "f",
        "cycle_filter",
        "Filter",
        id="markers.filter",
        tooltip="Filter the marker list: all, open, resolved",
    ),
    Binding(
        "v",
        "toggle_resolved_pins",
        "Hide resolved",
        show=False,
        id="view.resolved",
        tooltip="Hide or show resolved pins on the image",
    ),
    Binding(
        "b",
        "toggle_sidebar",
        "Sidebar",
        show=False,
        id="view.sidebar",
        tooltip="Hide or show the sidebar (markers and thread)",
    ),
    Binding("w", "who", "Who", show=False, id="room.who", tooltip="Who is viewing this image now"),
    Binding(
        "R",
        "retry",
        "Retry",
        id="connection.retry",
        tooltip="Retry the connection now (while it is down)",
    ),
]

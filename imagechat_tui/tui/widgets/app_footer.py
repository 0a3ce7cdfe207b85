"""The footer: the keys of what the reviewer is doing now (``Review.mode``: the image,
the list, the thread, the composer, a region, a move, offline), of those that apply
(``check_action``), most useful first. Retry (while the link is down), the palette, Help
and Quit are kept together at the right end; the other keys are dropped, least useful
first, until the rest fit whole: a narrow terminal shows fewer keys, never half of one,
and keys that go in pairs (``[ Prev`` ``] Next``, zoom in and out) both or neither."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from rich.cells import cell_len
from textual import events
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from imagechat_tui.client.review import Mode

#: Actions kept at the right end, in this order.
PINNED = ("retry", "command_palette", "help", "quit")  # retry: only while the link is down
PINNED_IDS = {"retry": "connection.retry", "help": "app.help", "quit": "app.quit"}


@dataclass(frozen=True, slots=True)
class Offer:
    """One footer key: the binding(s) with these ids shown as one (the four arrows),
    with the footer's word for it in this mode (else the binding's description) and
    which of the binding's keys to show (else its first)."""

    ids: tuple[str, ...]
    label: str | None = None
    key: str | None = None


def _offer(*ids: str, label: str | None = None, key: str | None = None) -> Offer:
    return Offer(ids, label, key)


UNDO = _offer("edit.undo")  # first where it applies: it is offered for seconds only
REPLY = _offer("thread.reply")
RESOLVE = _offer("marker.resolve")
REOPEN = _offer("marker.reopen")
#: Keys that make sense only beside each other: the footer shows both or neither.
PREV_NEXT = (_offer("marker.prev"), _offer("marker.next"))
ZOOM = (_offer("view.zoom-in"), _offer("view.zoom-out"))
ARROWS = ("crosshair.left", "crosshair.right", "crosshair.up", "crosshair.down")

#: What each mode offers, most useful first (the footer drops from the end to fit); a
#: tuple of offers is dropped whole.
OFFERS: dict[Mode, tuple[Offer | tuple[Offer, ...], ...]] = {
    "image": (
        UNDO,
        _offer("marker.new"),
        _offer("marker.region"),
        REPLY,
        RESOLVE,
        REOPEN,
        PREV_NEXT,
        _offer("marker.move"),
        ZOOM,
        _offer("marker.delete"),
    ),
    "list": (
        UNDO,
        _offer("markers.open"),
        _offer("markers.filter"),
        REPLY,
        RESOLVE,
        REOPEN,
        _offer("marker.move"),
        _offer("marker.delete"),
        _offer("app.to-image"),
    ),
    "thread": (
        UNDO,
        REPLY,
        _offer("thread.edit"),
        _offer("thread.delete-comment"),
        RESOLVE,
        REOPEN,
        PREV_NEXT,
        _offer("app.to-image"),
    ),
    "composer": (
        _offer("compose.send"),
        _offer("compose.newline"),
        _offer("compose.cancel", label="Close (draft kept)"),
    ),
    "region": (
        _offer("marker.region-finish"),
        _offer("marker.region-cancel", label="Cancel"),
        _offer(*ARROWS, label="Size"),
    ),
    "move": (
        _offer("marker.new", label="Put it here", key="enter"),
        _offer("marker.move-cancel", label="Cancel"),
        _offer(*ARROWS, label="Aim"),
    ),
    "offline": (
        PREV_NEXT,
        _offer("markers.filter"),
        ZOOM,
    ),
}


def key_width(key_display: str, description: str) -> int:
    """Cells a footer key takes: the key and its word, padded (``FooterKey``'s CSS)."""
    return 1 + cell_len(key_display) + 1 + cell_len(description) + 1


def fitting(widths: Iterable[int], room: int) -> int:
    """How many of the keys (or pairs of keys), most useful first, fit whole in ``room``
    cells."""
    used = count = 0
    for width in widths:
        if used + width > room:
            break
        used += width
        count += 1
    return count


@dataclass(frozen=True, slots=True)
class _Key:
    binding: Binding
    display: str
    description: str
    enabled: bool
    tooltip: str


class AppFooter(Footer):
    DEFAULT_CSS = """
    AppFooter > #footer-pinned {
        dock: right;
        width: auto;
        height: 1;
        background: $footer-background;
        border-left: vkey $foreground 15%;
    }
    AppFooter > #footer-pinned > FooterKey.-command-palette {
        dock: none;
        border-left: none;
    }
    """

    def __init__(self, mode: Callable[[], Mode]) -> None:
        """``mode``: what the reviewer is doing now (the app asks its ``Review``)."""
        super().__init__()
        self._mode = mode
        self._width = 0

    def _offered(self) -> tuple[list[list[_Key]], list[_Key]]:
        """The mode's keys that apply now, most useful first, each alone or with its pair,
        and the pinned ones."""
        app = self.app
        by_id: dict[str, tuple[Binding, bool, str]] = {}
        by_action: dict[str, tuple[Binding, bool, str]] = {}
        for _node, binding, enabled, tooltip in self.screen.active_bindings.values():
            if binding.id is not None:
                by_id.setdefault(binding.id, (binding, enabled, tooltip))
            by_action.setdefault(binding.action, (binding, enabled, tooltip))
        units = []
        for entry in OFFERS[self._mode()]:
            unit = []
            for offer in entry if isinstance(entry, tuple) else (entry,):
                found = [by_id[i] for i in offer.ids if i in by_id]
                if not found:
                    continue  # does not apply now
                binding, enabled, tooltip = found[0]
                if offer.key:  # shown (and clicked) as this one of the binding's keys
                    binding = replace(binding, key=offer.key, key_display=None)
                display = "".join(app.get_key_display(b) for b, _, _ in found[1:])
                display = app.get_key_display(binding) + display
                description = offer.label or binding.description
                unit.append(_Key(binding, display, description, enabled, tooltip or description))
            if unit:
                units.append(unit)
        pinned = []
        for action in PINNED:
            if action == "command_palette":
                if not (self.show_command_palette and app.ENABLE_COMMAND_PALETTE):
                    continue
                found_binding = self.screen.active_bindings.get(app.COMMAND_PALETTE_BINDING)
                if found_binding is None:
                    continue
                binding, enabled = found_binding.binding, found_binding.enabled
                tooltip = binding.tooltip or binding.description
            elif (found_key := by_id.get(PINNED_IDS[action]) or by_action.get(action)) is not None:
                binding, enabled, tooltip = found_key  # the app's own key (q), else Textual's (^q)
            else:
                continue
            display = app.get_key_display(binding)
            pinned.append(_Key(binding, display, binding.description, enabled, tooltip))
        return units, pinned

    def compose(self) -> Iterable[Widget]:
        if not self._bindings_ready:
            return
        units, pinned = self._offered()
        width = self.size.width or self.app.size.width
        # The pinned group: its keys, the palette's padding and the border before it.
        pinned_width = sum(key_width(k.display, k.description) for k in pinned) + 2
        widths = (sum(key_width(k.display, k.description) for k in unit) for unit in units)
        for unit in units[: fitting(widths, width - pinned_width)]:
            for key in unit:
                yield self._footer_key(key)
        if pinned:
            with Horizontal(id="footer-pinned"):
                for key in pinned:
                    classes = "-command-palette" if key.binding.action == "command_palette" else ""
                    yield self._footer_key(key, classes)

    def _footer_key(self, key: _Key, classes: str = "") -> FooterKey:
        return FooterKey(
            key.binding.key,
            key.display,
            key.description,
            key.binding.action,
            disabled=not key.enabled,
            tooltip=key.tooltip,
            classes=classes,
        ).data_bind(compact=Footer.compact)

    def on_resize(self, event: events.Resize) -> None:
        """Keys that fit at one width may not at another: choose them again."""
        width, self._width = self._width, event.size.width
        # Not at the first size: compose already fitted the keys to the screen's width
        # (recomposing then repainted the screen over a Sixel image just drawn).
        if width and event.size.width != width:
            self.refresh(recompose=True)

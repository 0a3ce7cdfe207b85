"""The footer: the keys of what the reviewer is doing now (``Review.mode``: the image,
the list, the thread, the composer, a region, a move, offline), of those that apply
(``check_action``), most useful first. Retry (while the link is down), the palette, Help
and Quit are kept together at the right end; the other keys are dropped, least useful
first, until the rest fit whole: a narrow terminal shows fewer keys, never half of one,
and keys that go in pairs (``[ Prev`` ``] Next``, zoom in and out) both or neither."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from textual import events
from textual.binding import Binding
from textual.containers import Horizontal
from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from imagechat_tui.client.review import Mode

if TYPE_CHECKING:
    from textual.screen import Screen

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
        # Slots for every key a mode can offer, empty until filled (``_show_offered``):
        # the footer changes in place, never removed and mounted anew.
        for _ in range(SLOTS):
            yield FooterSlot().data_bind(compact=Footer.compact)
        with Horizontal(id="footer-pinned"):
            for _ in PINNED:
                yield FooterSlot().data_bind(compact=Footer.compact)

    def bindings_changed(self, screen: Screen[Any]) -> None:
        """What applies changed: fill the slots again, in place. (Textual's footer
        recomposes, which paints the whole footer twice, emptied and then filled: more
        than a remote marker's 2 KB budget when that marker brings `[ Prev` `] Next`.)"""
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen:
            self.call_after_refresh(self._show_offered)

    def _show_offered(self) -> None:
        if not self._bindings_ready or not self.is_attached:
            return
        units, pinned = self._offered()
        width = self.size.width or self.app.size.width
        # The pinned group: its keys, the palette's padding and the border before it.
        pinned_width = sum(key_width(k.display, k.description) for k in pinned) + 2
        widths = (sum(key_width(k.display, k.description) for k in unit) for unit in units)
        keys = [key for unit in units[: fitting(widths, width - pinned_width)] for key in unit]
        group = self.query_one("#footer-pinned", Horizontal)
        with self.app.batch_update():  # one frame for all the slots
            group.display = bool(pinned)
            for slots, wanted in (
                (self.query_children(FooterSlot), keys),
                (group.query_children(FooterSlot), pinned),
            ):
                for index, slot in enumerate(slots):
                    slot.show(wanted[index] if index < len(wanted) else None)

    def on_resize(self, event: events.Resize) -> None:
        """Keys that fit at one width may not at another: choose them again."""
        if event.size.width != self._width:
            self._width = event.size.width
            self._show_offered()


#: Slots for the keys of a mode: as many as the mode with the most offers.
SLOTS = max(
    sum(len(entry) if isinstance(entry, tuple) else 1 for entry in offers)
    for offers in OFFERS.values()
)


class FooterSlot(FooterKey):
    """A footer key that shows whichever key it is given, or nothing, in place: only the
    slots that change, and those a change moves, are painted again."""

    def __init__(self) -> None:
        super().__init__("", "", "", "", disabled=False)

    def _size_updated(
        self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
    ) -> bool:
        # Drawn at its new size by the layout that gave it: no second layout and repaint
        # (Textual's default sets ``virtual_size``, whose refresh paints the key again).
        return super()._size_updated(size, virtual_size, container_size, layout=False)

    def show(self, key: _Key | None) -> None:
        """Show ``key``; None: nothing (no cells). An empty slot stays in the layout, so
        the keys beside a change keep their place in it and are not painted again."""
        if key is None:
            shown, enabled, palette, tooltip = ("", "", "", ""), True, False, None
        else:
            shown = (key.binding.key, key.display, key.description, key.binding.action)
            enabled, tooltip = key.enabled, key.tooltip
            palette = key.binding.action == "command_palette"
        if shown != (self.key, self.key_display, self.description, self.action):
            self.key, self.key_display, self.description, self.action = shown
            self.refresh(layout=True)
        self._disabled = not enabled
        self.set_class(not enabled, "-disabled")
        self.set_class(palette, "-command-palette")
        if self.tooltip != tooltip:
            self.tooltip = tooltip

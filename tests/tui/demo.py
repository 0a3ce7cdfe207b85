"""Fixed, reproducible app states for screenshots and snapshot tests (not shipped).

The app is real; only its input is fixed: a generated image, a room snapshot served in
memory by the real rules (``client/loopback.py``), and a link held in one state. scripts/screenshots.py and tests/tui/test_snapshots.py use it.
"""

from __future__ import annotations

from typing import Literal

from PIL import Image, ImageDraw

from imagechat_tui.client.link import ConnState
from imagechat_tui.client.loopback import LoopbackLink, LoopbackRoom
from imagechat_tui.client.mentions import Notice
from imagechat_tui.model import Limits, first_comment_id
from imagechat_tui.protocol import Chat, Comment, ServerLimits, Snapshot, User
from imagechat_tui.tui.app import ImageChatApp

DemoState = Literal["main", "offline", "reconnecting", "activity"]
ALICE = User(id="alice", name="alice")
DEMO_LIMITS = ServerLimits(
    maxText=2000,
    maxMarkers=500,
    maxComments=200,
    maxFrameBytes=65536,
    opsPerSecond=50,
    opsBurst=1000,
)
BOB = User(id="bob", name="bob")
T0 = 1_767_000_000_000  # fixed timestamps keep snapshots stable


def demo_image() -> Image.Image:
    """A mock web page: header bar, sidebar, buttons, a chart."""
    image = Image.new("RGB", (1280, 800), (245, 246, 250))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 1280, 80), fill=(33, 47, 80))
    draw.rectangle((0, 80, 240, 800), fill=(225, 230, 240))
    for i in range(6):
        draw.rectangle((20, 120 + i * 70, 220, 170 + i * 70), fill=(200, 210, 228))
    draw.rounded_rectangle((300, 130, 560, 200), 16, fill=(46, 125, 230))
    draw.rounded_rectangle((600, 130, 860, 200), 16, fill=(230, 90, 60))
    for i, h in enumerate((180, 320, 260, 420, 380, 500)):
        draw.rectangle((320 + i * 140, 720 - h, 420 + i * 140, 720), fill=(60, 170 + i * 12, 120))
    draw.ellipse((1080, 10, 1140, 70), fill=(250, 200, 60))
    return image


def _comment(chat_id: str, n: int, author: User, text: str, minutes: int) -> Comment:
    comment_id = first_comment_id(chat_id) if n == 0 else f"{chat_id}-c{n}"
    return Comment(id=comment_id, author=author, text=text, createdAt=T0 + minutes * 60_000)


def demo_snapshot(room: str) -> Snapshot:
    chats = (
        Chat(
            id="chat-1",
            number=1,
            x=33.0,
            y=20.5,
            createdBy=ALICE,
            createdAt=T0,
            comments=(
                _comment("chat-1", 0, ALICE, "This button's label is cut off on small screens.", 0),
                _comment("chat-1", 1, BOB, "Confirmed on a 13-inch laptop.", 4),
                _comment(
                    "chat-1",
                    2,
                    ALICE,
                    "Shortening it to 'Save'.\nChecked at 1280 and 1024 px:\nboth fit now.",
                    9,
                ),
            ),
        ),
        Chat(
            id="chat-2",
            number=2,
            x=57.0,
            y=20.5,
            createdBy=BOB,
            createdAt=T0 + 60_000,
            comments=(_comment("chat-2", 0, BOB, "Red reads as an error; use neutral.", 1),),
        ),
        Chat(
            id="chat-3",
            number=3,
            x=75.0,
            y=55.0,
            createdBy=BOB,
            createdAt=T0 + 120_000,
            resolved=True,
            comments=(_comment("chat-3", 0, BOB, "Axis labels missing.", 2),),
        ),
    )
    return Snapshot(room=room, seq=7, chats=chats)


def activity_snapshot(room: str) -> Snapshot:
    """The main room plus a region, and a reply that mentions alice."""
    base = demo_snapshot(room)
    region = Chat(
        id="chat-4",
        number=4,
        x=24.0,
        y=62.0,
        w=30.0,
        h=30.0,
        createdBy=BOB,
        createdAt=T0 + 180_000,
        comments=(
            _comment("chat-4", 0, BOB, "These two bars use almost the same green.", 3),
            _comment("chat-4", 1, BOB, "@alice can you pick a second colour?", 5),
        ),
    )
    return Snapshot(room=room, seq=9, chats=(*base.chats, region))


def demo_link(state: DemoState) -> LoopbackLink:
    """Alice joined to the demo room in memory, then held in ``state``: the app reads it
    exactly as it reads a live link, so every widget agrees on it (no server, no count
    of viewers in a picture)."""
    snapshot = activity_snapshot("img-demo") if state == "activity" else demo_snapshot("img-demo")
    room = LoopbackRoom(
        "img-demo", snapshot, limits=Limits.from_server(DEMO_LIMITS), presence=False
    )
    link = room.link(ALICE)
    link.join()
    room.pump()
    if state == "reconnecting":
        link.drop(
            ConnState("reconnecting", attempt=3, retry_at=None, reason="The server went away.")
        )
    elif state == "offline":
        link.drop(ConnState("offline", attempt=8, reason="Cannot reach the server."))
    return link


class DemoApp(ImageChatApp):
    """The real app on a fixed room and connection state, marker #1 open."""

    def __init__(self, state: DemoState) -> None:
        super().__init__(demo_image(), demo_link(state), title="design-review.png")
        self.demo_state = state
        # The review is pure: it is set up before the workspace draws it.
        if state == "activity":
            self.review.unseen.add("chat-2")  # as if bob's reply had just arrived
        self.review.select("chat-4" if state == "activity" else "chat-1")

    def on_mount(self) -> None:
        super().on_mount()
        if self.demo_state == "activity":
            # Bob's reply notified (a toast in a real terminal; toasts are off in
            # run_test), and #2 marked new in the list.
            chat = self.link.replica.view.chats["chat-4"]
            notice = Notice("mention", chat.id, 4, BOB, chat.comments[1].text)
            self.call_after_refresh(self.activity.notify, notice)

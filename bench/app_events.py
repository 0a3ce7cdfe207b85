"""The terminal app's CPU per remote event and its first paint, by the room's size.

Run: .venv/bin/python bench/app_events.py [--sizes 1,100,300,500] [--events 120]
     [--burst 20] [--profile 300] [--size 160x48]

The real app (``ImageChatApp``, headless through ``App.run_test``) on a link to the
in-memory room (``client/loopback.py``: the server's own rules, no socket), in rooms of
1, 100, 300 and 500 markers with 6 comments each (the opening one and five replies of
1-12 words). The baseline is the 1-marker room in the same run; ratios are against it.

- **first paint**: from entering ``run_test`` to the first frame the compositor renders
  after the room's snapshot is folded and the app has handled it (wall and CPU time);
- **CPU per remote event**: events another reviewer's ops cause (decided beforehand by
  ``model.decide`` on a copy of the room: replies, edits, resolves, reopens, moves,
  deletes, creates and restores, round robin over random markers) arrive one at a time,
  each as an encoded frame in the app's link, as over a socket; ``time.process_time``
  runs from the first frame queued until the frame that shows the last one is
  rendered, each frame waiting for the one before it to be drawn. This includes the
  decoding, the replica's fold, the review, the widgets and Textual's compositor (in
  headless mode Textual does not turn the frame into escape codes);
- **a burst**: ``--burst`` events queued at once, CPU per event until the frame after.

``--profile N`` runs the events of the N-marker room under cProfile and prints the top
functions (``--profile-out FILE`` keeps the stats). Print the machine's load average
too: the box is shared, and only same-run ratios compare.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import os
import pstats
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from PIL import Image, ImageDraw
from textual.screen import Screen

from imagechat_tui.client.loopback import LoopbackLink, LoopbackRoom
from imagechat_tui.model import Actor, Rejection, RoomState, apply, decide
from imagechat_tui.protocol import (
    AddComment,
    ChangeRequest,
    Chat,
    ClientOp,
    Comment,
    CreateOp,
    DeleteOp,
    EditComment,
    Event,
    Move,
    NewChat,
    NewComment,
    Reopen,
    Resolve,
    RestoreOp,
    Snapshot,
    UpdateOp,
    User,
)
from imagechat_tui.tui.app import ImageChatApp
from imagechat_tui.tui.widgets.marker_list import MarkerList

ROOM = "bench-room"
WORDS = [
    "the",
    "button",
    "label",
    "is",
    "cut",
    "off",
    "here",
    "and",
    "the",
    "colour",
    "looks",
    "wrong",
    "on",
    "dark",
    "mode",
]
BOB = User(id="bob", name="bob")
CAROL = User(id="carol", name="carol")


def bench_image() -> Image.Image:
    image = Image.new("RGB", (1600, 900), (30, 60, 120))
    draw = ImageDraw.Draw(image)
    for i in range(0, 1600, 100):
        draw.rectangle((i + 10, 40, i + 80, 90), fill=(200, i % 256, 80))
    return Image.blend(image, Image.effect_noise((1600, 900), 30).convert("RGB"), 0.2)


IMAGE = bench_image()


def _text(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 12)))


def room_snapshot(markers: int, comments: int = 6, seed: int = 1) -> Snapshot:
    """A room of ``markers`` markers with ``comments`` comments each, by two people."""
    rng = random.Random(seed)
    chats = []
    for n in range(1, markers + 1):
        author = BOB if n % 2 else CAROL
        thread = tuple(
            Comment(
                id=f"c{n}-{i}",
                author=author if i == 0 else rng.choice((BOB, CAROL)),
                text=_text(rng),
                createdAt=1_700_000_000_000 + n * 1000 + i,
            )
            for i in range(comments)
        )
        chats.append(
            Chat(
                id=f"m{n}",
                number=n,
                x=rng.uniform(1, 99),
                y=rng.uniform(1, 99),
                createdBy=author,
                createdAt=1_700_000_000_000 + n * 1000,
                comments=thread,
                resolved=n % 5 == 0,
            )
        )
    return Snapshot(room=ROOM, seq=markers * comments, chats=tuple(chats))


def remote_events(snapshot: Snapshot, count: int, seed: int = 2) -> list[Event]:
    """``count`` events caused by bob (a moderator, so he may edit, move and delete
    anything), decided in turn on a copy of the room: a mix of every kind of change."""
    rng = random.Random(seed)
    actor = Actor(BOB, "moderator")
    state = RoomState.from_snapshot(snapshot)
    now = 1_800_000_000_000
    events: list[Event] = []
    deleted: list[str] = []
    kinds = ["reply", "resolve", "edit", "move", "reply", "delete", "create", "restore"]
    for attempt in range(count * 4):
        if len(events) == count:
            break
        kind = kinds[attempt % len(kinds)]
        chat = rng.choice(list(state.chats.values()))
        bid = str(uuid.UUID(int=rng.getrandbits(128)))
        change: ChangeRequest | None = None
        op: ClientOp
        if kind == "reply":
            change = AddComment(comment=NewComment(id=bid, text=_text(rng)))
        elif kind == "resolve":
            change = Reopen() if chat.resolved else Resolve()
        elif kind == "edit":
            # The first comment: the one the list shows (every event changes the screen).
            text = f"{_text(rng)} (edit {attempt})"
            change = EditComment(commentId=chat.comments[0].id, text=text)
        elif kind == "move":
            change = Move(x=rng.uniform(1, 99), y=rng.uniform(1, 99))
        if change is not None:
            op = UpdateOp(broadcastId=bid, chatId=chat.id, change=change)
        elif kind == "delete":
            if len(state.chats) <= 1:
                continue  # the 1-marker room keeps its marker: restore needs one gone
            op = DeleteOp(broadcastId=bid, chatId=chat.id)
            deleted.append(chat.id)
        elif kind == "restore":
            if not deleted:
                continue
            op = RestoreOp(broadcastId=bid, chatId=deleted.pop())
        else:
            x, y = rng.uniform(1, 99), rng.uniform(1, 99)
            op = CreateOp(broadcastId=bid, chat=NewChat(id=bid, x=x, y=y, text=_text(rng)))
        now += 1000
        event = decide(state, op, actor, now)
        if isinstance(event, Rejection):
            continue  # e.g. a create in a full room
        state = apply(state, event)
        events.append(event)
    assert len(events) == count, "could not make that many events"
    return events


class Painted:
    """Watches the frames the compositor renders (every screen's): ``until`` returns
    once a frame is rendered while its condition holds, with that frame's times."""

    def __init__(self) -> None:
        self._watch: Callable[[], bool] | None = None
        self._seen = asyncio.Event()
        self.at: tuple[float, float] = (0.0, 0.0)  # wall, CPU of the frame seen
        original = Screen._compositor_refresh
        painted = self

        def counted(screen: Screen[object]) -> None:
            original(screen)
            watch = painted._watch
            if watch is not None and watch():
                painted.at = (time.perf_counter(), time.process_time())
                painted._watch = None
                painted._seen.set()

        Screen._compositor_refresh = counted  # type: ignore[method-assign,assignment]
        self._restore: Callable[[], None] = lambda: setattr(Screen, "_compositor_refresh", original)

    def watch(self, condition: Callable[[], bool]) -> None:
        """From now on, look for a frame rendered while ``condition`` holds."""
        self._seen.clear()
        self._watch = condition

    async def seen(self, screen: Screen[object]) -> tuple[float, float]:
        """The times of the frame watched for; or, should the change draw nothing, of
        the moment the condition holds with nothing left to draw (looked at every
        50 ms, which costs next to nothing)."""
        async with asyncio.timeout(60):
            while True:
                try:
                    async with asyncio.timeout(0.05):
                        await self._seen.wait()
                    return self.at
                except TimeoutError:
                    watch = self._watch
                    if watch is not None and watch() and _nothing_to_draw(screen):
                        self._watch = None
                        return time.perf_counter(), time.process_time()

    def close(self) -> None:
        self._restore()


def _nothing_to_draw(screen: Screen[object]) -> bool:
    return not (
        screen._dirty_widgets
        or screen._compositor._dirty_regions
        or screen._layout_required
        or screen._repaint_required
    )


async def quiet(app: ImageChatApp, checks: int = 3) -> None:
    """Until nothing is queued or left to draw at ``checks`` looks in a row, 50 ms apart."""
    calm = 0
    async with asyncio.timeout(60):
        while calm < checks:
            await asyncio.sleep(0.05)
            idle: bool = (
                app._message_queue.empty()
                and app.screen._message_queue.empty()
                and _nothing_to_draw(app.screen)
            )
            calm = calm + 1 if idle else 0


def settled(app: ImageChatApp, link: LoopbackLink, seq: int) -> Callable[[], bool]:
    """The app has folded everything up to ``seq`` and handled what that posted."""

    def check() -> bool:
        return (
            not link.waiting
            and link.replica.confirmed.seq >= seq
            and app._message_queue.empty()
            and app.screen._message_queue.empty()  # RoomChanged handled (drawn)
        )

    return check


@dataclass
class Result:
    markers: int
    paint_wall: float
    paint_cpu: float
    event_cpu: float  # per event, one at a time
    burst_cpu: float  # per event, in bursts


async def measure(
    markers: int,
    events: int,
    burst: int,
    size: tuple[int, int],
    painted: Painted,
    profile: cProfile.Profile | None = None,
) -> Result:
    snapshot = room_snapshot(markers)
    changes = remote_events(snapshot, events + burst)
    room = LoopbackRoom(ROOM, snapshot, presence=False)
    link = room.link(User(id="alice", name="alice"))
    image = IMAGE.copy()  # made once: its noise is no part of the first paint
    gc.collect()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    app = ImageChatApp(image, link, title="bench")
    painted.watch(
        lambda: (
            link.connected
            and settled(app, link, snapshot.seq)()
            and len(app.query_one(MarkerList).chat_ids) == markers
        )
    )
    async with app.run_test(size=size):
        wall1, cpu1 = await painted.seen(app.screen)
        paint_wall, paint_cpu = wall1 - wall0, cpu1 - cpu0
        await quiet(app)  # what the first paint set off (a scrollbar's relayout) is done
        one_by_one, bursts = changes[:events], changes[events:]
        if profile is not None:
            profile.enable()
        cpu0 = time.process_time()
        for event in one_by_one:
            painted.watch(settled(app, link, event.seq))
            link.queue(event)
            await painted.seen(app.screen)
        event_cpu = (time.process_time() - cpu0) / max(1, len(one_by_one))
        if profile is not None:
            profile.disable()
        cpu0 = time.process_time()
        if bursts:
            painted.watch(settled(app, link, bursts[-1].seq))
            for event in bursts:
                link.queue(event)
            await painted.seen(app.screen)
        burst_cpu = (time.process_time() - cpu0) / max(1, len(bursts))
        shown = link.replica.view.chats
        expected = RoomState.from_snapshot(snapshot)
        for event in changes:
            expected = apply(expected, event)
        assert set(shown) == set(expected.chats), "the app did not end in the room's state"
    return Result(markers, paint_wall, paint_cpu, event_cpu, burst_cpu)


def _sizes(text: str) -> Iterator[int]:
    for part in text.split(","):
        yield int(part)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,100,300,500", help="room sizes, in markers")
    parser.add_argument("--events", type=int, default=120, help="events one at a time")
    parser.add_argument("--burst", type=int, default=40, help="events queued at once")
    parser.add_argument("--rounds", type=int, default=3, help="runs per size (medians)")
    parser.add_argument("--size", default="160x48", help="the terminal, in cells")
    parser.add_argument("--profile", type=int, help="profile the events of this room size")
    parser.add_argument("--profile-out", help="keep the profile's stats in this file")
    args = parser.parse_args()
    os.environ.setdefault("IMAGECHAT_HOME", tempfile.mkdtemp(prefix="app-events-"))  # drafts
    cols, rows = (int(n) for n in args.size.split("x"))
    sizes = list(_sizes(args.sizes))
    painted = Painted()
    load_before = os.getloadavg()
    results: dict[int, list[Result]] = {n: [] for n in sizes}
    profile = cProfile.Profile() if args.profile else None
    try:
        await measure(1, 10, 0, (cols, rows), painted)  # warm imports and caches
        for _ in range(args.rounds):
            for n in sizes:  # interleaved: load from others hits every size alike
                prof = profile if n == args.profile else None
                results[n].append(
                    await measure(n, args.events, args.burst, (cols, rows), painted, prof)
                )
    finally:
        painted.close()
    load_after = os.getloadavg()

    def med(n: int, pick: Callable[[Result], float]) -> float:
        return statistics.median(pick(r) for r in results[n])

    base = sizes[0]
    print(
        f"{args.rounds} rounds of {args.events} events one at a time and {args.burst} in a"
        f" burst, {cols}x{rows} cells; medians; baseline: the {base}-marker room;"
        f" load average {load_before[0]:.2f} -> {load_after[0]:.2f} on {os.cpu_count()} cores"
    )
    print(
        f"{'markers':>8} {'comments':>9}  {'paint wall':>10} {'vs':>6}  {'paint cpu':>9} {'vs':>6}"
        f"  {'cpu/event':>9} {'vs':>6}  {'burst cpu/ev':>12} {'vs':>6}"
    )
    for n in sizes:
        pw, pc = med(n, lambda r: r.paint_wall), med(n, lambda r: r.paint_cpu)
        ec, bc = med(n, lambda r: r.event_cpu), med(n, lambda r: r.burst_cpu)
        print(
            f"{n:>8} {n * 6:>9}  {pw * 1000:8.0f}ms {pw / med(base, lambda r: r.paint_wall):5.2f}x"
            f"  {pc * 1000:7.0f}ms {pc / med(base, lambda r: r.paint_cpu):5.2f}x"
            f"  {ec * 1000:7.2f}ms {ec / med(base, lambda r: r.event_cpu):5.2f}x"
            f"  {bc * 1000:10.2f}ms {bc / med(base, lambda r: r.burst_cpu):5.2f}x"
        )
    if profile is not None:
        stats = pstats.Stats(profile)
        if args.profile_out:
            stats.dump_stats(args.profile_out)
        stats.sort_stats("cumulative").print_stats(35)
        stats.sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    asyncio.run(main())

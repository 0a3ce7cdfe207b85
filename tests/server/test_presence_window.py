"""The presence coalescing rule (server/presence.py) as pure code: a mass join of 2,000
viewers costs each at most 2 KB of presence in all, at any join rate, with at most one
frame per viewer per window; and other nodes are told once per window."""

from __future__ import annotations

import heapq

import pytest

from imagechat_tui.protocol import PRESENCE_NAMED, Presence, User, encode
from imagechat_tui.server.presence import PresenceSchedule, presence_window


def mass_join(n: int, per_second: float) -> tuple[list[int], list[int], int]:
    """Viewers join one at a time at ``per_second``; the room follows the schedule as
    the real room does (a timer per returned delay). The frames and bytes each viewer
    received (the frame as encoded, names only up to PRESENCE_NAMED viewers), and how
    many times other nodes would have been told."""
    schedule = PresenceSchedule()
    timers: list[float] = []  # when pending frames go
    frames, sizes = [0] * n, [0] * n
    joined, told = 0, 0
    users = [User(id=f"viewer-{i:04}", name=f"Viewer {i:04}") for i in range(n)]

    def send() -> None:
        nonlocal told
        told += schedule.due()
        named = tuple(users[:joined]) if joined <= PRESENCE_NAMED else ()
        size = len(encode(Presence(room="room-1", viewers=named, count=joined)))
        for i in range(joined):
            frames[i] += 1
            sizes[i] += size

    for i in range(n):
        now = i / per_second
        while timers and timers[0] <= now:
            heapq.heappop(timers)
            send()
        joined += 1
        delay = schedule.changed(joined)
        if delay is not None:
            heapq.heappush(timers, now + delay)
    while timers:
        heapq.heappop(timers)
        send()
    return frames, sizes, told


@pytest.mark.parametrize("per_second", [50, 200, 1_000, 5_000, 100_000])
def test_a_mass_join_of_2000_costs_each_viewer_at_most_2_kb_of_presence(
    per_second: float,
) -> None:
    n = 2_000
    frames, sizes, told = mass_join(n, per_second)
    assert all(f >= 1 for f in frames)  # everyone hears the final count
    assert sum(sizes) / n <= 2048
    duration = n / per_second
    # at most one frame per window: never more than the join's length over the
    # smallest window a room of that size had, plus the last one
    assert max(frames) <= duration / presence_window(1) + 2
    assert told <= max(frames)  # other nodes: once per frame, not once per join


def test_frames_are_a_window_apart_and_changes_within_one_ride_along() -> None:
    schedule = PresenceSchedule()
    assert schedule.changed(10) == presence_window(10)
    assert schedule.changed(11) is None  # within the window: no second frame
    assert schedule.changed(12, local=False) is None
    assert schedule.due() is True  # local viewers changed: other nodes are told
    assert schedule.changed(12, local=False) == presence_window(12)
    assert schedule.due() is False  # only other nodes' viewers changed: nothing to tell


def test_the_window_grows_with_the_room_up_to_five_seconds() -> None:
    assert presence_window(0) == pytest.approx(0.05)
    assert presence_window(20) == pytest.approx(0.25)
    assert presence_window(195) == pytest.approx(2.0)
    assert presence_window(495) == pytest.approx(5.0)
    assert presence_window(10_000) == 5.0


def test_a_slow_mass_join_into_a_large_room_costs_fewer_frames_than_with_two_second_windows() -> (
    None
):
    # 1,000 viewers at 200 joins a second (a loaded node): with windows of at most 2 s
    # each viewer got 2.65 frames on average; at most one per 5 s window in a large room.
    frames, _sizes, _told = mass_join(1_000, 200)
    assert sum(frames) / 1_000 <= 1.8
    assert all(f >= 1 for f in frames)

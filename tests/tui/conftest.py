from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from imagechat_tui.client.loopback import LoopbackRoom
from tests.tui.helpers import ROOM, Reviewing, alice_and_bob_in_memory

#: The terminal the ``alice`` fixture opens the app in, unless the test says otherwise.
SIZE = (120, 36)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "app(size=(columns, rows), role='member'): how the alice fixture opens the app"
    )


@pytest.fixture
def room() -> LoopbackRoom:
    """The test room served in memory by the real rules (no socket)."""
    return LoopbackRoom(ROOM)


@pytest.fixture
async def alice(room: LoopbackRoom, request: pytest.FixtureRequest) -> AsyncIterator[Reviewing]:
    """The one app set-up of the TUI tests: Alice in the app on the in-memory ``room``,
    running and connected, and Bob on a plain link to the same room. The terminal's size
    and Alice's role come from ``@pytest.mark.app(size=..., role=...)``."""
    mark = request.node.get_closest_marker("app")
    options = mark.kwargs if mark is not None else {}
    size, role = options.get("size", SIZE), options.get("role", "member")
    async with alice_and_bob_in_memory(room, size, role) as (app, pilot, bob):
        yield Reviewing(app, pilot, bob)

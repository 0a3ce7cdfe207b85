from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from imagechat_tui.client.loopback import LoopbackRoom
from imagechat_tui.server.node import RunningServer
from tests.tui.helpers import (
    ROOM,
    Reviewing,
    TwoApps,
    alice_and_bob,
    alice_and_bob_in_memory,
    two_apps_in_memory,
)

#: The terminal the ``alice`` fixture opens the app in, unless the test says otherwise.
SIZE = (120, 36)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "app(size=(columns, rows), role='member', limits=Limits(...), link='memory'|'server'):"
        " how the alice fixture opens the app",
    )


def app_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    mark = request.node.get_closest_marker("app")
    return dict(mark.kwargs) if mark is not None else {}


@pytest.fixture
def room(request: pytest.FixtureRequest) -> LoopbackRoom:
    """The test room served in memory by the real rules (no socket); its limits from
    ``@pytest.mark.app(limits=...)``."""
    limits = app_options(request).get("limits")
    return LoopbackRoom(ROOM) if limits is None else LoopbackRoom(ROOM, limits=limits)


@pytest.fixture
def app_server(request: pytest.FixtureRequest) -> tuple[str, Callable[..., str]] | None:
    """The server URL and token minter for ``@pytest.mark.app(link="server")``, else
    None. A plain fixture: only outside the event loop may it set up the async
    ``server`` fixture on demand (the test's own, if it asks for it too)."""
    if app_options(request).get("link", "memory") != "server":
        return None
    server: RunningServer = request.getfixturevalue("server")
    return server.url, request.getfixturevalue("mint_token")


@pytest.fixture
async def alice(
    room: LoopbackRoom,
    app_server: tuple[str, Callable[..., str]] | None,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Reviewing]:
    """The one app set-up of the TUI tests: Alice in the app, running and connected, and
    Bob on a plain link to the same room. ``@pytest.mark.app(...)`` says the terminal's
    size, Alice's role, and the link: the in-memory ``room`` (the default) or, for tests
    about the network, a real server on loopback (the test's ``server`` fixture)."""
    options = app_options(request)
    size, role = options.get("size", SIZE), options.get("role", "member")
    if app_server is not None:
        url, mint_token = app_server
        together = alice_and_bob(url, mint_token, size, role)
    else:
        together = alice_and_bob_in_memory(room, size, role)
    async with together as (app, pilot, bob):
        yield Reviewing(app, pilot, bob)


@pytest.fixture
async def two_apps(room: LoopbackRoom, request: pytest.FixtureRequest) -> AsyncIterator[TwoApps]:
    """Alice and Bob each in an app on the in-memory ``room``, both connected and each
    seeing the other (presence)."""
    async with two_apps_in_memory(room, app_options(request).get("size", SIZE)) as apps:
        yield apps

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from imagechat_tui.auth import TenantStore
from imagechat_tui.server.node import RunningServer, ServerConfig, start_server
from tests.services import Postgres, Redis


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data directory, also set as IMAGECHAT_HOME for code that reads it."""
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("IMAGECHAT_HOME", str(path))
    return path


@pytest.fixture
def tenants(home: Path) -> TenantStore:
    return TenantStore.in_home(home)


@pytest.fixture
def mint_token(tenants: TenantStore) -> Callable[..., str]:
    def mint(
        user_id: str = "alice",
        role: str = "member",
        tenant: str = "local",
        name: str | None = None,
        **kwargs: object,
    ) -> str:
        if not tenants.exists(tenant):
            tenants.add(tenant)
        return tenants.mint(tenant=tenant, user_id=user_id, name=name, role=role, **kwargs)  # type: ignore[arg-type]

    return mint


StartServer = Callable[..., Awaitable[RunningServer]]


@pytest.fixture
async def start(home: Path) -> AsyncIterator[StartServer]:
    """Start servers on free ports (with config overrides); all closed at the end."""
    running: list[RunningServer] = []

    async def start_one(**overrides: object) -> RunningServer:
        overrides.setdefault("port", 0)
        config = ServerConfig(home=home, **overrides)  # type: ignore[arg-type]
        server = await start_server(config)
        running.append(server)
        return server

    yield start_one
    for server in running:
        await server.close()


@pytest.fixture
async def server(start: StartServer) -> RunningServer:
    """A real server on loopback with SQLite in a temporary data directory."""
    return await start()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """One throwaway PostgreSQL cluster for the session; tests may stop and start it."""
    server = Postgres()
    server.start()
    yield server
    server.destroy()


@pytest.fixture
def pg_url(postgres: Postgres) -> str:
    """A fresh empty database on the (running) cluster."""
    return postgres.new_database()


@pytest.fixture
def redis_server() -> Iterator[Redis]:
    """A throwaway redis-server of the test's own (it may kill and restart it)."""
    server = Redis()
    server.start()
    yield server
    server.destroy()

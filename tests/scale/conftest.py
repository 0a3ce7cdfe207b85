"""Real PostgreSQL and Redis for the multi-node tests (see tests/services.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.scale.nodes import Node
from tests.services import Postgres, Redis


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
    server = Redis()
    server.start()
    yield server
    server.destroy()


@pytest.fixture
def spawn_node(home: Path, pg_url: str, redis_server: Redis) -> Iterator[Callable[..., Node]]:
    """Start server processes against this test's PostgreSQL database and Redis."""
    started: list[Node] = []

    def spawn(**env: str) -> Node:
        node = Node(home, pg_url, redis_server.url, **env)
        started.append(node)
        return node

    yield spawn
    for node in started:
        node.stop()

"""Real PostgreSQL and Redis for the multi-node tests (see tests/services.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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

"""Fixtures of the API tests: a published player in SQLite and PostgreSQL, and app factories."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapters.database import Database
from adapters.migrations import upgrade_schema
from adapters.publish import publish_player
from api.app import create_app
from settings import Settings
from tests.api.sample import alice

MakeClient = Callable[..., TestClient]


def make_settings(database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, database_url=database_url, **overrides)


@pytest.fixture
def postgres_url(postgres_url: str) -> str:
    """A fresh PostgreSQL database, migrated as `chess-patterns db upgrade` does: a publish to
    PostgreSQL refuses a database that is not at the current schema."""
    upgrade_schema(Database.from_url(postgres_url))
    return postgres_url


@pytest.fixture
def published(database_url: str) -> str:
    """The database with alice published."""
    summaries, games = alice()
    publish_player(Database.from_url(database_url), "alice", summaries, games)
    return database_url


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[MakeClient]:
    """Builds a started TestClient for a database URL (closed at the end of the test)."""
    clients: list[TestClient] = []

    def make(database_url: str, **overrides: Any) -> TestClient:
        app_kwargs = {
            k: overrides.pop(k) for k in ("cache_entries", "snapshot_ttl_seconds") if k in overrides
        }
        client = TestClient(
            create_app(make_settings(database_url, tmp_path, **overrides), **app_kwargs),
            raise_server_exceptions=False,
        )
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


REAL_PLAYER = "shaunchess123"


@pytest.fixture(scope="session")
def real_frames(fixtures_dir: Path) -> tuple[dict[str, Any], Any]:
    """shaunchess123's recorded months through the real parser and warehouse: all summaries."""
    import polars as pl

    from adapters.warehouse import compute_summaries_from_frames
    from transforms.archive import parse_month

    months = sorted((fixtures_dir / REAL_PLAYER).glob("[0-9]*/[0-9]*.json"))
    parsed = [parse_month(REAL_PLAYER, f"{p.parent.name}-{p.stem}", p.read_bytes()) for p in months]
    games = pl.concat([p.games for p in parsed])
    moves = pl.concat([p.moves for p in parsed])
    return compute_summaries_from_frames(games, moves, REAL_PLAYER), games


@pytest.fixture
def real_published(sqlite_url: str, real_frames: tuple[dict[str, Any], Any]) -> str:
    """A SQLite database with the real player published (every summary of the registry)."""
    summaries, games = real_frames
    publish_player(Database.from_url(sqlite_url), REAL_PLAYER, summaries, games)
    return sqlite_url

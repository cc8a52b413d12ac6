"""Shared test fixtures: the real Chess.com fixture folder, a fresh PostgreSQL database, Redis."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(
    os.environ.get("CHESS_FIXTURES_DIR", REPO.parent / "shared" / "fixtures" / "chesscom")
).resolve()
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_TEST_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _unavailable(what: str, error: Exception) -> None:
    """Skip on a developer machine without the service; fail loudly in CI."""
    message = f"{what} is not reachable ({error}); start it as .ci/run does"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """The real recorded Chess.com data in ../shared/fixtures/chesscom (never copied here)."""
    if not FIXTURES.is_dir():
        pytest.fail(f"fixture folder {FIXTURES} is missing; set CHESS_FIXTURES_DIR")
    return FIXTURES


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The admin URL of the local PostgreSQL server."""
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=5):
            pass
    except psycopg.Error as error:
        _unavailable("PostgreSQL", error)
    return PG_ADMIN_URL


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database of its own for one test, dropped afterwards."""
    import psycopg

    name = f"cp_test_{secrets.token_hex(6)}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = postgres_server.rsplit("/", 1)[0]
    try:
        yield f"postgresql://{base.split('://', 1)[1]}/{name}"
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file not created yet: a publish (or `serve`) creates and upgrades it itself."""
    return f"sqlite:///{tmp_path / 'serving.sqlite'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test runs once on SQLite and once on a fresh PostgreSQL database, migrated as
    `chess-patterns db upgrade` does (a publish to PostgreSQL refuses a stale schema)."""
    if request.param == "sqlite":
        sqlite: str = request.getfixturevalue("sqlite_url")
        return sqlite
    from adapters.database import Database
    from adapters.migrations import upgrade_schema

    url: str = request.getfixturevalue("postgres_url")
    upgrade_schema(Database.from_url(url))
    return url


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listens on at the moment (the OS chose it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis database number used by this test alone, flushed before and after."""
    import redis

    url = f"{REDIS_TEST_URL}/{secrets.randbelow(15) + 1}"
    client = redis.Redis.from_url(url, socket_connect_timeout=3)
    try:
        client.flushdb()
    except redis.RedisError as error:
        _unavailable("Redis", error)
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


@pytest.fixture(autouse=True, scope="session")
def _no_engine_by_default() -> Iterator[None]:
    """Refreshes in tests analyse no games unless a test asks (engine time is CI time).

    Session-wide, set before any fixture runs: module- and session-scoped fixtures that refresh
    a player (the reliability suite's clean runs, the API's real player) are set up before any
    function-scoped fixture, so a per-test setting came too late for them."""
    before = os.environ.get("ENGINE_BUDGET_GAMES")
    os.environ["ENGINE_BUDGET_GAMES"] = "0"
    yield
    if before is None:
        os.environ.pop("ENGINE_BUDGET_GAMES", None)
    else:
        os.environ["ENGINE_BUDGET_GAMES"] = before

"""The API cannot write: its session is read-only, and in production its role may only SELECT."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from adapters.database import Database
from adapters.db import SQL_DIR
from adapters.publish import publish_player
from tests.api.conftest import MakeClient
from tests.api.sample import alice

READER_ROLE_SQL = SQL_DIR / "reader_role.postgresql.sql"
WRITES = (
    "delete from players",
    "update players set game_count = 0",
    "create table intruder (a integer)",
)


@pytest.fixture
def published_pg(postgres_url: str) -> str:
    summaries, games = alice()
    publish_player(Database.from_url(postgres_url), "alice", summaries, games)
    return postgres_url


def _store(client: Any) -> Any:
    return client.app.state.store


def _players(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("select count(*) from players").fetchone()
    assert row is not None
    return int(row[0])


def test_a_fresh_connection_made_like_the_apis_cannot_write(
    published_pg: str, make_client: MakeClient
) -> None:
    """Outside any BEGIN READ ONLY of ours: the session itself refuses writes."""
    conninfo, kwargs = _store(make_client(published_pg)).connection_parameters()
    with psycopg.connect(conninfo, **kwargs) as conn:
        assert conn.autocommit  # each statement is its own transaction, as between API reads
        for statement in WRITES:
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                conn.execute(statement)
    assert _players(published_pg) == 1


def test_options_in_the_url_are_left_as_given(published_pg: str, make_client: MakeClient) -> None:
    url = published_pg + "?options=-c%20statement_timeout%3D5000"
    conninfo, kwargs = _store(make_client(url)).connection_parameters()
    assert "options" not in kwargs
    with psycopg.connect(conninfo, **kwargs) as conn:
        row = conn.execute("show statement_timeout").fetchone()
    assert row == ("5s",)


@pytest.fixture
def reader_url(published_pg: str) -> Iterator[str]:
    """A SELECT-only role made by sql/serving/reader_role.postgresql.sql (under a unique name:
    roles belong to the whole server), and a URL that logs in as it."""
    role = f"cp_reader_{secrets.token_hex(4)}"
    script = READER_ROLE_SQL.read_text(encoding="utf-8").replace("chess_patterns_reader", role)
    with psycopg.connect(published_pg, autocommit=True) as admin:
        admin.execute(script)  # a fixed file, no parameters
    user_and_host = published_pg.split("://", 1)[1].split("@", 1)[1]
    try:
        yield f"postgresql://{role}@{user_and_host}"
    finally:
        with psycopg.connect(published_pg, autocommit=True) as admin:
            admin.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity where usename = %s",
                (role,),
            )
            admin.execute(f'drop owned by "{role}"')
            admin.execute(f'drop role "{role}"')


def test_the_reader_role_serves_and_cannot_write(
    published_pg: str, reader_url: str, make_client: MakeClient
) -> None:
    client = make_client(published_pg, api_database_url=reader_url)
    assert client.get("/v1/players/alice").status_code == 200
    assert client.get("/v1/players/alice/summaries/results").status_code == 200
    assert client.get("/v1/players/alice/games").json()["total"] == 5
    store = _store(client)
    assert client.portal is not None
    role = reader_url.split("://", 1)[1].split("@", 1)[0]
    assert client.portal.call(store.read, ["select current_user"]) == [[(role,)]]
    for statement in WRITES:
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            client.portal.call(store.read, [statement])

    # Even asking for a read-write transaction, outside the API's own wrapper: no privilege.
    conninfo, kwargs = store.connection_parameters(session_read_only=False)
    with psycopg.connect(conninfo, **kwargs) as conn:
        for statement in WRITES:
            conn.execute("begin read write")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
            conn.execute("rollback")
        # The role's own setting holds without any startup option (it survives any pooler).
        row = conn.execute("show default_transaction_read_only").fetchone()
        assert row == ("on",)
    assert _players(published_pg) == 1

    # Tables the owner creates later (`db upgrade` rebuilding a summary) stay readable.
    with psycopg.connect(published_pg, autocommit=True) as owner:
        owner.execute("create table later_summary (a integer)")
        owner.execute("insert into later_summary values (7)")
    assert client.portal.call(store.read, ["select a from later_summary"]) == [[(7,)]]

"""Reads of the published tables from Python (the terminal report, tests): one snapshot each."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, inspect

from adapters.database import Database
from adapters.db import fetch_definitions, fetch_player, fetch_summary_rows
from transforms.usernames import normalize_username


@dataclass(frozen=True)
class PublishedPlayer:
    """A player's profile and the rows of every published summary, all from one snapshot."""

    profile: dict[str, Any]
    summaries: dict[str, list[dict[str, Any]]]

    @property
    def snapshot_id(self) -> str:
        return str(self.profile["snapshot_id"])


@contextmanager
def snapshot(database: Database) -> Iterator[Connection | None]:
    """One read-only transaction that sees one state of the database throughout (PostgreSQL:
    REPEATABLE READ, as READ COMMITTED takes a new snapshot per statement; SQLite: a deferred
    transaction holds its WAL snapshot from the first read). None: nothing published yet."""
    if not database.exists():
        yield None
        return
    engine = database.reader().engine()
    try:
        with engine.connect() as conn:
            if database.dialect == "postgresql":
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn if inspect(conn).has_table("players") else None
    finally:
        engine.dispose()


def read_published(
    database: Database,
    username: str,
    *,
    after_each: Callable[[str], object] | None = None,
) -> PublishedPlayer | None:
    """The player's profile and every summary's rows, read in one transaction, so from one
    snapshot even while the player is published again; None if never published.

    after_each(name) runs after each summary is read: the seam where a test publishes again
    halfway through.
    """
    username = normalize_username(username)
    with snapshot(database) as conn:
        if conn is None:
            return None
        profile = fetch_player(conn, username)
        if profile is None:
            return None
        tables: dict[str, list[dict[str, Any]]] = {}
        for name, definition in sorted(fetch_definitions(conn).items()):
            _, tables[name] = fetch_summary_rows(conn, definition, username)
            if after_each is not None:
                after_each(name)
        return PublishedPlayer(profile, tables)


def read_player(database: Database, username: str) -> dict[str, Any] | None:
    """The published profile of a player (snapshot id, published at, summaries...), or None."""
    username = normalize_username(username)
    with snapshot(database) as conn:
        return None if conn is None else fetch_player(conn, username)


def read_summary_rows(database: Database, username: str, name: str) -> list[dict[str, Any]]:
    """One player's published rows of a summary, as dicts of its columns; [] if none."""
    username = normalize_username(username)
    with snapshot(database) as conn:
        if conn is None:
            return []
        definitions = fetch_definitions(conn)
        definition = definitions.get(name)
        if definition is None:
            raise ValueError(f"no summary named {name!r}: published are {sorted(definitions)}")
        _, rows = fetch_summary_rows(conn, definition, username)
        return rows

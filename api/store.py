"""Read-only access to the published tables (blocking; the routes call it from a thread)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from adapters.db import (
    SummaryDefinition,
    dialect_of,
    fetch_definitions,
    fetch_player,
    fetch_summary_rows,
    make_engine,
)
from api.problems import DatabaseUnavailableError

T = TypeVar("T")

Profile = dict[str, Any]
Rows = list[dict[str, Any]]


def _missing_table(error: DBAPIError) -> bool:
    """A database that was never published to: no schema yet."""
    message = str(error.orig).lower()
    return "no such table" in message or (
        isinstance(error, ProgrammingError) and "does not exist" in message
    )


class Store:
    """The API's only way into the database: every transaction is read-only.

    PostgreSQL: each transaction begins READ ONLY at REPEATABLE READ (set per transaction by
    psycopg, so a transaction-mode pooler sees no session state); SQLite: the file is opened
    with mode=ro and each read runs in one deferred transaction (a WAL snapshot).
    """

    def __init__(self, database_url: str, *, connect_timeout: int = 5, pool_size: int = 8) -> None:
        self.dialect = dialect_of(database_url)
        self.engine = make_engine(
            database_url,
            read_only=True,
            pooled=True,
            connect_timeout=connect_timeout,
            pool_size=pool_size,
        )
        if self.dialect == "postgresql":
            self.engine = self.engine.execution_options(isolation_level="REPEATABLE READ")

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A read-only transaction (tests use it to prove that writes fail)."""
        with self.engine.connect() as conn:
            yield conn

    def _run(self, work: Callable[[Connection], T], *, missing: T) -> T:
        for attempt in (1, 2):
            try:
                with self.engine.connect() as conn:
                    return work(conn)
            except DBAPIError as error:
                if _missing_table(error):
                    return missing
                # A pooled connection the server dropped (restart, Neon suspend): try a fresh one.
                if error.connection_invalidated and attempt == 1:
                    continue
                raise DatabaseUnavailableError(str(error.orig).strip()) from error
            except PoolTimeout as error:
                raise DatabaseUnavailableError("no database connection free in time") from error
        raise AssertionError("unreachable")

    def ping(self) -> None:
        self._run(lambda conn: conn.execute(text("select 1")).scalar_one(), missing=None)

    def player(self, username: str) -> Profile | None:
        return self._run(lambda conn: fetch_player(conn, username), missing=None)

    def definitions(self) -> dict[str, SummaryDefinition]:
        return self._run(fetch_definitions, missing={})

    def player_and_rows(
        self, username: str, definition: SummaryDefinition
    ) -> tuple[Profile | None, Rows]:
        """The profile and one summary's rows from one snapshot of the database."""

        def work(conn: Connection) -> tuple[Profile | None, Rows]:
            profile = fetch_player(conn, username)
            if profile is None:
                return None, []
            snapshot, rows = fetch_summary_rows(conn, definition, username)
            if snapshot is not None and snapshot != profile["snapshot_id"]:
                raise AssertionError("rows of another snapshot inside one read transaction")
            return profile, rows

        nothing: tuple[Profile | None, Rows] = (None, [])
        return self._run(work, missing=nothing)

    def close(self) -> None:
        self.engine.dispose()

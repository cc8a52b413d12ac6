"""Read-only access to the published tables: async psycopg for PostgreSQL, threads for SQLite."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.concurrency import run_in_threadpool

from adapters.db import (
    SummaryDefinition,
    decode_player,
    decode_player_with_rows,
    definition_from_row,
    dialect_of,
    fetch_definitions,
    fetch_player,
    make_engine,
    player_with_rows_sql,
    queries,
)
from api.problems import DatabaseUnavailableError

T = TypeVar("T")

Profile = dict[str, Any]
Rows = list[dict[str, Any]]
Records = list[tuple[Any, ...]]

# Longest a request waits for the database (connect, pool, query) before answering 503.
DATABASE_WAIT_SECONDS = 10.0


class Store(Protocol):
    """What the routes need from the database; every implementation is read-only."""

    async def player(self, username: str) -> Profile | None: ...

    async def definitions(self) -> dict[str, SummaryDefinition]: ...

    async def player_and_rows(
        self, username: str, definition: SummaryDefinition
    ) -> tuple[Profile | None, Rows]: ...

    async def read(self, statements: Sequence[str]) -> list[Records]:
        """Runs statements in one read-only transaction of the API's connection (tests use it
        to prove that writes fail, and to read several tables from one snapshot)."""
        ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


def open_store(database_url: str, *, pool_size: int = 8) -> Store:
    """The store for a DATABASE_URL; nothing connects before the first request."""
    if dialect_of(database_url) == "postgresql":
        return PostgresStore(database_url, pool_size=pool_size)
    return SqliteStore(database_url, pool_size=pool_size)


# -------------------------------------------------------------------------------------------------
# PostgreSQL: psycopg's async connections on the event loop (no thread hop per request)


def _missing_table_pg(error: Exception) -> bool:
    import psycopg.errors

    return isinstance(error, psycopg.errors.UndefinedTable)


class PostgresStore:
    """Read-only PostgreSQL access that is safe behind a transaction-mode pooler (Neon).

    Each connection is marked read-only and REPEATABLE READ on the client (psycopg sends
    BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY with each transaction: no session state),
    prepared statements are off, the URL's TLS and libpq settings pass through as given.
    """

    def __init__(self, database_url: str, *, pool_size: int, connect_timeout: int = 5) -> None:
        rest = database_url.split("://", 1)[1]
        self.conninfo = f"postgresql://{rest}"
        self.connect_timeout = connect_timeout
        self.pool_size = pool_size
        self._idle: list[Any] = []
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sql: dict[str, str] = {}

    def _statement(self, definition: SummaryDefinition) -> str:
        key = f"{definition.name}@{definition.version}"
        if key not in self._sql:
            self._sql[key] = player_with_rows_sql(definition, "%s")
        return self._sql[key]

    def _bind_loop(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._slots is None or self._loop is not loop:
            # Connections and semaphores belong to one loop (tests start several).
            self._idle = []
            self._slots = asyncio.Semaphore(self.pool_size)
            self._loop = loop
        return self._slots

    async def _connect(self) -> Any:
        import psycopg

        kwargs: dict[str, Any] = {"prepare_threshold": None}
        if "connect_timeout" not in self.conninfo:
            kwargs["connect_timeout"] = self.connect_timeout
        conn = await psycopg.AsyncConnection.connect(self.conninfo, **kwargs)
        await conn.set_read_only(True)
        await conn.set_isolation_level(psycopg.IsolationLevel.REPEATABLE_READ)
        return conn

    async def _run(self, work: Callable[[Any], Any], *, missing: Any) -> Any:
        import psycopg

        slots = self._bind_loop()
        try:
            await asyncio.wait_for(slots.acquire(), DATABASE_WAIT_SECONDS)
        except TimeoutError as error:
            raise DatabaseUnavailableError("no database connection free in time") from error
        try:
            for attempt in (1, 2):
                reused = bool(self._idle)
                conn = None
                try:
                    conn = self._idle.pop() if reused else await self._connect()
                    result = await asyncio.wait_for(work(conn), DATABASE_WAIT_SECONDS)
                    await conn.rollback()
                    self._idle.append(conn)
                    return result
                except psycopg.Error as error:
                    if conn is not None:
                        await _discard(conn)
                    if _missing_table_pg(error):
                        return missing
                    if isinstance(error, psycopg.OperationalError | psycopg.InterfaceError):
                        # A pooled connection the server dropped (restart, Neon suspend): once
                        # more on a fresh one.
                        if reused and attempt == 1:
                            continue
                        raise DatabaseUnavailableError(str(error).strip()) from error
                    raise
                except TimeoutError as error:
                    if conn is not None:
                        await _discard(conn)
                    raise DatabaseUnavailableError("the database did not answer in time") from error
            raise AssertionError("unreachable")
        finally:
            slots.release()

    async def player(self, username: str) -> Profile | None:
        sql = queries()["select_player"].replace(":username", "%s")

        async def work(conn: Any) -> Profile | None:
            cursor = await conn.execute(sql, (username,))
            record = await cursor.fetchone()
            if record is None:
                return None
            return decode_player(record)

        result: Profile | None = await self._run(work, missing=None)
        return result

    async def definitions(self) -> dict[str, SummaryDefinition]:
        sql = queries()["select_definitions"]

        async def work(conn: Any) -> dict[str, SummaryDefinition]:
            cursor = conn.cursor(row_factory=_dict_rows)
            await cursor.execute(sql)
            return {d.name: d for d in map(definition_from_row, await cursor.fetchall())}

        result: dict[str, SummaryDefinition] = await self._run(work, missing={})
        return result

    async def player_and_rows(
        self, username: str, definition: SummaryDefinition
    ) -> tuple[Profile | None, Rows]:
        sql = self._statement(definition)

        async def work(conn: Any) -> tuple[Profile | None, Rows]:
            cursor = await conn.execute(sql, (username,))
            return decode_player_with_rows(definition, await cursor.fetchall(), typed=True)

        result: tuple[Profile | None, Rows] = await self._run(work, missing=(None, []))
        return result

    async def read(self, statements: Sequence[str]) -> list[Records]:
        async def work(conn: Any) -> list[Records]:
            out = []
            for statement in statements:
                cursor = await conn.execute(statement)
                out.append(await cursor.fetchall() if cursor.description else [])
            return out

        result: list[Records] = await self._run(work, missing=[])
        return result

    async def ping(self) -> None:
        async def work(conn: Any) -> None:
            await conn.execute("select 1")

        await self._run(work, missing=None)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            await _discard(conn)


def _dict_rows(cursor: Any) -> Callable[[Sequence[Any]], dict[str, Any]]:
    names = [c.name for c in cursor.description]
    return lambda values: dict(zip(names, values, strict=True))


async def _discard(conn: Any) -> None:
    try:
        await conn.close()
    except Exception:  # closing a broken connection may fail too; it is gone either way
        return


# -------------------------------------------------------------------------------------------------
# SQLite: the file opened mode=ro, blocking reads in a thread


def _missing_table(error: DBAPIError) -> bool:
    message = str(error.orig).lower()
    return "no such table" in message or (
        isinstance(error, ProgrammingError) and "does not exist" in message
    )


class SqliteStore:
    """Read-only SQLite access: mode=ro, and one deferred transaction (a WAL snapshot) per read."""

    def __init__(self, database_url: str, *, pool_size: int, connect_timeout: int = 5) -> None:
        self.engine = make_engine(
            database_url,
            read_only=True,
            pooled=True,
            connect_timeout=connect_timeout,
            pool_size=pool_size,
        )

    def _run_sync(self, work: Callable[[Connection], T], missing: T) -> T:
        try:
            with self.engine.connect() as conn:
                return work(conn)
        except DBAPIError as error:
            if _missing_table(error):
                return missing
            raise DatabaseUnavailableError(str(error.orig).strip()) from error
        except PoolTimeout as error:
            raise DatabaseUnavailableError("no database connection free in time") from error

    async def _run(self, work: Callable[[Connection], T], missing: T) -> T:
        return await run_in_threadpool(self._run_sync, work, missing)

    async def player(self, username: str) -> Profile | None:
        return await self._run(lambda conn: fetch_player(conn, username), None)

    async def definitions(self) -> dict[str, SummaryDefinition]:
        return await self._run(fetch_definitions, {})

    async def player_and_rows(
        self, username: str, definition: SummaryDefinition
    ) -> tuple[Profile | None, Rows]:
        statement = text(player_with_rows_sql(definition, ":username"))

        def work(conn: Connection) -> tuple[Profile | None, Rows]:
            records = conn.execute(statement, {"username": username}).all()
            return decode_player_with_rows(definition, [tuple(r) for r in records])

        nothing: tuple[Profile | None, Rows] = (None, [])
        return await self._run(work, nothing)

    async def read(self, statements: Sequence[str]) -> list[Records]:
        def work() -> list[Records]:
            out: list[Records] = []
            with self.engine.connect() as conn:
                for statement in statements:
                    result = conn.exec_driver_sql(statement)
                    out.append([tuple(r) for r in result] if result.returns_rows else [])
            return out

        # Errors propagate as they are: a refused write must not pass for "no schema yet".
        return await run_in_threadpool(work)

    async def ping(self) -> None:
        await self._run(lambda conn: conn.execute(text("select 1")).scalar_one(), None)

    async def close(self) -> None:
        self.engine.dispose()

"""Read-only access to the published tables: open_store, and async psycopg for PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from adapters.database import Database
from adapters.db import (
    SummaryDefinition,
    decode_player,
    decode_player_with_rows,
    definition_from_row,
    player_with_rows_sql,
    queries,
)
from api.games import GamesQuery, decode_games_page
from api.problems import DatabaseUnavailableError
from api.store_types import Profile, Records, Rows, Store, StoredGamesPage

T = TypeVar("T")

log = logging.getLogger(__name__)

# libpq startup options of the API's PostgreSQL sessions: every transaction is read-only unless
# it says otherwise, so a write needs an explicit READ WRITE (which a SELECT-only role also fails).
READ_ONLY_OPTIONS = "-c default_transaction_read_only=on"

# A `:name` parameter of queries.sql (not a `::` cast).
_NAMED_PARAMETER = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")

# Longest a request waits for the database (connect, pool, query) before answering 503.
DATABASE_WAIT_SECONDS = 10.0


def open_store(database: Database, *, pool_size: int = 8) -> Store:
    """The read-only store of a database; nothing connects before the first request."""
    if database.dialect == "postgresql":
        return PostgresStore(database, pool_size=pool_size)
    from api.sqlite_store import SqliteStore

    return SqliteStore(database, pool_size=pool_size)


# -------------------------------------------------------------------------------------------------
# PostgreSQL: psycopg's async connections on the event loop (no thread hop per request)


def _missing_table_pg(error: Exception) -> bool:
    import psycopg.errors

    return isinstance(error, psycopg.errors.UndefinedTable)


class PostgresStore:
    """Read-only PostgreSQL access that is safe behind a transaction-mode pooler (Neon).

    A read is one simple-protocol message, `BEGIN ... READ ONLY; SELECT ...; ROLLBACK`: one round
    trip, the transaction opens and closes inside it, so a pooler in transaction mode sees no
    session state; connections stay in autocommit between reads. The username is bound by
    psycopg's client-side binding (ClientCursor), never formatted into the text by us.
    Prepared statements are off; the URL's TLS and libpq settings pass through as given.
    """

    def __init__(self, database: Database, *, pool_size: int, connect_timeout: int = 5) -> None:
        self.conninfo = database.conninfo
        self.connect_timeout = connect_timeout
        self.pool_size = pool_size
        self._idle: list[Any] = []
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sql: dict[str, str] = {}
        self._startup_options = True

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

    def connection_parameters(
        self, *, session_read_only: bool = True
    ) -> tuple[str, dict[str, Any]]:
        """The conninfo and keyword arguments every connection of the API is made with.

        First guard: unless the URL sets libpq `options` itself, the session starts with
        `default_transaction_read_only=on`, so even a statement outside our BEGIN READ ONLY
        cannot write. A transaction-mode pooler (PgBouncer, Neon's pooled endpoint) may refuse
        startup options ("unsupported startup parameter"); then the API connects without them
        and warns (see _connect). Production should set API_DATABASE_URL to a role that may
        only SELECT (sql/serving/reader_role.postgresql.sql), which holds through any pooler.
        Second guard: every read runs inside BEGIN ... READ ONLY.
        """
        from psycopg.conninfo import conninfo_to_dict

        kwargs: dict[str, Any] = {"prepare_threshold": None, "autocommit": True}
        given = conninfo_to_dict(self.conninfo)
        if "connect_timeout" not in given:
            kwargs["connect_timeout"] = self.connect_timeout
        if session_read_only and "options" not in given:
            kwargs["options"] = READ_ONLY_OPTIONS
        return self.conninfo, kwargs

    async def _connect(self) -> Any:
        import psycopg

        conninfo, kwargs = self.connection_parameters(session_read_only=self._startup_options)
        try:
            return await psycopg.AsyncConnection.connect(conninfo, **kwargs)
        except psycopg.OperationalError as error:
            if "options" not in kwargs or "startup parameter" not in str(error):
                raise
            log.warning(
                "the database (or a pooler in front of it) refuses startup options: the API's "
                "connections rely on BEGIN READ ONLY alone; set API_DATABASE_URL to a SELECT-only "
                "role (sql/serving/reader_role.postgresql.sql). %s",
                str(error).strip(),
            )
            self._startup_options = False
            conninfo, kwargs = self.connection_parameters(session_read_only=False)
            return await psycopg.AsyncConnection.connect(conninfo, **kwargs)

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
                    self._idle.append(conn)
                    return result
                except psycopg.Error as error:
                    # The transaction may be left open (a failed statement): never reuse it.
                    if conn is not None:
                        await _discard(conn)
                    if _missing_table_pg(error):
                        return missing
                    if isinstance(error, psycopg.OperationalError | psycopg.InterfaceError):
                        # A pooled connection the server dropped (restart, Neon suspend): the
                        # other idle ones went with it, so drop them all and retry on a new one.
                        if reused and attempt == 1:
                            await self.close()
                            continue
                        raise DatabaseUnavailableError(str(error).strip()) from error
                    raise
                except TimeoutError as error:
                    if conn is not None:
                        await _discard(conn)
                    raise DatabaseUnavailableError("the database did not answer in time") from error
                except Exception:
                    if conn is not None:
                        await _discard(conn)
                    raise
            raise AssertionError("unreachable")
        finally:
            slots.release()

    @staticmethod
    async def _query(conn: Any, sql: str, params: Sequence[Any] = ()) -> Records:
        """Rows of one SELECT, run inside its own read-only transaction, in one round trip."""
        from psycopg import AsyncClientCursor

        cursor = AsyncClientCursor(conn)
        sqls = queries()
        await cursor.execute(
            f"{sqls['begin_read_only']}; {sql}; {sqls['end_read_only']}", params or None
        )
        cursor.nextset()
        records: Records = await cursor.fetchall()
        return records

    async def player(self, username: str) -> Profile | None:
        sql = queries()["select_player"].replace(":username", "%s")

        async def work(conn: Any) -> Profile | None:
            records = await self._query(conn, sql, (username,))
            return decode_player(records[0]) if records else None

        result: Profile | None = await self._run(work, missing=None)
        return result

    async def definitions(self) -> dict[str, SummaryDefinition]:
        sql = queries()["select_definitions"]
        names = ("name", "version", "title", "definition", "columns", "table_name")

        async def work(conn: Any) -> dict[str, SummaryDefinition]:
            records = await self._query(conn, sql)
            found = (definition_from_row(dict(zip(names, r, strict=True))) for r in records)
            return {d.name: d for d in found}

        result: dict[str, SummaryDefinition] = await self._run(work, missing={})
        return result

    async def player_and_rows(
        self, username: str, definition: SummaryDefinition
    ) -> tuple[Profile | None, Rows]:
        sql = self._statement(definition)

        async def work(conn: Any) -> tuple[Profile | None, Rows]:
            records = await self._query(conn, sql, (username,))
            return decode_player_with_rows(definition, records, typed=True)

        result: tuple[Profile | None, Rows] = await self._run(work, missing=(None, []))
        return result

    async def games_page(self, username: str, query: GamesQuery) -> StoredGamesPage:
        sql = self._sql.get("select_games_page")
        if sql is None:
            # Named client-side parameters: psycopg renders the values into the one message, so
            # the planner sees the constants and folds the filters that are not given.
            sql = _NAMED_PARAMETER.sub(r"%(\1)s", queries()["select_games_page"])
            self._sql["select_games_page"] = sql
        params = {"username": username, **query.parameters("postgresql")}

        async def work(conn: Any) -> StoredGamesPage:
            from psycopg import AsyncClientCursor

            cursor = AsyncClientCursor(conn)
            sqls = queries()
            await cursor.execute(
                f"{sqls['begin_read_only']}; {sql}; {sqls['end_read_only']}", params
            )
            cursor.nextset()
            return decode_games_page(await cursor.fetchall(), typed=True)

        nothing: StoredGamesPage = (None, 0, [])
        result: StoredGamesPage = await self._run(work, missing=nothing)
        return result

    async def read(self, statements: Sequence[str]) -> list[Records]:
        async def work(conn: Any) -> list[Records]:
            await conn.execute(queries()["begin_read_only"])
            out = []
            for statement in statements:
                cursor = await conn.execute(statement)
                out.append(await cursor.fetchall() if cursor.description else [])
            await conn.execute(queries()["end_read_only"])
            return out

        result: list[Records] = await self._run(work, missing=[])
        return result

    async def ping(self) -> None:
        async def work(conn: Any) -> None:
            await self._query(conn, queries()["ping"])

        await self._run(work, missing=None)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            await _discard(conn)


async def _discard(conn: Any) -> None:
    try:
        await conn.close()
    except Exception:  # closing a broken connection may fail too; it is gone either way
        return

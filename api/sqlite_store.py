"""Read-only SQLite access for the API: the file opened mode=ro, blocking reads in a thread."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.concurrency import run_in_threadpool

from adapters.database import Database
from adapters.db import (
    SummaryDefinition,
    decode_player_with_rows,
    fetch_definitions,
    fetch_player,
    player_with_rows_sql,
    queries,
)
from api.games import GamesQuery, decode_games_page
from api.problems import DatabaseUnavailableError
from api.store_types import Profile, Records, Rows, StoredGamesPage

T = TypeVar("T")


def _missing_table(error: DBAPIError) -> bool:
    message = str(error.orig).lower()
    return "no such table" in message or (
        isinstance(error, ProgrammingError) and "does not exist" in message
    )


class SqliteStore:
    """Read-only SQLite access: mode=ro, and one deferred transaction (a WAL snapshot) per read."""

    def __init__(self, database: Database, *, pool_size: int, connect_timeout: int = 5) -> None:
        self.engine = database.reader().engine(
            pooled=True, connect_timeout=connect_timeout, pool_size=pool_size
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

    async def games_page(self, username: str, query: GamesQuery) -> StoredGamesPage:
        statement = text(queries()["select_games_page"])
        params = {"username": username, **query.parameters("sqlite")}

        def work(conn: Connection) -> StoredGamesPage:
            records = conn.execute(statement, params).all()
            return decode_games_page([tuple(r) for r in records], typed=False)

        nothing: StoredGamesPage = (None, 0, [])
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
        await self._run(lambda conn: conn.execute(text(queries()["ping"])).scalar_one(), None)

    async def close(self) -> None:
        self.engine.dispose()

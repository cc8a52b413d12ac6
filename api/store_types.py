"""What the API's routes need from the database: the Store protocol and the row types it returns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from adapters.db import SummaryDefinition
from api.games import GamesQuery

Profile = dict[str, Any]
Rows = list[dict[str, Any]]
Records = list[tuple[Any, ...]]
# profile (None: never published), games matching the query, one page of them; the response
# model of the route is api.models.GamesPage
StoredGamesPage = tuple[Profile | None, int, Rows]


class Store(Protocol):
    """What the routes need from the database; every implementation is read-only."""

    async def player(self, username: str) -> Profile | None: ...

    async def definitions(self) -> dict[str, SummaryDefinition]: ...

    async def player_and_rows(
        self, username: str, definition: SummaryDefinition
    ) -> tuple[Profile | None, Rows]: ...

    async def games_page(self, username: str, query: GamesQuery) -> StoredGamesPage:
        """The player, the number of games matching the query and one page of them, read in one
        statement (so from one snapshot)."""
        ...

    async def read(self, statements: Sequence[str]) -> list[Records]:
        """Runs statements in one read-only transaction of the API's connection (tests use it
        to prove that writes fail, and to read several tables from one snapshot)."""
        ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...

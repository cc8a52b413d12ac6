"""Models of the API's parameters and responses: they document the OpenAPI schema only."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api import games
from api.games import GameColor, GameResult, GameTermination, GameTimeClass
from api.params import SUMMARY_NAME_PATTERN, USERNAME_PATTERN, SummaryColor, SummaryTimeClass

_SNAPSHOT = "3f1c2a9b8e7d6c5b4a39"


class SummaryRef(BaseModel):
    """One summary published for the player."""

    name: str = Field(description="Summary name, as used in the summary route.")
    version: int = Field(description="Definition version the rows were computed with.")
    title: str
    rows: int = Field(description="Rows published for this player.")
    href: str = Field(description="Route of the summary for this player.")


class PlayerProfile(BaseModel):
    """The player's current snapshot and what it contains."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "username": "hikaru",
                    "snapshot_id": _SNAPSHOT,
                    "published_at": "2026-01-02T03:04:05.123456Z",
                    "game_count": 5,
                    "first_game_at": "2024-01-01T12:00:00Z",
                    "last_game_at": "2024-01-05T12:00:00Z",
                    "published_bytes": 2646,
                    "summaries": [
                        {
                            "name": "results",
                            "version": 1,
                            "title": "Results by time class and colour",
                            "rows": 9,
                            "href": "/v1/players/hikaru/summaries/results",
                        }
                    ],
                    "games_href": "/v1/players/hikaru/games",
                }
            ]
        }
    )

    username: str = Field(description="Lowercase Chess.com username.")
    snapshot_id: str = Field(
        description="Content hash of the published data; the same data gives the same id."
    )
    published_at: datetime
    game_count: int = Field(description="Games in the snapshot.")
    first_game_at: datetime | None = Field(description="End time of the earliest game.")
    last_game_at: datetime | None = Field(description="End time of the latest game.")
    published_bytes: int = Field(description="Bytes the player's rows occupy in the database.")
    summaries: list[SummaryRef]
    games_href: str = Field(description="Route of the player's games (the drill-down).")


class ColumnInfo(BaseModel):
    """A column of the summary's rows."""

    name: str
    type: Literal["text", "integer", "real", "boolean", "timestamp", "date"]
    role: Literal["key", "dimension", "metric"]
    description: str


class SampleSize(BaseModel):
    """How many games stand behind the numbers."""

    games: int = Field(description="Games of the player in the snapshot.")
    rows: int = Field(description="Rows in this response (after filters).")
    column: str | None = Field(
        description="The per-row sample-size column (`games` or `n`), when the summary has one."
    )


class SummaryResponse(BaseModel):
    """One summary of one player, from one snapshot."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "username": "hikaru",
                    "summary": "results",
                    "title": "Results by time class and colour",
                    "version": 1,
                    "definition": "Every game of the player, grouped by time class and colour.",
                    "snapshot_id": _SNAPSHOT,
                    "published_at": "2026-01-02T03:04:05.123456Z",
                    "route": "/v1/players/hikaru/summaries/results",
                    "query": {"color": "white"},
                    "sample_size": {"games": 5, "rows": 1, "column": "games"},
                    "columns": [
                        {
                            "name": "games",
                            "type": "integer",
                            "role": "metric",
                            "description": "Games in the group.",
                        }
                    ],
                    "rows": [{"username": "hikaru", "time_class": "all", "color": "white"}],
                }
            ]
        }
    )

    username: str
    summary: str = Field(description="Summary name.")
    title: str
    version: int = Field(description="Definition version; it goes up when the definition changes.")
    definition: str = Field(description="How the numbers are computed, in words.")
    snapshot_id: str = Field(description="The snapshot the rows come from (also in the ETag).")
    published_at: datetime
    route: str = Field(description="The route that produced this response.")
    query: dict[str, str] = Field(description="The filters applied.")
    sample_size: SampleSize
    columns: list[ColumnInfo]
    rows: list[dict[str, Any]] = Field(description="One object per row, keyed by column name.")


class GameRow(BaseModel):
    """One game from the player's side: the facts a summary's numbers are counted from."""

    game_id: str = Field(description="Chess.com game uuid (or a derived id for PGN imports).")
    url: str | None = Field(description="The game on chess.com.")
    end_time: datetime | None = Field(description="When the game ended (UTC).")
    time_class: str | None = Field(description="bullet, blitz, rapid or daily.")
    color: str | None = Field(description="The player's colour: white or black.")
    rated: bool | None
    rating: int | None = Field(description="The player's rating after the game.")
    opponent: str | None = Field(description="Opponent's username as Chess.com displays it.")
    opponent_rating: int | None
    result: str | None = Field(description="The player's result: win, draw or loss.")
    termination: str | None = Field(description="How the game ended (checkmate, timeout, ...).")
    eco: str | None = Field(description="ECO code, e.g. C65.")
    opening_family: str | None = Field(description="From Chess.com's opening URL.")
    opening_variation: str | None
    plies: int | None = Field(description="Half-moves played.")
    accuracy: float | None = Field(description="The player's accuracy, when Chess.com has it.")


class GamesPage(BaseModel):
    """One page of a player's games matching the filters, newest first (game_id breaks ties)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "username": "hikaru",
                    "snapshot_id": _SNAPSHOT,
                    "published_at": "2026-01-02T03:04:05.123456Z",
                    "route": "/v1/players/hikaru/games",
                    "query": {"time_class": "blitz", "result": "loss"},
                    "limit": 1,
                    "offset": 0,
                    "total": 2,
                    "next": (
                        "/v1/players/hikaru/games?time_class=blitz&result=loss&limit=1&offset=1"
                    ),
                    "games": [
                        {
                            "game_id": "0c5f2b9e-1d3a-11ee-8a1b-6cfe544c0428",
                            "url": "https://www.chess.com/game/live/80123456789",
                            "end_time": "2024-01-05T12:00:00Z",
                            "time_class": "blitz",
                            "color": "white",
                            "rated": True,
                            "rating": 3251,
                            "opponent": "MagnusCarlsen",
                            "opponent_rating": 3280,
                            "result": "loss",
                            "termination": "resignation",
                            "eco": "C65",
                            "opening_family": "Ruy Lopez Opening",
                            "opening_variation": "Berlin Defense 4.d3",
                            "plies": 84,
                            "accuracy": 91.4,
                        }
                    ],
                }
            ]
        }
    )

    username: str
    snapshot_id: str = Field(description="The snapshot the games come from (also in the ETag).")
    published_at: datetime
    route: str = Field(description="The route that produced this response.")
    query: dict[str, str] = Field(
        description="The filters applied (normalised: eco upper-case, opponent lower-case)."
    )
    limit: int = Field(description="Largest number of games on this page.")
    offset: int = Field(description="Games skipped before this page.")
    total: int = Field(description="Games matching the filters, over all pages.")
    next: str | None = Field(
        description=(
            "The next page's route and query; null on the last. Pages are offsets into the "
            "current snapshot: if snapshot_id changes between pages, start again."
        )
    )
    games: list[GameRow]


class Health(BaseModel):
    """The process is alive (no database involved)."""

    status: Literal["ok"]


class Ready(BaseModel):
    """Whether the API can answer from the database, and the state of the Redis cache."""

    status: Literal["ready"]
    database: Literal["ok"]
    redis: Literal["ok", "down", "disabled"] = Field(
        description="`down` means answers come from the database and the in-process cache only."
    )


class ProblemDetails(BaseModel):
    """An error, as RFC 9457 problem details (`application/problem+json`)."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str


# -- parameters ----------------------------------------------------------------------------------
# The player routes parse their parameters by hand (api.params, api.games): FastAPI's per-request
# parameter machinery costs more than the rest of a cached answer. These models only document
# them (api.routes.common.openapi_parameters); the schemathesis test holds the two together.

_DATE_RANGE = (
    "(summaries with a date or month): a month row is kept when its month overlaps the range; "
    "roll-up rows (month `all`) are dropped whenever since or until is given."
)


class PlayerPath(BaseModel):
    """Path parameters of every player route."""

    username: str = Field(
        description="Chess.com username (any case; 1-50 letters, digits, '_' or '-').",
        pattern=USERNAME_PATTERN,
        examples=["shaunchess123"],
    )


class SummaryPath(PlayerPath):
    """Path parameters of the summary route."""

    name: str = Field(
        description="Summary name, from the player's profile.",
        pattern=SUMMARY_NAME_PATTERN,
        examples=["results"],
    )


class SummaryQuery(BaseModel):
    """Query parameters of the summary route."""

    time_class: SummaryTimeClass | None = Field(
        None, description="Keep rows of this time class (summaries with that dimension)."
    )
    color: SummaryColor | None = Field(
        None, description="Keep rows of this colour (summaries with that dimension)."
    )
    since: date | None = Field(None, description=f"Keep rows on or after this day {_DATE_RANGE}")
    until: date | None = Field(None, description=f"Keep rows on or before this day {_DATE_RANGE}")


class GamesQueryParameters(BaseModel):
    """Query parameters of the games route."""

    time_class: Literal["all", GameTimeClass] | None = Field(
        None,
        description="Only games of this time class (`all`: no filter; `unknown`: games without "
        "one, as the summaries label them).",
    )
    color: Literal["all", GameColor] | None = Field(
        None,
        description="Only games the player had this colour in (`all`: no filter; `unknown`: "
        "not known).",
    )
    result: GameResult | None = Field(
        None, description="Only games with this result for the player."
    )
    termination: GameTermination | None = Field(
        None,
        description="Only games that ended this way (`other` includes games whose termination "
        "is missing, as in the summaries).",
    )
    opening_family: str | None = Field(
        None,
        description="Only games of this opening family, exactly as in the summaries (e.g. "
        "`Sicilian Defense`; `unknown`: games without an opening, such as Chess960 games "
        "without an ECOUrl).",
        pattern=games.OPENING_FAMILY_PATTERN,
    )
    eco: str | None = Field(
        None,
        description="Only games with this ECO code (any case; `unknown`: games without one).",
        pattern=games.ECO_PATTERN,
    )
    rated: bool | None = Field(
        None,
        description="Only rated (true) or unrated (false) games; games imported from PGN, whose "
        "rated flag is unknown, match neither.",
    )
    since: date | None = Field(
        None, description="Only games that ended on or after this day (UTC)."
    )
    until: date | None = Field(
        None, description="Only games that ended on or before this day (UTC)."
    )
    opponent: str | None = Field(
        None,
        description="Only games against this opponent (username, any case).",
        pattern=games.OPPONENT_PATTERN,
    )
    limit: int = Field(
        games.DEFAULT_LIMIT,
        description=f"Games per page (default {games.DEFAULT_LIMIT}).",
        ge=1,
        le=games.MAX_LIMIT,
    )
    offset: int = Field(
        0,
        description="Games to skip (the `next` link of a page gives the following one).",
        ge=0,
        le=games.MAX_OFFSET,
    )


class Conditional(BaseModel):
    """The request header of a conditional GET."""

    if_none_match: str | None = Field(
        None,
        alias="if-none-match",
        description="An ETag from an earlier response: 304 when still current.",
    )

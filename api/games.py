"""The games drill-down: its validated query, the statement's parameters and the row decoding."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from starlette.datastructures import QueryParams

from adapters.database import Dialect
from adapters.db import GAMES_COLUMNS, decode_player, from_db, to_db
from api.params import check_keys, choice, day, invalid
from api.problems import ProblemError

# `unknown` (and termination `other`) select the games whose value is missing, under the label
# the summaries file them under, so every summary bucket has its games.
MISSING = "unknown"
TIME_CLASSES = ("bullet", "blitz", "rapid", "daily", MISSING)
COLORS = ("white", "black", MISSING)
RESULTS = ("win", "draw", "loss")
# The frame contract's termination values (transforms/games.py maps Chess.com's result codes).
TERMINATIONS = (
    "checkmate",
    "resignation",
    "timeout",
    "abandonment",
    "agreement",
    "repetition",
    "stalemate",
    "insufficient",
    "timevsinsufficient",
    "50move",
    "other",
)
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
# Deeper than any player's game count; keeps the number a plain integer in both databases.
MAX_OFFSET = 1_000_000
ECO_PATTERN = r"^(?:[A-Ea-e][0-9]{2}|unknown)$"
OPPONENT_PATTERN = r"^[A-Za-z0-9_-]{1,50}$"
# Families come from Chess.com's opening URL slugs (words joined by spaces, "...", digits, and
# whatever else a slug may carry), so only control characters and absurd lengths are refused.
OPENING_FAMILY_PATTERN = r"^[^\x00-\x1f\x7f]{1,200}$"
INTEGER_PATTERN = r"^[0-9]{1,7}$"

# The drill-down columns, in statement order (sql/serving/queries.sql: select_games_page).
PAGE_COLUMNS = (
    "game_id",
    "url",
    "end_time",
    "time_class",
    "color",
    "rated",
    "rating",
    "opponent",
    "opponent_rating",
    "result",
    "termination",
    "eco",
    "opening_family",
    "opening_variation",
    "plies",
    "accuracy",
)
_KINDS = dict(GAMES_COLUMNS)
PAGE_KINDS = tuple(_KINDS[c] for c in PAGE_COLUMNS)
PLAYER_WIDTH = 8  # adapters.db.PLAYER_COLUMNS, then the total, then PAGE_COLUMNS

_ECO = re.compile(ECO_PATTERN)
_OPPONENT = re.compile(OPPONENT_PATTERN)
_OPENING_FAMILY = re.compile(OPENING_FAMILY_PATTERN)
_INTEGER = re.compile(INTEGER_PATTERN)


@dataclass(frozen=True)
class GamesQuery:
    """The validated query of the games route: filters (None: not filtered) and the page."""

    time_class: str | None = None
    color: str | None = None
    result: str | None = None
    termination: str | None = None
    opening_family: str | None = None
    eco: str | None = None
    rated: bool | None = None
    since: date | None = None
    until: date | None = None
    opponent: str | None = None  # lowercase: Chess.com usernames are case-insensitive
    limit: int = DEFAULT_LIMIT
    offset: int = 0

    def as_query(self) -> dict[str, str]:
        """The filters applied, as query-string values (limit and offset excluded)."""
        out: dict[str, str] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if value is None or field.name in ("limit", "offset"):
                continue
            if isinstance(value, bool):
                out[field.name] = "true" if value else "false"
            elif isinstance(value, date):
                out[field.name] = value.isoformat()
            else:
                out[field.name] = str(value)
        return out

    def key(self) -> str:
        """Canonical form of filters and page: the cache key and the ETag's query."""
        pairs = sorted(self.as_query().items())
        pairs += [("limit", str(self.limit)), ("offset", str(self.offset))]
        return "&".join(f"{k}={v}" for k, v in pairs)

    def parameters(self, dialect: Dialect) -> dict[str, Any]:
        """The bound parameters of select_games_page (username added by the store)."""
        since = _midnight(self.since) if self.since else None
        # until is a whole day: end_time before the next midnight (UTC, as end_time is stored).
        before = _midnight(self.until + timedelta(days=1)) if self.until else None
        return {
            "time_class": self.time_class,
            "color": self.color,
            "result": self.result,
            "termination": self.termination,
            "opening_family": self.opening_family,
            "eco": self.eco,
            "rated": to_db("boolean", self.rated, dialect),
            "since": to_db("timestamp", since, dialect),
            "until_before": to_db("timestamp", before, dialect),
            "opponent": self.opponent,
            "limit": self.limit,
            "offset": self.offset,
        }


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


KNOWN_PARAMETERS = frozenset(f.name for f in fields(GamesQuery))


def _choice(params: QueryParams, name: str, allowed: tuple[str, ...]) -> str | None:
    if params.get(name) == "all" and name in ("time_class", "color"):
        return None  # "all" as in the summaries' rows: no filter
    return choice(params, name, allowed)


def _matching(
    params: QueryParams, name: str, pattern: re.Pattern[str], expected: str
) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if pattern.fullmatch(value):
        return value
    raise invalid(name, value, expected)


def _integer(params: QueryParams, name: str, default: int, low: int, high: int) -> int:
    value = params.get(name)
    if value is None:
        return default
    if _INTEGER.fullmatch(value) and low <= int(value) <= high:
        return int(value)
    raise invalid(name, value, f"an integer from {low} to {high}")


def _rated(params: QueryParams) -> bool | None:
    value = params.get("rated")
    if value is None:
        return None
    if value in ("true", "false"):
        return value == "true"
    raise invalid("rated", value, "true or false")


def parse_games_query(params: QueryParams) -> GamesQuery:
    """The query of the games route, or a 422 problem naming the first bad parameter."""
    if not params:
        return GamesQuery()
    check_keys(params, KNOWN_PARAMETERS)
    eco = _matching(params, "eco", _ECO, "an ECO code (A00-E99) or unknown")
    opponent = _matching(params, "opponent", _OPPONENT, "a Chess.com username")
    query = GamesQuery(
        time_class=_choice(params, "time_class", TIME_CLASSES),
        color=_choice(params, "color", COLORS),
        result=_choice(params, "result", RESULTS),
        termination=_choice(params, "termination", TERMINATIONS),
        opening_family=_matching(
            params, "opening_family", _OPENING_FAMILY, "an opening family (1-200 characters)"
        ),
        eco=eco if eco in (None, MISSING) else eco.upper(),
        rated=_rated(params),
        since=day(params, "since"),
        until=day(params, "until"),
        opponent=opponent.lower() if opponent else None,
        limit=_integer(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
        offset=_integer(params, "offset", 0, 0, MAX_OFFSET),
    )
    if query.since and query.until and query.since > query.until:
        raise ProblemError(422, "since is after until; swap them.")
    return query


def decode_games_page(
    records: Sequence[Sequence[Any]], *, typed: bool
) -> tuple[dict[str, Any] | None, int, list[dict[str, Any]]]:
    """(profile, matching games, page rows) of a select_games_page result; no profile: None.

    typed=True: the driver returns Python values (psycopg), so only timestamps are normalised.
    """
    if not records:
        return None, 0, []
    profile = decode_player(records[0][:PLAYER_WIDTH])
    total = int(records[0][PLAYER_WIDTH])
    rows: list[dict[str, Any]] = []
    for record in records:
        values = record[PLAYER_WIDTH + 1 :]
        if values[0] is None:  # the player has no game on this page (left join)
            continue
        if typed:
            row = dict(zip(PAGE_COLUMNS, values, strict=True))
            row["end_time"] = from_db("timestamp", row["end_time"])
        else:
            row = {
                name: from_db(kind, value)
                for name, kind, value in zip(PAGE_COLUMNS, PAGE_KINDS, values, strict=True)
            }
        rows.append(row)
    return profile, total, rows

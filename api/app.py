"""The FastAPI app factory: read-only routes over the published summaries."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from starlette.responses import Response

from adapters.database import Database
from api import games, page
from api.cache import RedisCache
from api.head import HeadMiddleware
from api.models import GamesPage, Health, PlayerProfile, ProblemDetails, Ready, SummaryResponse
from api.params import check_keys, choice, day
from api.problems import PROBLEM_JSON, ProblemError, install_problem_handlers, problem_response
from api.ratelimit import RateLimitMiddleware
from api.service import SNAPSHOT_CHECK_SECONDS, Answer, Filters, Service, etag_matches
from api.store import open_store
from transforms.usernames import InvalidUsernameError, normalize_username

if TYPE_CHECKING:
    from settings import Settings

USERNAME_PATTERN = r"^[A-Za-z0-9_-]{1,50}$"
SUMMARY_NAME_PATTERN = r"^[a-z_][a-z0-9_]{0,62}$"
TIME_CLASSES = ("all", "bullet", "blitz", "rapid", "daily")
COLORS = ("all", "white", "black")
SUMMARY_QUERY_KEYS = frozenset({"time_class", "color", "since", "until"})
DEFAULT_CACHE_ENTRIES = 4096
_SUMMARY_NAME = re.compile(SUMMARY_NAME_PATTERN)
NO_FILTERS = Filters()


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": ProblemDetails.model_json_schema()}},
    }


_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}}
_CACHING = {
    "ETag": {"description": "Snapshot id + route + query.", "schema": {"type": "string"}},
    "Cache-Control": {"description": "public, max-age=N", "schema": {"type": "string"}},
}
_ERRORS: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the If-None-Match ETag is current.", "headers": _CACHING},
    404: _problem("The player was never published, or has no such summary."),
    422: _problem("Invalid username or filter."),
    429: {**_problem("Too many requests from this address."), "headers": _RETRY_AFTER},
    503: {**_problem("The database is not reachable."), "headers": _RETRY_AFTER},
}

# The parameters of the two player routes are parsed by hand (below) rather than by FastAPI's
# per-request dependency machinery, which costs more than the rest of a cached answer; so they
# are documented here, and the schemathesis test holds the document and the parser together.
_USERNAME_PARAM = {
    "name": "username",
    "in": "path",
    "required": True,
    "description": "Chess.com username (any case; 1-50 letters, digits, '_' or '-').",
    "schema": {"type": "string", "pattern": USERNAME_PATTERN},
    "example": "shaunchess123",
}
_IF_NONE_MATCH_PARAM = {
    "name": "if-none-match",
    "in": "header",
    "required": False,
    "description": "An ETag from an earlier response: 304 when still current.",
    "schema": {"type": "string"},
}
_SUMMARY_PARAMS = [
    _USERNAME_PARAM,
    {
        "name": "name",
        "in": "path",
        "required": True,
        "description": "Summary name, from the player's profile.",
        "schema": {"type": "string", "pattern": SUMMARY_NAME_PATTERN},
        "example": "results",
    },
    {
        "name": "time_class",
        "in": "query",
        "required": False,
        "description": "Keep rows of this time class (summaries with that dimension).",
        "schema": {"type": "string", "enum": list(TIME_CLASSES)},
    },
    {
        "name": "color",
        "in": "query",
        "required": False,
        "description": "Keep rows of this colour (summaries with that dimension).",
        "schema": {"type": "string", "enum": list(COLORS)},
    },
    {
        "name": "since",
        "in": "query",
        "required": False,
        "description": "Keep rows on or after this day (summaries with a date or month): a "
        "month row is kept when its month overlaps the range; roll-up rows (month `all`) are "
        "dropped whenever since or until is given.",
        "schema": {"type": "string", "format": "date"},
    },
    {
        "name": "until",
        "in": "query",
        "required": False,
        "description": "Keep rows on or before this day (summaries with a date or month): a "
        "month row is kept when its month overlaps the range; roll-up rows (month `all`) are "
        "dropped whenever since or until is given.",
        "schema": {"type": "string", "format": "date"},
    },
    _IF_NONE_MATCH_PARAM,
]


def _query_param(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


_GAMES_PARAMS = [
    _USERNAME_PARAM,
    _query_param(
        "time_class",
        "Only games of this time class (`all`: no filter; `unknown`: games without one, as the "
        "summaries label them).",
        {"type": "string", "enum": ["all", *games.TIME_CLASSES]},
    ),
    _query_param(
        "color",
        "Only games the player had this colour in (`all`: no filter; `unknown`: not known).",
        {"type": "string", "enum": ["all", *games.COLORS]},
    ),
    _query_param(
        "result",
        "Only games with this result for the player.",
        {"type": "string", "enum": list(games.RESULTS)},
    ),
    _query_param(
        "termination",
        "Only games that ended this way (`other` includes games whose termination is missing, "
        "as in the summaries).",
        {"type": "string", "enum": list(games.TERMINATIONS)},
    ),
    _query_param(
        "opening_family",
        "Only games of this opening family, exactly as in the summaries (e.g. `Sicilian Defense`; "
        "`unknown`: games without an opening, such as Chess960 games without an ECOUrl).",
        {"type": "string", "pattern": games.OPENING_FAMILY_PATTERN},
    ),
    _query_param(
        "eco",
        "Only games with this ECO code (any case; `unknown`: games without one).",
        {"type": "string", "pattern": games.ECO_PATTERN},
    ),
    _query_param(
        "rated",
        "Only rated (true) or unrated (false) games; games imported from PGN, whose rated flag "
        "is unknown, match neither.",
        {"type": "boolean"},
    ),
    _query_param(
        "since",
        "Only games that ended on or after this day (UTC).",
        {"type": "string", "format": "date"},
    ),
    _query_param(
        "until",
        "Only games that ended on or before this day (UTC).",
        {"type": "string", "format": "date"},
    ),
    _query_param(
        "opponent",
        "Only games against this opponent (username, any case).",
        {"type": "string", "pattern": games.OPPONENT_PATTERN},
    ),
    _query_param(
        "limit",
        f"Games per page (default {games.DEFAULT_LIMIT}).",
        {
            "type": "integer",
            "minimum": 1,
            "maximum": games.MAX_LIMIT,
            "default": games.DEFAULT_LIMIT,
        },
    ),
    _query_param(
        "offset",
        "Games to skip (the `next` link of a page gives the following one).",
        {"type": "integer", "minimum": 0, "maximum": games.MAX_OFFSET, "default": 0},
    ),
    _IF_NONE_MATCH_PARAM,
]


def _normalize(username: str) -> str:
    try:
        return normalize_username(username)
    except InvalidUsernameError as error:
        raise ProblemError(422, str(error), errors=[{"loc": ["path", "username"]}]) from error


def _filters(request: Request) -> Filters:
    params = request.query_params
    if not params:
        return NO_FILTERS
    check_keys(params, SUMMARY_QUERY_KEYS)
    filters = Filters(
        choice(params, "time_class", TIME_CLASSES),
        choice(params, "color", COLORS),
        day(params, "since"),
        day(params, "until"),
    )
    if filters.since and filters.until and filters.since > filters.until:
        raise ProblemError(422, "since is after until; swap them.")
    return filters


def create_app(
    settings: Settings,
    *,
    cache_entries: int = DEFAULT_CACHE_ENTRIES,
    snapshot_ttl_seconds: float = SNAPSHOT_CHECK_SECONDS,
) -> FastAPI:
    """The API over settings.api_database_url (a SELECT-only role in production), else
    settings.resolved_database_url opened read-only; nothing connects until the first request.

    cache_entries=0 and snapshot_ttl_seconds=0 turn the in-process caches off (benchmarks).
    """
    store = open_store(Database.for_api(settings))
    redis = RedisCache(settings.redis_url)
    service = Service(
        store, redis, cache_entries=cache_entries, snapshot_ttl_seconds=snapshot_ttl_seconds
    )
    cache_control = f"public, max-age={settings.api_cache_max_age_seconds}"

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await redis.close()
        await store.close()

    app = FastAPI(
        title="Chess Pattern Analyzer",
        version="1",
        summary="Read-only pattern summaries of Chess.com players' own games.",
        description=(
            "Every response comes from one published snapshot of a player; its id is in the body "
            "and in the ETag. Errors are application/problem+json."
        ),
        lifespan=lifespan,
    )
    app.state.service = service
    app.state.store = store
    install_problem_handlers(app)
    app.include_router(page.router)  # the player page, its assets and the focus route
    app.add_middleware(RateLimitMiddleware, per_minute=settings.api_rate_limit_per_minute)
    app.add_middleware(HeadMiddleware)  # outermost: HEAD is a GET by the time anything sees it

    def respond(answer: Answer, *, current: bool) -> Response:
        headers = {"ETag": answer.etag, "Cache-Control": cache_control}
        if current:
            return Response(status_code=304, headers=headers)
        return Response(answer.body, media_type="application/json", headers=headers)

    @app.get(
        "/v1/players/{username}",
        response_model=None,
        responses={200: {"model": PlayerProfile, "headers": _CACHING}, **_ERRORS},
        summary="A player's published snapshot and its summaries",
        tags=["players"],
        openapi_extra={"parameters": [_USERNAME_PARAM, _IF_NONE_MATCH_PARAM]},
    )
    async def get_player(request: Request) -> Response:
        """Profile of the player's current snapshot and the list of its summaries."""
        user = _normalize(request.path_params["username"])
        profile = await service.profile(user)
        answer = await service.render_profile(user, profile, f"/v1/players/{user}")
        current = etag_matches(request.headers.get("if-none-match"), answer.etag)
        return respond(answer, current=current)

    @app.get(
        "/v1/players/{username}/summaries/{name}",
        response_model=None,
        responses={200: {"model": SummaryResponse, "headers": _CACHING}, **_ERRORS},
        summary="One summary of a player",
        tags=["players"],
        openapi_extra={"parameters": _SUMMARY_PARAMS},
    )
    async def get_summary(request: Request) -> Response:
        """The rows of one summary with its definition, version, snapshot id and sample sizes.
        Unknown or repeated query parameters are refused (422), so a misspelt filter never
        passes for "no filter"."""
        user = _normalize(request.path_params["username"])
        name = request.path_params["name"]
        if not _SUMMARY_NAME.fullmatch(name):
            raise ProblemError(
                422,
                f"path.name: {name[:40]!r} is not a summary name (lowercase a-z, 0-9, _)",
                errors=[{"loc": ["path", "name"]}],
            )
        filters = _filters(request)
        route = f"/v1/players/{user}/summaries/{name}"
        answer, current = await service.summary(
            user, name, filters, route, request.headers.get("if-none-match")
        )
        return respond(answer, current=current)

    @app.get(
        "/v1/players/{username}/games",
        response_model=None,
        responses={
            200: {"model": GamesPage, "headers": _CACHING},
            **_ERRORS,
            404: _problem("The player was never published."),
        },
        summary="A player's games, filtered: the drill-down behind every summary number",
        tags=["players"],
        openapi_extra={"parameters": _GAMES_PARAMS},
    )
    async def get_games(request: Request) -> Response:
        """The player's games matching the filters, newest first (game_id breaks ties), one
        page at a time, with the number of matching games: e.g. a `results` row's `games` is
        the `total` here for the same time_class and color (a summary that leaves games out
        says which in its definition). Unknown or repeated parameters are refused (422), so
        a misspelt filter never passes for "all games"."""
        user = _normalize(request.path_params["username"])
        query = games.parse_games_query(request.query_params)
        route = f"/v1/players/{user}/games"
        answer, current = await service.games(
            user, query, route, request.headers.get("if-none-match")
        )
        return respond(answer, current=current)

    @app.get("/healthz", response_model=Health, tags=["operations"])
    async def healthz() -> Response:
        """The process answers; touches no database, so Neon's compute may sleep."""
        return Response(b'{"status":"ok"}', media_type="application/json")

    @app.get(
        "/readyz",
        response_model=Ready,
        responses={503: _problem("The database is not reachable.")},
        tags=["operations"],
    )
    async def readyz(request: Request) -> Response:
        """The database answers a query; reports whether the Redis cache is in use."""
        redis_state = await redis.ping()
        try:
            await store.ping()
        except Exception:
            return problem_response(
                503,
                "The database is not reachable.",
                request.url.path,
                headers={"Retry-After": "5"},
                database="down",
                redis=redis_state,
            )
        body = f'{{"status":"ready","database":"ok","redis":"{redis_state}"}}'
        return Response(body.encode(), media_type="application/json")

    return app

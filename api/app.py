"""The FastAPI app factory: read-only routes over the published summaries."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import FastAPI, Header, Path, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.cache import RedisCache
from api.models import Health, PlayerProfile, ProblemDetails, Ready, SummaryResponse
from api.problems import PROBLEM_JSON, ProblemError, install_problem_handlers, problem_response
from api.ratelimit import RateLimitMiddleware
from api.service import SNAPSHOT_CHECK_SECONDS, Answer, Filters, Service, etag_matches
from api.store import Store
from transforms.usernames import InvalidUsernameError, normalize_username

if TYPE_CHECKING:
    from settings import Settings

USERNAME_PATTERN = r"^[A-Za-z0-9_-]{1,50}$"
DEFAULT_CACHE_ENTRIES = 4096


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

Username = Annotated[
    str,
    Path(
        description="Chess.com username (any case; 1-50 letters, digits, '_' or '-').",
        pattern=USERNAME_PATTERN,
        examples=["shaunchess123"],
    ),
]
IfNoneMatch = Annotated[
    str | None,
    Header(description="An ETag from an earlier response: 304 when still current."),
]


def _normalize(username: str) -> str:
    try:
        return normalize_username(username)
    except InvalidUsernameError as error:
        raise ProblemError(422, str(error)) from error


def create_app(
    settings: Settings,
    *,
    cache_entries: int = DEFAULT_CACHE_ENTRIES,
    snapshot_ttl_seconds: float = SNAPSHOT_CHECK_SECONDS,
) -> FastAPI:
    """The API over settings.resolved_database_url; nothing connects until the first request.

    cache_entries=0 and snapshot_ttl_seconds=0 turn the in-process caches off (benchmarks).
    """
    store = Store(settings.resolved_database_url)
    redis = RedisCache(settings.redis_url)
    service = Service(
        store, redis, cache_entries=cache_entries, snapshot_ttl_seconds=snapshot_ttl_seconds
    )
    cache_control = f"public, max-age={settings.api_cache_max_age_seconds}"

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await redis.close()
        store.close()

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
    app.add_middleware(RateLimitMiddleware, per_minute=settings.api_rate_limit_per_minute)

    def respond(answer: Answer, if_none_match: str | None) -> Response:
        headers = {"ETag": answer.etag, "Cache-Control": cache_control}
        if etag_matches(if_none_match, answer.etag):
            return Response(status_code=304, headers=headers)
        return Response(answer.body, media_type="application/json", headers=headers)

    @app.get(
        "/v1/players/{username}",
        response_model=None,
        responses={200: {"model": PlayerProfile, "headers": _CACHING}, **_ERRORS},
        summary="A player's published snapshot and its summaries",
        tags=["players"],
    )
    async def get_player(username: Username, if_none_match: IfNoneMatch = None) -> Response:
        """Profile of the player's current snapshot and the list of its summaries."""
        user = _normalize(username)
        profile = await service.profile(user)
        route = f"/v1/players/{user}"
        return respond(await service.render_profile(user, profile, route), if_none_match)

    @app.get(
        "/v1/players/{username}/summaries/{name}",
        response_model=None,
        responses={200: {"model": SummaryResponse, "headers": _CACHING}, **_ERRORS},
        summary="One summary of a player",
        tags=["players"],
    )
    async def get_summary(
        username: Username,
        name: Annotated[
            str,
            Path(
                description="Summary name, from the player's profile.",
                pattern=r"^[a-z_][a-z0-9_]{0,62}$",
                examples=["results"],
            ),
        ],
        time_class: Annotated[
            Literal["all", "bullet", "blitz", "rapid", "daily"] | None,
            Query(description="Keep rows of this time class (summaries with that dimension)."),
        ] = None,
        color: Annotated[
            Literal["all", "white", "black"] | None,
            Query(description="Keep rows of this colour (summaries with that dimension)."),
        ] = None,
        since: Annotated[
            date | None,
            Query(description="Keep rows on or after this day (summaries with a date dimension)."),
        ] = None,
        until: Annotated[
            date | None,
            Query(description="Keep rows on or before this day (summaries with a date dimension)."),
        ] = None,
        if_none_match: IfNoneMatch = None,
    ) -> Response:
        """The rows of one summary with its definition, version, snapshot id and sample sizes."""
        user = _normalize(username)
        filters = Filters(time_class, color, since, until)
        if since and until and since > until:
            raise ProblemError(422, "since is after until; swap them.")
        profile = await service.profile(user)
        route = f"/v1/players/{user}/summaries/{name}"
        answer = await service.render_summary(user, name, profile, filters, route)
        return respond(answer, if_none_match)

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
            await run_in_threadpool(store.ping)
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

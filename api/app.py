"""The FastAPI app factory: middleware, problem handlers, lifespan, and the routers it includes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from api.cache import RedisCache
from api.head import HeadMiddleware
from api.problems import install_problem_handlers
from api.ratelimit import RateLimitMiddleware
from api.routes import games, health, players, summaries
from api.service import SNAPSHOT_CHECK_SECONDS, Service
from api.store import open_store
from settings import Settings

DEFAULT_CACHE_ENTRIES = 4096
# In this order in the OpenAPI document; a new route module adds its router here.
ROUTERS: tuple[APIRouter, ...] = (
    players.router,
    summaries.router,
    games.router,
    health.router,
)


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
    store = open_store(settings.api_database_url or settings.resolved_database_url)
    redis = RedisCache(settings.redis_url)
    service = Service(
        store, redis, cache_entries=cache_entries, snapshot_ttl_seconds=snapshot_ttl_seconds
    )

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
    # What api.deps hands to the routes.
    app.state.settings = settings
    app.state.service = service
    app.state.store = store
    install_problem_handlers(app)
    app.add_middleware(RateLimitMiddleware, per_minute=settings.api_rate_limit_per_minute)
    app.add_middleware(HeadMiddleware)  # outermost: HEAD is a GET by the time anything sees it
    for router in ROUTERS:
        app.include_router(router)
    return app

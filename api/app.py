"""The FastAPI app factory: middleware, problem handlers, lifespan, and the routers it includes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from adapters.database import Database
from api import page
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
    page.router,  # the player page, its assets and the focus route
    players.router,
    summaries.router,
    games.router,
    health.router,
)


def include(app: FastAPI, router: APIRouter) -> None:
    """app.include_router(router), with the router's routes declared on the app itself.

    FastAPI >= 0.137 includes a router lazily, as a node it resolves again on every request: a
    fifth more CPU on a cached answer (bench/bench_api_routes.py). Declaring each route on
    the app, as include_router did before, avoids that; the router's prefix, tags and
    dependencies were applied when the route was declared on it. A router holding anything but
    API routes is included the ordinary way.
    """
    if not all(isinstance(route, APIRoute) for route in router.routes):
        app.include_router(router)
        return
    for route in router.routes:
        assert isinstance(route, APIRoute)
        app.router.add_api_route(
            route.path,
            route.endpoint,
            response_model=route.response_model,
            status_code=route.status_code,
            tags=route.tags,
            dependencies=route.dependencies,
            summary=route.summary,
            description=route.description,
            response_description=route.response_description,
            responses=route.responses,
            deprecated=route.deprecated,
            methods=route.methods,
            operation_id=route.operation_id,
            response_model_include=route.response_model_include,
            response_model_exclude=route.response_model_exclude,
            response_model_by_alias=route.response_model_by_alias,
            response_model_exclude_unset=route.response_model_exclude_unset,
            response_model_exclude_defaults=route.response_model_exclude_defaults,
            response_model_exclude_none=route.response_model_exclude_none,
            include_in_schema=route.include_in_schema,
            response_class=route.response_class,
            name=route.name,
            route_class_override=type(route),
            callbacks=route.callbacks,
            openapi_extra=route.openapi_extra,
            generate_unique_id_function=route.generate_unique_id_function,
            strict_content_type=route.strict_content_type,
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
    store = open_store(Database.for_api(settings))
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
        include(app, router)
    return app

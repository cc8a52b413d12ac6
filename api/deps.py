"""The routes' dependencies: the settings, service and store that create_app built for the app.

Use them as FastAPI dependencies (`service: ServiceDep`) in new routes; tests swap them with
`app.dependency_overrides`. The three cached player routes instead call `service_of(request)`
(so overrides do not reach them): one dependency adds a quarter to a half to the CPU of a
cached answer, declaring the parameters too more than doubles it (bench/bench_api_routes.py).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.cache import RedisCache
from api.service import Service
from api.store_types import Store
from settings import Settings


def settings_of(request: Request) -> Settings:
    """The settings the app was built with."""
    settings: Settings = request.app.state.settings
    return settings


def service_of(request: Request) -> Service:
    """The app's service: caches, and how a request becomes a body."""
    service: Service = request.app.state.service
    return service


# The dependencies are coroutines: FastAPI runs a plain function in a worker thread.
async def get_settings(request: Request) -> Settings:
    """Dependency: the app's settings."""
    return settings_of(request)


async def get_service(request: Request) -> Service:
    """Dependency: the app's service."""
    return service_of(request)


async def get_store(request: Request) -> Store:
    """Dependency: the app's read-only store (the service reads through the same one)."""
    return service_of(request).store


async def get_redis(request: Request) -> RedisCache:
    """Dependency: the app's Redis cache (disabled when REDIS_URL is unset)."""
    return service_of(request).redis


SettingsDep = Annotated[Settings, Depends(get_settings)]
ServiceDep = Annotated[Service, Depends(get_service)]
StoreDep = Annotated[Store, Depends(get_store)]
RedisDep = Annotated[RedisCache, Depends(get_redis)]

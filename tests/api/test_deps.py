"""The app's seams: a router added later gets the app's dependencies; overrides swap them; the
hand-parsed routes document exactly the parameters their parsers accept."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from adapters.database import Database
from api import games, params
from api.app import ROUTERS, create_app, include
from api.deps import ServiceDep, SettingsDep, StoreDep, get_store
from api.routes.common import openapi_parameters
from api.store import open_store
from tests.api.conftest import make_settings

# Nothing listens on port 1: a real store that cannot reach its database.
UNREACHABLE = "postgresql://postgres@127.0.0.1:1/nothing"


def test_an_included_router_gets_the_apps_settings_service_and_store(
    published: str, tmp_path: Path
) -> None:
    """What a new route module (the player page) does: declare the dependencies, be included."""
    settings = make_settings(published, tmp_path)
    app = create_app(settings)
    router = APIRouter()
    seen: dict[str, Any] = {}

    @router.get("/probe/{username}")
    async def probe(
        username: str, config: SettingsDep, service: ServiceDep, store: StoreDep
    ) -> dict[str, Any]:
        seen.update(settings=config, service=service, store=store)
        profile = await service.profile(username)
        return {"game_count": profile["game_count"]}

    app.include_router(router)
    with TestClient(app) as client:
        probed = client.get("/probe/alice")
        profile = client.get("/v1/players/alice")
        document = client.get("/openapi.json").json()
    assert probed.status_code == 200
    assert probed.json() == {"game_count": profile.json()["game_count"]}
    assert seen["settings"] is settings
    assert seen["service"] is app.state.service
    assert seen["store"] is app.state.store
    assert "/probe/{username}" in document["paths"]


def test_overriding_the_store_reaches_readyz_only(published: str, tmp_path: Path) -> None:
    """A dependency override swaps the store of the routes that declare it (/readyz); the
    cached player routes keep the app's own service, as api.deps says, for their speed."""
    app = create_app(make_settings(published, tmp_path))
    unreachable = open_store(Database.from_url(UNREACHABLE, read_only=True))
    app.dependency_overrides[get_store] = lambda: unreachable
    with TestClient(app, raise_server_exceptions=False) as client:
        ready = client.get("/readyz")
        profile = client.get("/v1/players/alice")
        del app.dependency_overrides[get_store]
        ready_again = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.headers["content-type"] == "application/problem+json"
    assert ready.json()["database"] == "down"
    assert profile.status_code == 200
    assert ready_again.status_code == 200


def _documented(document: dict[str, Any], path: str, where: str) -> dict[str, dict[str, Any]]:
    parameters = document["paths"][path]["get"]["parameters"]
    return {p["name"]: p["schema"] for p in parameters if p["in"] == where}


def test_documented_parameters_are_the_parsers_own(sqlite_url: str, tmp_path: Path) -> None:
    """A key the parser accepts but the document omits (or the reverse), or a choice that
    differs, fails here rather than in a client."""
    with TestClient(create_app(make_settings(sqlite_url, tmp_path))) as client:
        document = client.get("/openapi.json").json()
    summary = _documented(document, "/v1/players/{username}/summaries/{name}", "query")
    assert set(summary) == params.SUMMARY_QUERY_KEYS
    assert summary["time_class"]["enum"] == list(params.TIME_CLASSES)
    assert summary["color"]["enum"] == list(params.COLORS)
    drill = _documented(document, "/v1/players/{username}/games", "query")
    assert set(drill) == games.KNOWN_PARAMETERS
    assert drill["time_class"]["enum"] == ["all", *games.TIME_CLASSES]
    assert drill["color"]["enum"] == ["all", *games.COLORS]
    assert drill["result"]["enum"] == list(games.RESULTS)
    assert drill["termination"]["enum"] == list(games.TERMINATIONS)
    assert drill["limit"]["maximum"] == games.MAX_LIMIT
    assert drill["offset"]["maximum"] == games.MAX_OFFSET
    for path in ("/v1/players/{username}", "/v1/players/{username}/games"):
        assert _documented(document, path, "path")["username"]["pattern"] == (
            params.USERNAME_PATTERN
        )
        assert set(_documented(document, path, "header")) == {"if-none-match"}


class _Example(BaseModel):
    """Every kind of field the player routes document."""

    name: str = Field(description="Required, with a pattern.", pattern="^a$", examples=["a"])
    day: date | None = Field(None, description="Optional date.")
    page: int = Field(3, description="Defaulted integer.", ge=1, le=9)


def test_openapi_parameters_of_a_model() -> None:
    assert openapi_parameters("query", _Example) == [
        {
            "name": "name",
            "in": "query",
            "required": True,
            "description": "Required, with a pattern.",
            "schema": {"type": "string", "pattern": "^a$"},
            "example": "a",
        },
        {
            "name": "day",
            "in": "query",
            "required": False,
            "description": "Optional date.",
            "schema": {"type": "string", "format": "date"},
        },
        {
            "name": "page",
            "in": "query",
            "required": False,
            "description": "Defaulted integer.",
            "schema": {"type": "integer", "minimum": 1, "maximum": 9, "default": 3},
        },
    ]


@pytest.mark.parametrize(
    "query",
    [
        "/v1/players/alice/summaries/results?since=2024-02-01&until=2024-01-01",
        "/v1/players/alice/games?since=2024-02-01&until=2024-01-01",
    ],
)
def test_one_date_range_rule_for_both_routes(sqlite_url: str, tmp_path: Path, query: str) -> None:
    """Refused before the player is looked up (alice is not even published here)."""
    with TestClient(create_app(make_settings(sqlite_url, tmp_path))) as client:
        response = client.get(query)
    assert response.status_code == 422
    assert response.json()["detail"] == "since is after until; swap them."


def _sample_router(calls: list[str]) -> APIRouter:
    async def counted() -> None:
        calls.append("router dependency")

    router = APIRouter(prefix="/things", tags=["things"], dependencies=[Depends(counted)])

    @router.get("/{name}", summary="A thing")
    async def thing(name: str, limit: int = 3) -> dict[str, Any]:
        """One thing."""
        return {"name": name, "limit": limit}

    return router


def test_include_declares_the_routes_on_the_app_as_include_router_would() -> None:
    """Same document, same answers, router dependencies still run; and no lazy router node
    left in app.routes for FastAPI to resolve on every request."""
    flat_calls: list[str] = []
    lazy_calls: list[str] = []
    flat, lazy = FastAPI(), FastAPI()
    include(flat, _sample_router(flat_calls))
    lazy.include_router(_sample_router(lazy_calls))
    assert isinstance(flat.router.routes[-1], APIRoute)
    assert not isinstance(lazy.router.routes[-1], APIRoute)
    assert flat.openapi()["paths"] == lazy.openapi()["paths"]
    for app in (flat, lazy):
        with TestClient(app) as client:
            assert client.get("/things/a?limit=5").json() == {"name": "a", "limit": 5}
            assert client.get("/things/a?limit=x").status_code == 422
    assert flat_calls == lazy_calls == ["router dependency"] * 2


def test_the_apps_routes_are_declared_on_it(sqlite_url: str, tmp_path: Path) -> None:
    app = create_app(make_settings(sqlite_url, tmp_path))
    declared = {route.path for route in app.router.routes if isinstance(route, APIRoute)}
    expected = {
        route.path for router in ROUTERS for route in router.routes if isinstance(route, APIRoute)
    }
    assert expected <= declared

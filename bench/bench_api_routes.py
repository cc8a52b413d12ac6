"""CPU per cached answer of the summary route as served, beside the same route the FastAPI way.

Run:  uv run python bench/bench_api_routes.py [--rounds 40] [--requests 400] [--player P]

Why the three cached player routes parse their parameters by hand and read the service from the
app's state instead of declaring them, and why api.app declares the routers' routes on the app
rather than include_router them: this publishes a real fixture player into SQLite, builds the
app, and adds routes that answer exactly as the summary route does, but

  lazy       the summary router included by app.include_router (under a prefix)
  depends    take the service through api.deps.ServiceDep (one FastAPI dependency)
  declared   also declare the path and query parameters (Path/Query, as FastAPI's docs do)

then calls all three over ASGI in this process (no sockets, so no server or client noise) with
the caches warm, interleaved over many rounds, and prints the CPU time of the fastest round of
each (process time: other processes on a shared machine do not count) and its ratio to the
route as served.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import MutableMapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fastapi import Path as PathParam  # noqa: E402
from fastapi import Query, Request  # noqa: E402
from starlette.responses import Response  # noqa: E402

from api.app import create_app  # noqa: E402
from api.deps import ServiceDep  # noqa: E402
from api.params import Filters, check_date_range, parse_summary_filters  # noqa: E402
from api.routes import summaries  # noqa: E402
from api.routes.common import normalize, respond  # noqa: E402
from settings import Settings  # noqa: E402
from tests.conftest import FIXTURES  # noqa: E402


def _publish(database_url: str, player: str) -> None:
    import polars as pl

    from adapters.database import Database
    from adapters.publish import publish_player
    from adapters.warehouse import compute_summaries_from_frames
    from transforms.archive import parse_month

    months = sorted((FIXTURES / player).glob("[0-9]*/[0-9]*.json"))
    if not months:
        raise SystemExit(f"no monthly JSON for {player} under {FIXTURES}")
    parsed = [parse_month(player, f"{p.parent.name}-{p.stem}", p.read_bytes()) for p in months]
    games = pl.concat([p.games for p in parsed])
    moves = pl.concat([p.moves for p in parsed])
    summaries = compute_summaries_from_frames(games, moves, player)
    publish_player(Database.from_url(database_url), player, summaries, games)


def build_app(database_url: str, data_dir: Path) -> Any:
    settings = Settings(
        _env_file=None,
        data_dir=data_dir,
        database_url=database_url,
        api_rate_limit_per_minute=10**9,
    )
    app = create_app(settings)
    app.include_router(summaries.router, prefix="/lazy")

    @app.get("/depends/{username}/summaries/{name}")
    async def depends(request: Request, service: ServiceDep) -> Response:
        user = normalize(request.path_params["username"])
        name = request.path_params["name"]
        filters = parse_summary_filters(request.query_params)
        route = f"/v1/players/{user}/summaries/{name}"
        answer, current = await service.summary(
            user, name, filters, route, request.headers.get("if-none-match")
        )
        return respond(request, answer, current=current)

    @app.get("/declared/{username}/summaries/{name}")
    async def declared(
        request: Request,
        service: ServiceDep,
        username: Annotated[str, PathParam(pattern=r"^[A-Za-z0-9_-]{1,50}$")],
        name: Annotated[str, PathParam(pattern=r"^[a-z_][a-z0-9_]{0,62}$")],
        time_class: Annotated[str | None, Query()] = None,
        color: Annotated[str | None, Query()] = None,
        since: Annotated[date | None, Query()] = None,
        until: Annotated[date | None, Query()] = None,
    ) -> Response:
        user = normalize(username)
        check_date_range(since, until)
        filters = Filters(time_class, color, since, until)
        route = f"/v1/players/{user}/summaries/{name}"
        answer, current = await service.summary(
            user, name, filters, route, request.headers.get("if-none-match")
        )
        return respond(request, answer, current=current)

    return app


async def _cpu_per_request(app: Any, path: str, query: bytes, requests: int) -> float:
    """Microseconds of this process's CPU per request; every answer must be a 200."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"bench")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    statuses: set[int] = set()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.add(message["status"])

    start = time.process_time()
    for _ in range(requests):
        await app({**scope, "state": {}}, receive, send)
    spent = time.process_time() - start
    if statuses != {200}:
        raise SystemExit(f"{path}?{query.decode()} answered {sorted(statuses)}, not only 200")
    return spent / requests * 1e6


async def _measure(app: Any, player: str, summary: str, rounds: int, requests: int) -> None:
    query = b"color=white"
    variants = {
        "as served": f"/v1/players/{player}/summaries/{summary}",
        "lazy": f"/lazy/v1/players/{player}/summaries/{summary}",
        "depends": f"/depends/{player}/summaries/{summary}",
        "declared": f"/declared/{player}/summaries/{summary}",
    }
    for path in variants.values():  # warm the caches and the code paths
        await _cpu_per_request(app, path, query, 50)
    best = dict.fromkeys(variants, float("inf"))
    for _ in range(rounds):
        for label, path in variants.items():
            best[label] = min(best[label], await _cpu_per_request(app, path, query, requests))
    served = best["as served"]
    print(f"{'route':<12}{'CPU us/request':>16}{'vs served':>11}")
    for label, micros in best.items():
        print(f"{label:<12}{micros:>16.1f}{micros / served:>10.0%}")
    print(
        f"\nthe lazy include adds {best['lazy'] - served:.1f} us a request; one dependency adds "
        f"{best['depends'] - served:.1f} us; declaring the parameters as well adds "
        f"{best['declared'] - served:.1f} us"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40, help="interleaved rounds (best kept)")
    parser.add_argument("--requests", type=int, default=400, help="requests per round and route")
    parser.add_argument("--player", default="shaunchess123", help="fixture player to publish")
    parser.add_argument("--summary", default="results", help="summary to request")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_api_routes_") as tmp:
        database_url = f"sqlite:///{Path(tmp) / 'serving.sqlite'}"
        _publish(database_url, args.player)
        app = build_app(database_url, Path(tmp))
        asyncio.run(_measure(app, args.player, args.summary, args.rounds, args.requests))


if __name__ == "__main__":
    main()

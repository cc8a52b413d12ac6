"""GET /healthz and /readyz: whether the process, and then the database, can answer."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.deps import RedisDep, StoreDep
from api.models import Health, Ready
from api.problems import problem_response
from api.routes.common import problem

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health)
async def healthz() -> Response:
    """The process answers; touches no database, so Neon's compute may sleep."""
    return Response(b'{"status":"ok"}', media_type="application/json")


@router.get(
    "/readyz",
    response_model=Ready,
    responses={503: problem("The database is not reachable.")},
)
async def readyz(request: Request, store: StoreDep, redis: RedisDep) -> Response:
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

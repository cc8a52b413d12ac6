"""GET /v1/players/{username}/summaries/{name}: one summary of a player, filtered."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.deps import service_of
from api.models import SummaryPath, SummaryQuery, SummaryResponse
from api.params import SUMMARY_NAME_PATTERN, parse_summary_filters
from api.problems import ProblemError
from api.routes.common import PLAYERS, RESPONSES, documented, normalize, respond

router = APIRouter(prefix=PLAYERS, tags=["players"])

_SUMMARY_NAME = re.compile(SUMMARY_NAME_PATTERN)


@router.get(
    "/{username}/summaries/{name}",
    response_model=SummaryResponse,
    responses=RESPONSES,
    summary="One summary of a player",
    openapi_extra=documented(SummaryPath, SummaryQuery),
)
async def get_summary(request: Request) -> Response:
    """The rows of one summary with its definition, version, snapshot id and sample sizes.
    Unknown or repeated query parameters are refused (422), so a misspelt filter never
    passes for "no filter"."""
    service = service_of(request)
    user = normalize(request.path_params["username"])
    name = request.path_params["name"]
    if not _SUMMARY_NAME.fullmatch(name):
        raise ProblemError(
            422,
            f"path.name: {name[:40]!r} is not a summary name (lowercase a-z, 0-9, _)",
            errors=[{"loc": ["path", "name"]}],
        )
    filters = parse_summary_filters(request.query_params)
    route = f"{PLAYERS}/{user}/summaries/{name}"
    answer, current = await service.summary(
        user, name, filters, route, request.headers.get("if-none-match")
    )
    return respond(request, answer, current=current)

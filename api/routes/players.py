"""GET /v1/players/{username}: the player's published snapshot and its summaries."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.deps import service_of
from api.models import PlayerPath, PlayerProfile
from api.routes.common import PLAYERS, RESPONSES, documented, normalize, respond
from api.service import etag_matches

router = APIRouter(prefix=PLAYERS, tags=["players"])


@router.get(
    "/{username}",
    response_model=PlayerProfile,
    responses=RESPONSES,
    summary="A player's published snapshot and its summaries",
    openapi_extra=documented(PlayerPath),
)
async def get_player(request: Request) -> Response:
    """Profile of the player's current snapshot and the list of its summaries."""
    service = service_of(request)
    user = normalize(request.path_params["username"])
    profile = await service.profile(user)
    answer = await service.render_profile(user, profile, f"{PLAYERS}/{user}")
    current = etag_matches(request.headers.get("if-none-match"), answer.etag)
    return respond(request, answer, current=current)

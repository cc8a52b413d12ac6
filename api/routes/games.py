"""GET /v1/players/{username}/games: the player's games, filtered, a page at a time."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.deps import service_of
from api.games import parse_games_query
from api.models import GamesPage, GamesQueryParameters, PlayerPath
from api.routes.common import PLAYERS, RESPONSES, documented, normalize, problem, respond

router = APIRouter(prefix=PLAYERS, tags=["players"])


@router.get(
    "/{username}/games",
    response_model=GamesPage,
    responses={**RESPONSES, 404: problem("The player was never published.")},
    summary="A player's games, filtered: the drill-down behind every summary number",
    openapi_extra=documented(PlayerPath, GamesQueryParameters),
)
async def get_games(request: Request) -> Response:
    """The player's games matching the filters, newest first (game_id breaks ties), one
    page at a time, with the number of matching games: e.g. a `results` row's `games` is
    the `total` here for the same time_class and color (a summary that leaves games out
    says which in its definition). Unknown or repeated parameters are refused (422), so
    a misspelt filter never passes for "all games"."""
    service = service_of(request)
    user = normalize(request.path_params["username"])
    query = parse_games_query(request.query_params)
    route = f"{PLAYERS}/{user}/games"
    answer, current = await service.games(user, query, route, request.headers.get("if-none-match"))
    return respond(request, answer, current=current)

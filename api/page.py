"""The player page: GET /players/{username} (HTML that draws the /v1 routes), its assets, and
GET /v1/players/{username}/focus ("what to work on", computed once in transforms.focus)."""

from __future__ import annotations

import gzip
import hashlib
import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.responses import HTMLResponse, Response

from api.models import ProblemDetails
from api.problems import PROBLEM_JSON, ProblemError
from api.service import Filters, Service, etag_matches
from transforms.focus import FOCUS_DEFINITION, FOCUS_SLICES, FOCUS_VERSION, what_to_work_on
from transforms.usernames import InvalidUsernameError, normalize_username

STATIC = Path(__file__).with_name("static")
# The files the page may load, and their types: nothing else under static/ is served.
ASSETS = {
    "page.js": "text/javascript; charset=utf-8",
    "page.css": "text/css; charset=utf-8",
    "d3.min.js": "text/javascript; charset=utf-8",
    "plot.umd.min.js": "text/javascript; charset=utf-8",
    "analyse.js": "text/javascript; charset=utf-8",
}
FOCUS_SOURCES = ("results", "openings", "terminations")

router = APIRouter()


@dataclass(frozen=True)
class _Asset:
    body: bytes
    gzipped: bytes
    etag: str


_assets: dict[str, _Asset] = {}


def _asset(name: str) -> _Asset:
    """The file, read and compressed once per process (assets change only with a release)."""
    cached = _assets.get(name)
    if cached is None:
        body = (STATIC / name).read_bytes()
        digest = hashlib.sha256(body).hexdigest()[:20]
        cached = _Asset(body, gzip.compress(body, 9, mtime=0), f'"{digest}"')
        _assets[name] = cached
    return cached


def asset_url(name: str) -> str:
    """The asset's URL with its content hash, so a release never meets a stale cached copy."""
    return f"/static/page/{name}?v={_asset(name).etag.strip(chr(34))}"


@router.get("/static/page/{name}", include_in_schema=False)
async def static_asset(request: Request, name: str) -> Response:
    if name not in ASSETS:
        raise ProblemError(404, f"No page asset named {name[:40]!r}.")
    asset = _asset(name)
    headers = {
        "ETag": asset.etag,
        "Cache-Control": "public, max-age=86400",
        "Vary": "Accept-Encoding",
    }
    if etag_matches(request.headers.get("if-none-match"), asset.etag):
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(asset.gzipped, media_type=ASSETS[name], headers=headers)
    return Response(asset.body, media_type=ASSETS[name], headers=headers)


# -- GET /v1/players/{username}/focus ------------------------------------------------------------


class FocusItem(BaseModel):
    """One slice to work on (a time class x colour cell of `results`)."""

    time_class: str
    color: str
    games: int = Field(description="Games in the cell.")
    games_with_ratings: int = Field(description="Games with both ratings: residual's n.")
    score: float
    expected_score: float
    residual: float = Field(description="Mean score - expectation (< 0: below the ratings).")
    residual_low: float | None = Field(description="Lower end of the residual's 95 % interval.")
    residual_high: float | None = Field(description="Upper end of the residual's 95 % interval.")
    points: float = Field(description="residual x games_with_ratings: points below the ratings.")
    low_sample: bool
    opening_family: str | None = Field(description="Family costing the most points in the cell.")
    opening_points: float | None
    opening_games: int | None
    loss_termination: str | None = Field(description="The cell's most common way of losing.")
    loss_termination_games: int | None
    losses: int
    text: str = Field(description="The slice in plain words.")
    chart_href: str = Field(description="The slice's chart on the player page.")
    games_href: str = Field(description="The games behind the slice (the drill-down route).")


class FocusResponse(BaseModel):
    """What to work on: the slices with the most negative residual x games."""

    username: str
    snapshot_id: str
    published_at: str
    version: int = Field(description="Version of the rule below.")
    definition: str
    items: list[FocusItem] = Field(description=f"At most {FOCUS_SLICES}, most points lost first.")


_USERNAME_PARAM = {
    "name": "username",
    "in": "path",
    "required": True,
    "description": "Chess.com username (any case; 1-50 letters, digits, '_' or '-').",
    "schema": {"type": "string", "pattern": r"^[A-Za-z0-9_-]{1,50}$"},
    "example": "shaunchess123",
}


def _problem_doc(description: str) -> dict[str, Any]:
    schema = ProblemDetails.model_json_schema()
    return {"description": description, "content": {PROBLEM_JSON: {"schema": schema}}}


def _normalize(username: str) -> str:
    try:
        return normalize_username(username)
    except InvalidUsernameError as error:
        raise ProblemError(422, str(error), errors=[{"loc": ["path", "username"]}]) from error


async def focus_body(service: Service, user: str) -> tuple[dict[str, Any], str]:
    """The focus body and its ETag, from the three summaries' rows of one snapshot."""
    for _attempt in range(3):
        bodies = []
        tags = []
        for name in FOCUS_SOURCES:
            route = f"/v1/players/{user}/summaries/{name}"
            answer, _current = await service.summary(user, name, Filters(), route, None)
            bodies.append(orjson.loads(answer.body))
            tags.append(answer.etag)
        if len({b["snapshot_id"] for b in bodies}) == 1:
            break  # a publish between the reads would mix snapshots: read again
    else:
        raise ProblemError(
            503, "The player is being published right now; retry.", headers={"Retry-After": "1"}
        )
    results, openings, terminations = (b["rows"] for b in bodies)
    items = []
    for focus in what_to_work_on(results, openings, terminations):
        item = focus.as_dict()
        query = f"time_class={focus.time_class}&color={focus.color}"
        item["chart_href"] = f"/players/{user}?{query}#chart-results"
        item["games_href"] = f"/v1/players/{user}/games?{query}"
        items.append(item)
    body = {
        "username": user,
        "snapshot_id": bodies[0]["snapshot_id"],
        "published_at": bodies[0]["published_at"],
        "version": FOCUS_VERSION,
        "definition": FOCUS_DEFINITION,
        "items": items,
    }
    digest = hashlib.sha256(f"{FOCUS_VERSION}\x1f{','.join(tags)}".encode()).hexdigest()[:16]
    return body, f'"{bodies[0]["snapshot_id"]}-focus-{digest}"'


@router.get(
    "/v1/players/{username}/focus",
    response_model=None,
    responses={
        200: {"model": FocusResponse},
        404: _problem_doc("The player was never published."),
        422: _problem_doc("Invalid username."),
        503: _problem_doc("The database is not reachable."),
    },
    summary="What to work on: the slices that cost the most points against the ratings",
    tags=["players"],
    openapi_extra={"parameters": [_USERNAME_PARAM]},
)
async def get_focus(request: Request) -> Response:
    """The (at most three) time class x colour cells with the most negative residual x games,
    with their intervals, the opening and the way of losing behind each, in plain words;
    computed from the published `results`, `openings` and `terminations` rows (the same list
    opens `chess-patterns report`)."""
    user = _normalize(request.path_params["username"])
    service: Service = request.app.state.service
    body, etag = await focus_body(service, user)
    headers = {"ETag": etag, "Cache-Control": "public, max-age=30"}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(orjson.dumps(body), media_type="application/json", headers=headers)


# -- GET /players/{username} ---------------------------------------------------------------------


def _shell(title: str, main: str, *, status: int, scripts: tuple[str, ...]) -> HTMLResponse:
    assets = "".join(f'<script src="{asset_url(n)}" defer></script>' for n in scripts)
    page = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{html.escape(title)}</title>
<link rel="stylesheet" href="{asset_url("page.css")}">
<script>performance.mark("page-start")</script>
{assets}
</head>
<body>
{main}
</body>
</html>
"""
    return HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-cache"})


def _message_page(
    title: str, lines: list[str], *, status: int, extra: str = "", scripts: tuple[str, ...] = ()
) -> HTMLResponse:
    paragraphs = "\n".join(f"<p>{line}</p>" for line in lines)
    main = f"""<main class="message" id="message" data-status="{status}">
<h1>{html.escape(title)}</h1>
{paragraphs}
{extra}
<p><a href="/docs">The API and its documentation</a></p>
</main>"""
    return _shell(title, main, status=status, scripts=scripts)


def _offers_analysis(request: Request) -> bool:
    """Whether this app has the on-demand analysis route (POST /v1/analyses)."""
    return any(
        getattr(route, "path", None) == "/v1/analyses" and "POST" in getattr(route, "methods", ())
        for route in request.app.routes
    )


@router.get("/players/{username}", include_in_schema=False, response_class=HTMLResponse)
async def player_page(request: Request) -> HTMLResponse:
    raw = request.path_params["username"]
    try:
        user = normalize_username(raw)
    except InvalidUsernameError as error:
        return _message_page(
            "Not a Chess.com username",
            [html.escape(str(error)), "A username has 1 to 50 letters, digits, '_' or '-'."],
            status=422,
        )
    service: Service = request.app.state.service
    try:
        await service.profile(user)
    except ProblemError as error:
        if error.status != 404:
            raise
        name = html.escape(user)
        lines = [f"No snapshot of <strong>{name}</strong> has been published here."]
        extra = ""
        scripts: tuple[str, ...] = ()
        if _offers_analysis(request):
            extra = f"""<div id="analyse" data-username="{name}">
<button type="button" class="analyse">Analyse {name} now</button>
<p role="status" aria-live="polite"></p>
</div>"""
            scripts = ("analyse.js",)
            lines.append("This server can analyse the player's Chess.com games now.")
        command = f"<code class='command'>uv run chess-patterns refresh {name}</code>"
        if scripts:
            lines.append(f"Or, on the server, run {command} and reload this page.")
        else:
            lines += [
                f"To analyse this player, run {command} on the server, then reload this page.",
                "(This server does not offer on-demand analysis from the page.)",
            ]
        return _message_page(
            f"{user} has not been analysed yet", lines, status=404, extra=extra, scripts=scripts
        )
    main = f"""<div id="app" data-username="{html.escape(user)}"></div>
<noscript><p>This page draws its charts with JavaScript. The numbers are at
<a href="/v1/players/{html.escape(user)}">/v1/players/{html.escape(user)}</a>.</p></noscript>"""
    # page.js first: it asks for the data at once, while the library is still parsed
    scripts = ("page.js", "d3.min.js", "plot.umd.min.js")
    return _shell(f"{user}: chess patterns", main, status=200, scripts=scripts)

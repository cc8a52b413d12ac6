"""On-demand analyses: POST /v1/analyses queues a refresh, GET /v1/analyses/{id} follows it."""

from __future__ import annotations

import hmac
import math
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from adapters.analyses import (
    Analysis,
    AnalysisQueue,
    QueueFullError,
    RefusedError,
    writer_database,
)
from api.models import ProblemDetails
from api.problems import PROBLEM_JSON, DatabaseUnavailableError, ProblemError
from transforms.usernames import InvalidUsernameError, normalize_username

if TYPE_CHECKING:
    from api.service import Service
    from settings import Settings

USERNAME_PATTERN = r"^[A-Za-z0-9_-]{1,50}$"
MAX_GAME_COUNT = 500
POLL_SECONDS = 2  # the Retry-After of a queued or running analysis
QUEUE_FULL_RETRY_SECONDS = 30
MAX_TRACKED_KEYS = 10_000
_ID = re.compile(r"[0-9a-f]{32}")

router = APIRouter(tags=["analyses"])


class AnalysisRequest(BaseModel):
    """The body of POST /v1/analyses."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(
        pattern=USERNAME_PATTERN, description="Chess.com username (any case).", examples=["hikaru"]
    )
    game_count: int | None = Field(
        None,
        ge=1,
        le=MAX_GAME_COUNT,
        description="The player's last N games; absent: all games. Recorded; this version "
        "analyses all games (scope `all`).",
    )


class AnalysisLinks(BaseModel):
    profile: str
    summaries: dict[str, str] = Field(description="Summary name -> its route for this scope.")
    games: str


class AnalysisBody(BaseModel):
    """An analysis and where it stands (the body of both routes)."""

    id: str | None = Field(description="None when the player was fresh and nothing was queued.")
    username: str
    game_count: int | None
    scope: str = Field(description="Which games the summaries cover: `all`.")
    state: str = Field(description="queued | running | succeeded | failed")
    created_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    reason: str | None = Field(description="Why it failed, in plain words.")
    snapshot_id: str | None = Field(description="The snapshot it published (on success).")
    links: AnalysisLinks | None = Field(description="The player's routes (on success).")


class KeyedLimiter:
    """`per_hour` requests per key, refilled continuously (a token bucket per key, the least
    recently seen forgotten past MAX_TRACKED_KEYS); thread-safe."""

    def __init__(self, per_hour: int) -> None:
        self.capacity = float(per_hour)
        self.rate = per_hour / 3600.0
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 if the request may pass, else the seconds until it would."""
        now = time.monotonic()
        with self._lock:
            tokens, at = self._buckets.pop(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - at) * self.rate)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / self.rate
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > MAX_TRACKED_KEYS:
                self._buckets.popitem(last=False)
        return wait


@dataclass
class Analyses:
    """What the routes share: the narrow writer's queue, the limits and the settings."""

    queue: AnalysisQueue
    settings: Settings
    per_username: KeyedLimiter
    per_client: KeyedLimiter


_state_lock = threading.Lock()


def _analyses(request: Request) -> Analyses:
    """The app's queue and limits, made on first use from the app's settings: over the narrow
    writer (never the read-only connection); nothing connects until the first request."""
    app = request.app
    state: Analyses | None = getattr(app.state, "analyses", None)
    if state is None:
        with _state_lock:
            state = getattr(app.state, "analyses", None)
            if state is None:
                settings: Settings = app.state.settings
                state = Analyses(
                    AnalysisQueue(writer_database(settings)),
                    settings,
                    KeyedLimiter(settings.analysis_per_username_per_hour),
                    KeyedLimiter(settings.analysis_per_client_per_hour),
                )
                app.state.analyses = state
    return state


def _problem(description: str, **extra: Any) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": ProblemDetails.model_json_schema()}},
        **extra,
    }


_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}}


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def _links(service: Service, username: str) -> dict[str, Any]:
    definitions = await service.definitions()
    base = f"/v1/players/{username}"
    return {
        "profile": base,
        "summaries": {name: f"{base}/summaries/{name}" for name in sorted(definitions)},
        "games": f"{base}/games",
    }


async def _body(request: Request, analysis: Analysis) -> dict[str, Any]:
    links = None
    if analysis.state == "succeeded":
        links = await _links(request.app.state.service, analysis.username)
    return {
        "id": analysis.id,
        "username": analysis.username,
        "game_count": analysis.game_count,
        "scope": analysis.scope,
        "state": analysis.state,
        "created_at": _iso(analysis.created_at),
        "started_at": _iso(analysis.started_at),
        "finished_at": _iso(analysis.finished_at),
        "reason": analysis.reason,
        "snapshot_id": analysis.snapshot_id,
        "links": links,
    }


def _json(body: dict[str, Any], status: int, headers: dict[str, str]) -> Response:
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json", headers=headers
    )


def _authorize(request: Request, keys: list[str]) -> None:
    if not keys:
        return
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    challenge = {"WWW-Authenticate": 'Bearer realm="analyses"'}
    if scheme.lower() != "bearer" or not token.strip():
        raise ProblemError(
            401, "POST /v1/analyses needs Authorization: Bearer <key>.", headers=challenge
        )
    given = token.strip().encode()
    # compare_digest against every key: the time taken does not say which key nearly matched
    if not any([hmac.compare_digest(given, key.encode()) for key in keys]):
        raise ProblemError(403, "That API key is not accepted here.", headers=challenge)


async def _parse(request: Request) -> AnalysisRequest:
    raw = await request.body()
    try:
        return AnalysisRequest.model_validate_json(raw or b"null")
    except ValidationError as error:
        errors = [
            {"loc": ["body", *(str(p) for p in e.get("loc", ()))], "msg": str(e.get("msg", ""))}
            for e in error.errors()
        ]
        first = errors[0] if errors else {"loc": ["body"], "msg": "invalid body"}
        raise ProblemError(
            422, f"{'.'.join(first['loc'])}: {first['msg']}", errors=errors
        ) from None


def _limit(wait: float, what: str) -> None:
    """429 with Retry-After when a limiter said to wait."""
    if wait > 0:
        retry_after = max(1, math.ceil(wait))
        raise ProblemError(
            429,
            f"Too many analyses asked for {what}; retry in {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )


@router.post(
    "/v1/analyses",
    response_model=None,
    status_code=202,
    summary="Ask for an analysis of a Chess.com player (queued; never waits for Chess.com)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": AnalysisRequest.model_json_schema()}},
        }
    },
    responses={
        200: {
            "model": AnalysisBody,
            "description": "The player's snapshot is fresh: its links, nothing queued.",
        },
        202: {
            "model": AnalysisBody,
            "description": "Queued (or already queued or running: the same analysis).",
            "headers": {
                "Location": {"description": "/v1/analyses/{id}", "schema": {"type": "string"}},
                **_RETRY_AFTER,
            },
        },
        401: _problem("ANALYSIS_API_KEYS is set and no Bearer key was sent."),
        403: _problem("The Bearer key is not one of ANALYSIS_API_KEYS."),
        422: _problem("Invalid username or game_count."),
        429: _problem("Too many analyses for this player or address.", headers=_RETRY_AFTER),
        503: _problem("The queue is full, or the database is not reachable.", headers=_RETRY_AFTER),
    },
)
async def post_analysis(request: Request) -> Response:
    """Queues a refresh of the player (fetch, parse, summarise, publish) and answers at once:
    202 with the analysis to follow at its Location. A player already queued or running gets
    that analysis; a player published less than ANALYSIS_FRESH_SECONDS ago gets 200 with its
    current snapshot and nothing is queued."""
    state = _analyses(request)
    settings = state.settings
    _authorize(request, settings.analysis_api_keys)
    asked = await _parse(request)
    try:
        username = normalize_username(asked.username)
    except InvalidUsernameError as error:
        raise ProblemError(422, str(error), errors=[{"loc": ["body", "username"]}]) from error
    client = request.client.host if request.client else "unknown"
    _limit(state.per_client.take(client), f"from {client}")
    try:
        requested = await run_in_threadpool(
            state.queue.request,
            username,
            game_count=asked.game_count,
            client=client,
            now=datetime.now(UTC),
            fresh_seconds=settings.analysis_fresh_seconds,
            max_queued=settings.analysis_queue_max,
            # Only a new run counts against the player's limit: joining a queued one is free.
            admit=lambda: state.per_username.take(username),
        )
    except RefusedError as error:
        _limit(error.retry_after, f"player {username}")
        raise
    except QueueFullError as error:
        raise ProblemError(
            503,
            f"The analysis queue is full ({error}); ask again later.",
            headers={"Retry-After": str(QUEUE_FULL_RETRY_SECONDS)},
        ) from None
    except Exception as error:
        if _is_database_error(error):
            raise DatabaseUnavailableError(str(error)) from error
        raise
    if requested.analysis is None:
        snapshot = requested.snapshot
        assert snapshot is not None
        body = {
            "id": None,
            "username": username,
            "game_count": asked.game_count,
            "scope": "all",
            "state": "succeeded",
            "created_at": None,
            "started_at": None,
            "finished_at": _iso(snapshot.published_at),
            "reason": None,
            "snapshot_id": snapshot.snapshot_id,
            "links": await _links(request.app.state.service, username),
        }
        return _json(body, 200, {"Content-Location": f"/v1/players/{username}"})
    analysis = requested.analysis
    headers = {"Location": f"/v1/analyses/{analysis.id}", "Retry-After": str(POLL_SECONDS)}
    return _json(await _body(request, analysis), 202, headers)


@router.get(
    "/v1/analyses/{analysis_id}",
    response_model=None,
    summary="Where an analysis stands",
    responses={
        200: {"model": AnalysisBody, "headers": _RETRY_AFTER},
        404: _problem("No analysis has this id."),
        503: _problem("The database is not reachable.", headers=_RETRY_AFTER),
    },
)
async def get_analysis(request: Request, analysis_id: str) -> Response:
    """The analysis: queued | running (Retry-After says when to look again) | succeeded (links
    to the player's profile, summaries and games, and the snapshot id) | failed (the reason)."""
    state = _analyses(request)
    if not _ID.fullmatch(analysis_id):
        raise ProblemError(404, f"No analysis {analysis_id[:40]!r}.")
    try:
        analysis = await run_in_threadpool(state.queue.get, analysis_id)
    except Exception as error:
        if _is_database_error(error):
            raise DatabaseUnavailableError(str(error)) from error
        raise
    if analysis is None:
        raise ProblemError(404, f"No analysis {analysis_id!r}.")
    headers = {"Cache-Control": "no-store"}
    if analysis.state in {"queued", "running"}:
        headers["Retry-After"] = str(POLL_SECONDS)
    return _json(await _body(request, analysis), 200, headers)


def _is_database_error(error: Exception) -> bool:
    from sqlalchemy.exc import DBAPIError

    return isinstance(error, DBAPIError)

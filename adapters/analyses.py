"""The on-demand analyses queue: a table of the published database, recorded and claimed here."""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from adapters.database import Database, lock_key
from adapters.db import SQL_DIR, utc_text

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

    from settings import Settings

State = Literal["queued", "running", "succeeded", "failed"]
STATES: tuple[State, ...] = ("queued", "running", "succeeded", "failed")
ALL_GAMES = "all"

_NAME_LINE = re.compile(r"^-- name: (\w+)\s*$", re.MULTILINE)


class QueueFullError(RuntimeError):
    """The queue already holds as many analyses as it may: ask again later."""


class RefusedError(RuntimeError):
    """The caller's `admit` check refused a new analysis; `retry_after` seconds until it would
    not."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@functools.cache
def _queries() -> dict[str, Any]:
    from sqlalchemy import text

    parts = _NAME_LINE.split((SQL_DIR / "analyses.sql").read_text(encoding="utf-8"))
    return {parts[i]: text(parts[i + 1].strip().rstrip(";")) for i in range(1, len(parts), 2)}


def _q(name: str) -> Any:
    return _queries()[name]


def _when(value: Any) -> datetime | None:
    """A timestamp as read back: PostgreSQL gives datetimes, SQLite the text utc_text wrote."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


@dataclass(frozen=True)
class Analysis:
    """One requested analysis and where it stands."""

    id: str
    username: str
    game_count: int | None
    scope: str
    state: State
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    reason: str | None = None
    snapshot_id: str | None = None

    @classmethod
    def from_row(cls, row: Any) -> Analysis:
        created = _when(row.created_at)
        assert created is not None
        return cls(
            id=row.id,
            username=row.username,
            game_count=row.game_count,
            scope=row.scope,
            state=row.state,
            created_at=created,
            started_at=_when(row.started_at),
            finished_at=_when(row.finished_at),
            reason=row.reason,
            snapshot_id=row.snapshot_id,
        )


@dataclass(frozen=True)
class Snapshot:
    """The player's current published snapshot, as the freshness check sees it."""

    snapshot_id: str
    published_at: datetime


@dataclass(frozen=True)
class Requested:
    """What a request did: `created` a new analysis, found the `active` one, or found the
    player `fresh` (then `analysis` is None and `snapshot` says which snapshot is current)."""

    outcome: Literal["created", "active", "fresh"]
    analysis: Analysis | None = None
    snapshot: Snapshot | None = None


def writer_database(settings: Settings) -> Database:
    """The API's narrow writer: ANALYSIS_DATABASE_URL (in production a role that may only insert
    and update the analyses table, sql/serving/analyses_role.postgresql.sql), else the publish
    target. Never the API's read-only connection."""
    if settings.analysis_database_url:
        return Database.from_url(settings.analysis_database_url, setting="ANALYSIS_DATABASE_URL")
    return Database.from_settings(settings)


class AnalysisQueue:
    """Records, finds, claims and finishes analyses in one database (thread-safe; one engine)."""

    def __init__(self, database: Database, *, pool_size: int = 4) -> None:
        if database.read_only:
            raise ValueError(f"{database} is read-only: the analyses queue needs a writer")
        self.database = database
        self._pool_size = pool_size
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            if self.database.path is not None:
                self.database.path.parent.mkdir(parents=True, exist_ok=True)
            self._engine = self.database.engine(pooled=True, pool_size=self._pool_size)
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def _ts(self, value: datetime) -> Any:
        return value if self.database.dialect == "postgresql" else utc_text(value)

    # -- the api's side ----------------------------------------------------------------------

    def request(
        self,
        username: str,
        *,
        game_count: int | None,
        client: str | None,
        now: datetime,
        fresh_seconds: float,
        max_queued: int,
        admit: Callable[[], float] | None = None,
    ) -> Requested:
        """The player's active analysis, else None-and-snapshot when it is fresh, else a new
        queued analysis; QueueFullError when the queue is full. One transaction.

        admit: asked only before a new analysis is queued (a limit per player guards new runs,
        not requests that join one); a positive answer refuses it (RefusedError, that many s)."""
        with self.engine.begin() as conn:
            if self.database.dialect == "postgresql":
                conn.execute(
                    _q("player_xact_lock_postgresql"), {"key": lock_key(f"analysis:{username}")}
                )
            active = self._active(conn, username)
            if active is not None:
                return Requested("active", active)
            row = conn.execute(_q("select_player_snapshot"), {"username": username}).first()
            if row is not None:
                published = _when(row.published_at)
                assert published is not None
                if now - published < timedelta(seconds=fresh_seconds):
                    return Requested("fresh", snapshot=Snapshot(row.snapshot_id, published))
            queued = conn.execute(_q("count_queued")).scalar_one()
            if queued >= max_queued:
                raise QueueFullError(f"{queued} analyses are queued already (the most allowed)")
            wait = admit() if admit is not None else 0.0
            if wait > 0:
                raise RefusedError(f"a new analysis of {username} is not admitted yet", wait)
            conn.execute(
                _q("insert_analysis"),
                {
                    "id": uuid.uuid4().hex,
                    "username": username,
                    "game_count": game_count,
                    "scope": ALL_GAMES,
                    "client": client,
                    "created_at": self._ts(now),
                },
            )
            # Ours: requests for one player are serialised (the lock above, or SQLite's begin
            # immediate); the unique index would turn a second insert into a no-op anyway.
            created = self._active(conn, username)
            assert created is not None
            return Requested("created", created)

    def get(self, analysis_id: str) -> Analysis | None:
        with self.engine.connect() as conn:
            row = conn.execute(_q("select_analysis"), {"id": analysis_id}).first()
            conn.rollback()
        return None if row is None else Analysis.from_row(row)

    def _active(self, conn: Connection, username: str) -> Analysis | None:
        row = conn.execute(_q("select_active_analysis"), {"username": username}).first()
        return None if row is None else Analysis.from_row(row)

    # -- the worker's side -------------------------------------------------------------------

    def claim(self, now: datetime) -> Analysis | None:
        """Marks the oldest queued analysis running and returns it; None when none is queued."""
        name = f"claim_analysis_{self.database.dialect}"
        with self.engine.begin() as conn:
            row = conn.execute(_q(name), {"now": self._ts(now)}).first()
        return None if row is None else Analysis.from_row(row)

    def finish(
        self,
        analysis_id: str,
        *,
        state: Literal["succeeded", "failed"],
        now: datetime,
        reason: str | None = None,
        snapshot_id: str | None = None,
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                _q("finish_analysis"),
                {
                    "id": analysis_id,
                    "state": state,
                    "now": self._ts(now),
                    "reason": reason,
                    "snapshot_id": snapshot_id,
                },
            )

    def requeue_stale(self, before: datetime) -> int:
        """Puts analyses left running since before `before` back in the queue; how many."""
        with self.engine.begin() as conn:
            result = conn.execute(_q("requeue_stale"), {"before": self._ts(before)})
        return int(getattr(result, "rowcount", 0) or 0)

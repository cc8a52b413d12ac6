"""The refresh pipeline's stages as plain functions, run directly or wrapped as Prefect tasks."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from adapters.chesscom import ChessComClient, ChessComError
from adapters.database import Database
from adapters.ingest import IngestReport, fetch_player
from adapters.parsing import ParseReport, build_lake
from adapters.raw_store import PlayerLockedError, RawStore
from adapters.roster import tracked_timezone
from adapters.unchanged import record_published, source_fingerprint, unchanged_snapshot
from settings import Settings
from transforms.usernames import normalize_username

if TYPE_CHECKING:
    from adapters.publish import PublishReport

logger = logging.getLogger(__name__)

# Chess.com allows one request in flight anyway (the client serialises them), so more threads
# than this only wait; they still overlap one player's parsing with another's download.
MAX_PLAYERS_IN_PARALLEL = 4

# Told each time a player's stage ends: (player, stage, outcome so far); the CLI draws progress.
StageListener = Callable[[str, str, "PlayerOutcome"], None]


def _quiet(_player: str, _stage: str, _outcome: PlayerOutcome) -> None:
    return None


@dataclass
class PlayerOutcome:
    """What one player's refresh did, or why it failed."""

    username: str
    ingest: IngestReport | None = None
    parse: ParseReport | None = None
    publish: PublishReport | None = None
    # The snapshot id still served when nothing changed since it was published (no publish).
    unchanged: str | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and not self.warnings


def ingest(
    settings: Settings, username: str, *, full: bool, client: ChessComClient | None = None
) -> IngestReport:
    """Fetch the player's changed months from Chess.com into the raw store."""
    return fetch_player(settings, username, full=full, client=client)


def parse(settings: Settings, username: str) -> ParseReport:
    """Parse the raw months whose bytes or parser changed into the Parquet lake."""
    return build_lake(settings, username)


def player_timezone(settings: Settings, username: str) -> str:
    """A tracked player's time zone is the roster's; PLAYER_TIMEZONES serves the others."""
    database = Database.from_settings(settings)
    return tracked_timezone(database, username) or settings.timezone_for(username)


def unchanged(settings: Settings, username: str) -> str | None:
    """The published snapshot id when the lake, the summary registry and the time zone are what
    it was computed from (a no-op refresh publishes nothing), else None."""
    database = Database.from_settings(settings)
    fingerprint = source_fingerprint(
        settings.lake_dir, username, player_timezone(settings, username), database
    )
    return unchanged_snapshot(settings.lake_dir, username, fingerprint, database)


def summarise_and_publish(settings: Settings, username: str) -> PublishReport:
    """Compute every summary in DuckDB from the lake and publish them in one transaction."""
    # Heavy imports here: a no-op refresh never summarises, and must not pay for DuckDB.
    from adapters.lake import Lake
    from adapters.publish import publish_player
    from adapters.warehouse import compute_summaries

    database = Database.from_settings(settings)
    lake = Lake(settings.lake_dir)
    timezone = player_timezone(settings, username)
    # Taken before the summaries: the player's lock keeps the lake as it is until the marker.
    fingerprint = source_fingerprint(settings.lake_dir, username, timezone, database)
    summaries = compute_summaries(
        lake.games_glob(username), lake.moves_glob(username), username, timezone
    )
    report = publish_player(database, username, summaries, lake.read_games(username))
    record_published(settings.lake_dir, username, fingerprint, report.snapshot_id)
    return report


def refresh_player(
    settings: Settings,
    username: str,
    *,
    full: bool = False,
    offline: bool = False,
    client: ChessComClient | None = None,
    on_stage: StageListener = _quiet,
) -> PlayerOutcome:
    """Run every stage for one player; a failure is reported, never raised."""
    outcome = PlayerOutcome(username=username)
    shown = username
    try:
        name = normalize_username(username)
        outcome.username = name
        # The player's lock covers every stage, so two refreshes of one player never interleave
        # lake writes or publish a mix; fetch_player takes the same (re-entrant) lock itself.
        with RawStore(settings.raw_dir).lock(name):
            if not offline:
                outcome.ingest = ingest(settings, name, full=full, client=client)
                name = outcome.ingest.username
                outcome.warnings += outcome.ingest.failed.values()
                on_stage(shown, "fetch", outcome)
            elif not RawStore(settings.raw_dir).stored_months(name):
                raise LookupError(
                    f"no stored archives for {name!r} under {settings.raw_dir}: "
                    "run `chess-patterns refresh` online or `chess-patterns import` first"
                )
            outcome.parse = parse(settings, name)
            # Both stages' failure messages already name the player and the month.
            outcome.warnings += outcome.parse.failed_months.values()
            on_stage(shown, "parse", outcome)
            outcome.unchanged = unchanged(settings, name)
            if outcome.unchanged is None:
                outcome.publish = summarise_and_publish(settings, name)
            on_stage(shown, "publish", outcome)
    except (ChessComError, PlayerLockedError, LookupError, ValueError) as error:
        outcome.error = str(error)
    except Exception as error:
        # One player's unexpected failure must not stop the others; the log keeps the traceback.
        logger.exception("refresh of %s failed", username)
        outcome.error = f"{username}: {type(error).__name__}: {error}"
    if outcome.error is not None:
        on_stage(shown, "failed", outcome)
    return outcome


def refresh_players(
    settings: Settings,
    usernames: Sequence[str],
    *,
    full: bool = False,
    offline: bool = False,
    on_stage: StageListener = _quiet,
) -> list[PlayerOutcome]:
    """Refresh several players side by side, sharing one polite Chess.com client."""
    with ChessComClient(settings) as client:
        workers = max(1, min(MAX_PLAYERS_IN_PARALLEL, len(usernames)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(
                pool.map(
                    lambda name: refresh_player(
                        settings, name, full=full, offline=offline, client=client, on_stage=on_stage
                    ),
                    usernames,
                )
            )

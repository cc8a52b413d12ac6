"""The refresh pipeline's stages as plain functions, run directly or wrapped as Prefect tasks."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from adapters.chesscom import ChessComClient, ChessComError
from adapters.database import Database
from adapters.ingest import IngestReport, fetch_player
from adapters.lake import Lake
from adapters.parsing import ParseReport, build_lake
from adapters.publish import PublishReport, publish_player
from adapters.raw_store import PlayerLockedError, RawStore
from adapters.warehouse import compute_summaries
from settings import Settings
from transforms.usernames import normalize_username

logger = logging.getLogger(__name__)

# Chess.com allows one request in flight anyway (the client serialises them), so more threads
# than this only wait; they still overlap one player's parsing with another's download.
MAX_PLAYERS_IN_PARALLEL = 4


@dataclass
class PlayerOutcome:
    """What one player's refresh did, or why it failed."""

    username: str
    ingest: IngestReport | None = None
    parse: ParseReport | None = None
    publish: PublishReport | None = None
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


def summarise_and_publish(settings: Settings, username: str) -> PublishReport:
    """Compute every summary in DuckDB from the lake and publish them in one transaction."""
    lake = Lake(settings.lake_dir)
    summaries = compute_summaries(
        lake.games_glob(username),
        lake.moves_glob(username),
        username,
        settings.timezone_for(username),
    )
    return publish_player(
        Database.from_settings(settings), username, summaries, lake.read_games(username)
    )


def refresh_player(
    settings: Settings,
    username: str,
    *,
    full: bool = False,
    offline: bool = False,
    client: ChessComClient | None = None,
) -> PlayerOutcome:
    """Run every stage for one player; a failure is reported, never raised."""
    outcome = PlayerOutcome(username=username)
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
            elif not RawStore(settings.raw_dir).stored_months(name):
                raise LookupError(
                    f"no stored archives for {name!r} under {settings.raw_dir}: "
                    "run `chess-patterns refresh` online or `chess-patterns import` first"
                )
            outcome.parse = parse(settings, name)
            # Both stages' failure messages already name the player and the month.
            outcome.warnings += outcome.parse.failed_months.values()
            outcome.publish = summarise_and_publish(settings, name)
    except (ChessComError, PlayerLockedError, LookupError, ValueError) as error:
        outcome.error = str(error)
    except Exception as error:
        # One player's unexpected failure must not stop the others; the log keeps the traceback.
        logger.exception("refresh of %s failed", username)
        outcome.error = f"{username}: {type(error).__name__}: {error}"
    return outcome


def refresh_players(
    settings: Settings, usernames: Sequence[str], *, full: bool = False, offline: bool = False
) -> list[PlayerOutcome]:
    """Refresh several players side by side, sharing one polite Chess.com client."""
    with ChessComClient(settings) as client:
        workers = max(1, min(MAX_PLAYERS_IN_PARALLEL, len(usernames)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(
                pool.map(
                    lambda name: refresh_player(
                        settings, name, full=full, offline=offline, client=client
                    ),
                    usernames,
                )
            )

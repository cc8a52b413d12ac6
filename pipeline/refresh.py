"""The direct refresh runner: the stages in order for each player, over adapters wired once."""

from __future__ import annotations

import errno
import functools
import logging
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from adapters.chesscom import ChessComClient, ChessComError
from adapters.database import Database
from adapters.lake import Lake
from adapters.raw_store import PlayerLockedError, RawStore, now_utc
from adapters.roster import tracked_timezone
from adapters.unchanged import record_published, source_fingerprint, unchanged_snapshot
from pipeline import ports
from pipeline.analyse import AnalyseReport, EngineFacts, analyse
from pipeline.fetch import FetchReport, fetch_player
from pipeline.parse import ParseReport, parse_player
from pipeline.ports import ChessComSource, Clock
from pipeline.publish import PublishReport, publish_player
from pipeline.summarise import SummariseReport, summarise_player
from transforms.usernames import normalize_username

if TYPE_CHECKING:
    from settings import Settings

logger = logging.getLogger(__name__)

# Chess.com allows one request in flight anyway (the client serialises them), so more threads
# than this only wait; they still overlap one player's parsing with another's download.
MAX_PLAYERS_IN_PARALLEL = 4
_DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


@dataclass(frozen=True)
class Adapters:
    """The real adapters and the settings the stages need, built once at an entry point."""

    source: ChessComSource
    store: ports.RawStore
    lake: ports.SummaryLake
    database: Database
    clock: Clock
    revalidate_after_days: int
    parse_workers: int
    timezone_for: Callable[[str], str]
    lake_root: Path  # where the no-op check keeps what each published snapshot came from
    # The engine stage (pipeline/analyse.py) and the lake it reads evaluations from; None
    # runs no engine (the engine summaries are then published empty).
    analyse: Callable[[str], AnalyseReport] | None = None
    engine_lake: EngineFacts | None = None


def build_adapters(
    settings: Settings, source: ChessComSource, database: Database | None = None
) -> Adapters:
    """Wire the real adapters from the one settings object (the caller owns `source`); the
    database is built from the settings unless the entry point already checked one."""
    target = database if database is not None else Database.from_settings(settings)
    return Adapters(
        source=source,
        store=RawStore(settings.raw_dir),
        lake=Lake(settings.lake_dir),
        database=target,
        clock=now_utc,
        revalidate_after_days=settings.revalidate_after_days,
        parse_workers=settings.parse_workers,
        timezone_for=lambda name: _timezone_for(settings, target, name),
        lake_root=settings.lake_dir,
        analyse=functools.partial(analyse, settings),
        engine_lake=Lake(settings.lake_dir),
    )


@contextmanager
def open_adapters(settings: Settings, database: Database | None = None) -> Iterator[Adapters]:
    """The real adapters with a Chess.com client that is closed on exit."""
    with ChessComClient(settings) as client:
        yield build_adapters(settings, client, database)


@dataclass
class PlayerOutcome:
    """What one player's refresh did, or why it failed."""

    username: str
    fetch: FetchReport | None = None
    parse: ParseReport | None = None
    analyse: AnalyseReport | None = None
    summarise: SummariseReport | None = None
    publish: PublishReport | None = None
    # The snapshot id still served when nothing changed since it was published (no publish).
    unchanged: str | None = None
    error: str | None = None
    error_kind: str | None = None  # the failure's exception class name, e.g. "BlockedError"
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and not self.warnings


def _timezone_for(settings: Settings, database: Database, username: str) -> str:
    """A tracked player's time zone is the roster's; PLAYER_TIMEZONES serves the others."""
    return tracked_timezone(database, username) or settings.timezone_for(username)


def source_of(adapters: Adapters, username: str, *, engine_tag: str | None = None) -> str:
    """The fingerprint of what the player's summaries are computed from (lake, registry, zone,
    engine)."""
    source = f"{adapters.timezone_for(username)}|engine={engine_tag}"
    return source_fingerprint(adapters.lake_root, username, source, adapters.database)


def unchanged(adapters: Adapters, username: str, fingerprint: str) -> str | None:
    """The published snapshot id when it was computed from `fingerprint` (a no-op refresh
    then summarises and publishes nothing), else None."""
    return unchanged_snapshot(adapters.lake_root, username, fingerprint, adapters.database)


def record(adapters: Adapters, username: str, fingerprint: str, report: PublishReport) -> None:
    """After a publish: the snapshot now served came from `fingerprint`."""
    record_published(adapters.lake_root, username, fingerprint, report.snapshot_id)


# Told each time a player's stage ends: (player, stage, outcome so far); the CLI draws progress.
StageListener = Callable[[str, str, "PlayerOutcome"], None]


def _quiet(_player: str, _stage: str, _outcome: PlayerOutcome) -> None:
    return None


def run_player(
    adapters: Adapters,
    username: str,
    *,
    full: bool = False,
    offline: bool = False,
    on_stage: StageListener = _quiet,
) -> PlayerOutcome:
    """Fetch, parse, summarise and publish one player; a failure is reported, never raised."""
    outcome = PlayerOutcome(username=username)
    shown = username
    store, lake = adapters.store, adapters.lake
    try:
        name = normalize_username(username)
        outcome.username = name
        # The player's lock covers every stage, so two refreshes of one player never interleave
        # lake writes or publish a mix; fetch_player takes the same (re-entrant) lock itself.
        with store.lock(name):
            if not offline:
                outcome.fetch = fetch_player(
                    adapters.source,
                    store,
                    name,
                    full=full,
                    now=adapters.clock(),
                    revalidate_after_days=adapters.revalidate_after_days,
                )
                name = outcome.fetch.username
                outcome.warnings += outcome.fetch.failed.values()
                on_stage(shown, "fetch", outcome)
            elif not store.stored_months(name):
                raise LookupError(
                    f"no stored archives for {name!r}: "
                    "run `chess-patterns refresh` online or `chess-patterns import` first"
                )
            outcome.parse = parse_player(store, lake, name, workers=adapters.parse_workers)
            # Both stages' failure messages already name the player and the month.
            outcome.warnings += outcome.parse.failed_months.values()
            on_stage(shown, "parse", outcome)
            tag = None
            if adapters.analyse is not None:
                # No engine is not a failure: the report says so in one line, and every
                # engine-free summary is published as always.
                outcome.analyse = adapters.analyse(name)
                tag = outcome.analyse.engine_tag
                if outcome.analyse.failed:
                    outcome.warnings.append(outcome.analyse.failed)
            engine_lake = adapters.engine_lake
            # Nothing newly analysed and the lake as published: the no-op publishes nothing.
            fingerprint = source_of(adapters, name, engine_tag=tag)
            fresh = outcome.analyse is not None and bool(outcome.analyse.analysed_now)
            outcome.unchanged = None if fresh else unchanged(adapters, name, fingerprint)
            if outcome.unchanged is None:
                outcome.summarise = summarise_player(
                    lake, name, adapters.timezone_for(name), engine_tag=tag, engine_lake=engine_lake
                )
                outcome.publish = publish_player(
                    adapters.database, lake, name, engine_tag=tag, engine_lake=engine_lake
                )
                record(adapters, name, fingerprint, outcome.publish)
            on_stage(shown, "publish", outcome)
    except (ChessComError, PlayerLockedError, LookupError, ValueError) as error:
        outcome.error = str(error)
        outcome.error_kind = type(error).__name__
    except Exception as error:
        outcome.error_kind = type(error).__name__
        if isinstance(error, OSError) and error.errno in _DISK_FULL:
            # Every write is whole-file-then-rename: a full disk tears nothing already stored.
            where = f" writing {error.filename}" if error.filename else ""
            outcome.error = (
                f"{username}: the disk is full{where} ({error.strerror}); free space under "
                "DATA_DIR and refresh again (everything stored and published before is kept)"
            )
            return outcome
        # One player's unexpected failure must not stop the others; the log keeps the traceback.
        logger.exception("refresh of %s failed", username)
        outcome.error = f"{username}: {type(error).__name__}: {error}"
    if outcome.error is not None:
        on_stage(shown, "failed", outcome)
    return outcome


def refresh_player(
    settings: Settings,
    username: str,
    *,
    full: bool = False,
    offline: bool = False,
    client: ChessComSource | None = None,
    database: Database | None = None,
) -> PlayerOutcome:
    """Run every stage for one player with adapters built from `settings`."""
    if client is not None:
        adapters = build_adapters(settings, client, database)
        return run_player(adapters, username, full=full, offline=offline)
    with open_adapters(settings, database) as adapters:
        return run_player(adapters, username, full=full, offline=offline)


def refresh_players(
    settings: Settings,
    usernames: Sequence[str],
    *,
    full: bool = False,
    offline: bool = False,
    database: Database | None = None,
    on_stage: StageListener = _quiet,
) -> list[PlayerOutcome]:
    """Refresh several players side by side, sharing one polite Chess.com client."""
    with open_adapters(settings, database) as adapters:
        workers = max(1, min(MAX_PLAYERS_IN_PARALLEL, len(usernames)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(
                pool.map(
                    lambda name: run_player(
                        adapters, name, full=full, offline=offline, on_stage=on_stage
                    ),
                    usernames,
                )
            )


__all__ = [
    "MAX_PLAYERS_IN_PARALLEL",
    "Adapters",
    "PlayerOutcome",
    "StageListener",
    "build_adapters",
    "open_adapters",
    "record",
    "refresh_player",
    "refresh_players",
    "run_player",
    "source_of",
    "unchanged",
]

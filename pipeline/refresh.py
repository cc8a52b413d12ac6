"""The direct refresh runner: the stages in order for each player, over adapters wired once."""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from adapters.chesscom import ChessComClient, ChessComError
from adapters.database import Database
from adapters.lake import Lake
from adapters.raw_store import PlayerLockedError, RawStore, now_utc
from pipeline import ports
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


def build_adapters(settings: Settings, source: ChessComSource) -> Adapters:
    """Wire the real adapters from the one settings object (the caller owns `source`)."""
    return Adapters(
        source=source,
        store=RawStore(settings.raw_dir),
        lake=Lake(settings.lake_dir),
        database=Database.from_settings(settings),
        clock=now_utc,
        revalidate_after_days=settings.revalidate_after_days,
        parse_workers=settings.parse_workers,
        timezone_for=settings.timezone_for,
    )


@contextmanager
def open_adapters(settings: Settings) -> Iterator[Adapters]:
    """The real adapters with a Chess.com client that is closed on exit."""
    with ChessComClient(settings) as client:
        yield build_adapters(settings, client)


@dataclass
class PlayerOutcome:
    """What one player's refresh did, or why it failed."""

    username: str
    fetch: FetchReport | None = None
    parse: ParseReport | None = None
    summarise: SummariseReport | None = None
    publish: PublishReport | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and not self.warnings


def run_player(
    adapters: Adapters, username: str, *, full: bool = False, offline: bool = False
) -> PlayerOutcome:
    """Fetch, parse, summarise and publish one player; a failure is reported, never raised."""
    outcome = PlayerOutcome(username=username)
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
            elif not store.stored_months(name):
                raise LookupError(
                    f"no stored archives for {name!r}: "
                    "run `chess-patterns refresh` online or `chess-patterns import` first"
                )
            outcome.parse = parse_player(store, lake, name, workers=adapters.parse_workers)
            # Both stages' failure messages already name the player and the month.
            outcome.warnings += outcome.parse.failed_months.values()
            outcome.summarise = summarise_player(lake, name, adapters.timezone_for(name))
            outcome.publish = publish_player(adapters.database, lake, name)
    except (ChessComError, PlayerLockedError, LookupError, ValueError) as error:
        outcome.error = str(error)
    except Exception as error:
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
    return outcome


def refresh_player(
    settings: Settings,
    username: str,
    *,
    full: bool = False,
    offline: bool = False,
    client: ChessComSource | None = None,
) -> PlayerOutcome:
    """Run every stage for one player with adapters built from `settings`."""
    if client is not None:
        return run_player(build_adapters(settings, client), username, full=full, offline=offline)
    with open_adapters(settings) as adapters:
        return run_player(adapters, username, full=full, offline=offline)


def refresh_players(
    settings: Settings, usernames: Sequence[str], *, full: bool = False, offline: bool = False
) -> list[PlayerOutcome]:
    """Refresh several players side by side, sharing one polite Chess.com client."""
    with open_adapters(settings) as adapters:
        workers = max(1, min(MAX_PLAYERS_IN_PARALLEL, len(usernames)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(
                pool.map(
                    lambda name: run_player(adapters, name, full=full, offline=offline),
                    usernames,
                )
            )


__all__ = [
    "MAX_PLAYERS_IN_PARALLEL",
    "Adapters",
    "PlayerOutcome",
    "build_adapters",
    "open_adapters",
    "refresh_player",
    "refresh_players",
    "run_player",
]

"""The ports the stages work over: small Protocols that the real adapters and the fakes satisfy.

The types that cross a port (archives, month answers, manifest records, parsed months) and the
errors a port raises are the adapters' own; a stage imports them, never the I/O libraries.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import polars as pl

    from adapters.chesscom import Archives, MonthResponse
    from adapters.raw_store import MonthRecord, MonthSource, MonthStatus, PlayerInfo
    from transforms.archive import ParsedMonth


class ChessComSource(Protocol):
    """The Chess.com PubAPI as the fetch stage sees it (adapters.chesscom.ChessComClient).

    Raises the adapters.chesscom errors: PlayerNotFoundError, PlayerGoneError, BlockedError,
    ChessComUnavailableError (Chess.com stopped answering), any other ChessComError for one
    month's own failure.
    """

    def archives(self, username: str) -> Archives:
        """The months listed for a player; `.username` is the canonical name."""
        ...

    def month(
        self,
        username: str,
        month: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> MonthResponse:
        """One month's body (200), or 304 when the validators still match."""
        ...


class RawStore(Protocol):
    """The raw store of monthly bodies and their manifest (adapters.raw_store.RawStore)."""

    def lock(self, username: str, timeout: float = 300.0) -> AbstractContextManager[None]:
        """Exclusive hold on one player's raw data (re-entrant within a thread)."""
        ...

    def player_info(self, username: str) -> PlayerInfo: ...

    def save_player_info(self, username: str, info: PlayerInfo) -> None: ...

    def manifest(self, username: str) -> dict[str, MonthRecord]: ...

    def stored_months(self, username: str) -> list[str]:
        """Months with a stored body, sorted `YYYY-MM`."""
        ...

    def has_month(self, username: str, month: str) -> bool: ...

    def read_month(self, username: str, month: str) -> bytes:
        """The stored body (OSError when it cannot be read)."""
        ...

    def file_sha256(self, username: str, month: str) -> str | None:
        """sha256 of the stored body, None when there is none."""
        ...

    def write_month(
        self,
        username: str,
        month: str,
        data: bytes,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        status: MonthStatus = ...,
        source: MonthSource = ...,
        now: datetime | None = None,
    ) -> bool:
        """Store a body and its record; False when the same bytes were already stored."""
        ...

    def record_check(
        self,
        username: str,
        month: str,
        *,
        status: MonthStatus,
        problem: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        now: datetime | None = None,
    ) -> None:
        """Record an attempt that stored nothing (304 or failure)."""
        ...


class Lake(Protocol):
    """The lake's partitions as the parse stage sees them (adapters.lake.Lake)."""

    def needs_parse(self, username: str, month: str, raw_sha256: str) -> bool: ...

    def months(self, username: str) -> list[str]: ...

    def meta(self, username: str, month: str) -> dict[str, Any] | None: ...

    def write_month(
        self, username: str, month: str, parsed: ParsedMonth, raw_sha256: str
    ) -> None: ...

    def remove_month(self, username: str, month: str) -> None: ...


class SummaryLake(Lake, Protocol):
    """The lake as summarise and publish see it: Parquet globs in, summary frames by key."""

    def games_glob(self, username: str) -> str: ...

    def moves_glob(self, username: str) -> str: ...

    def read_games(self, username: str) -> pl.DataFrame: ...

    def write_summaries(self, username: str, summaries: dict[str, pl.DataFrame]) -> None:
        """Replace the player's stored summaries (one Parquet file per summary)."""
        ...

    def read_summaries(self, username: str) -> dict[str, pl.DataFrame]:
        """The summaries written by the last `write_summaries`."""
        ...


# A clock: the current UTC time (datetime.now(UTC) in production, a fixed time in tests).
Clock = Callable[[], datetime]

__all__ = ["ChessComSource", "Clock", "Lake", "RawStore", "SummaryLake"]

"""The summarise stage: every summary of a player computed from the lake, left in the lake."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.warehouse import compute_summaries
from pipeline.ports import SummaryLake
from transforms.usernames import normalize_username


@dataclass(frozen=True)
class SummariseReport:
    """What one summarise did: the summaries written (catalogue order) and their total rows."""

    username: str
    summaries: tuple[str, ...]
    rows: int


def summarise_player(lake: SummaryLake, username: str, timezone: str) -> SummariseReport:
    """Compute every summary in DuckDB from the player's lake partitions and store them in the
    lake by name (Parquet), where `publish_player` reads them: no frame passes between stages."""
    user = normalize_username(username)
    summaries = compute_summaries(lake.games_glob(user), lake.moves_glob(user), user, timezone)
    lake.write_summaries(user, summaries)
    return SummariseReport(
        username=user,
        summaries=tuple(summaries),
        rows=sum(frame.height for frame in summaries.values()),
    )


__all__ = ["SummariseReport", "summarise_player"]

"""The summarise stage: every summary of a player computed from the lake, left in the lake."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.warehouse import compute_summaries
from pipeline.analyse import EngineFacts, engine_facts
from pipeline.ports import SummaryLake
from transforms.usernames import normalize_username


@dataclass(frozen=True)
class SummariseReport:
    """What one summarise did: the summaries written (catalogue order) and their total rows."""

    username: str
    summaries: tuple[str, ...]
    rows: int


def summarise_player(
    lake: SummaryLake,
    username: str,
    timezone: str,
    *,
    engine_tag: str | None = None,
    engine_lake: EngineFacts | None = None,
) -> SummariseReport:
    """Compute every summary in DuckDB from the player's lake partitions and store them in the
    lake by name (Parquet), where `publish_player` reads them: no frame passes between stages.

    The engine summaries read the evaluations stored under `engine_tag` (none: empty)."""
    user = normalize_username(username)
    engine_moves = engine_games = None
    if engine_tag is not None and engine_lake is not None:
        engine_moves, engine_games, _ = engine_facts(
            engine_lake, user, engine_tag, lake.read_games(user)
        )
    summaries = compute_summaries(
        lake.games_glob(user),
        lake.moves_glob(user),
        user,
        timezone,
        engine_moves=engine_moves,
        engine_games=engine_games,
    )
    lake.write_summaries(user, summaries)
    return SummariseReport(
        username=user,
        summaries=tuple(summaries),
        rows=sum(frame.height for frame in summaries.values()),
    )


__all__ = ["SummariseReport", "summarise_player"]

"""The analyse stage: engine evaluations of the games not yet analysed at the current settings."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Protocol

import chess.engine
import polars as pl

from adapters.engine import (
    EngineConfig,
    EngineMissingError,
    GameJob,
    engine_name,
    evaluate_in_pool,
    find_engine,
)
from adapters.lake import Lake
from settings import Settings
from transforms.engine import game_facts, move_facts

logger = logging.getLogger(__name__)

# Variants the engine plays: standard chess (from the start or a set-up position) and Chess960.
ANALYSABLE_RULES = {"chess": False, "chess960": True}


class GameSource(Protocol):
    """The parsed games and moves of a player (the lake)."""

    def read_games(self, username: str) -> pl.DataFrame: ...

    def read_moves(self, username: str) -> pl.DataFrame: ...


class EvalStore(Protocol):
    """Where evaluations live, by player and engine tag (the lake's `evals`)."""

    def analysed_games(self, username: str, engine_tag: str) -> set[str]: ...

    def write_evals(self, username: str, engine_tag: str, evals: pl.DataFrame) -> None: ...

    def read_evals(self, username: str, engine_tag: str) -> pl.DataFrame: ...


# Evaluates batches of games and yields each batch's evaluations (EVALS_SCHEMA) as it finishes:
# a process pool from the command line, Dask tasks under Prefect, an in-process engine in tests.
BatchRunner = Callable[[Sequence[Sequence[GameJob]]], Iterable[pl.DataFrame]]


@dataclass
class AnalyseReport:
    """What the analyse stage did for one player, and the coverage it leaves."""

    username: str
    engine_tag: str | None = None
    analysable_games: int = 0
    analysed_before: int = 0
    analysed_now: list[str] = field(default_factory=list)
    positions: int = 0
    # why no engine ran (e.g. no engine installed); never a failure of the refresh
    skipped: str | None = None
    # the engine stopped mid-run (the batches finished before are kept): a warning
    failed: str | None = None

    @property
    def analysed_games(self) -> int:
        return self.analysed_before + len(self.analysed_now)

    @property
    def pending(self) -> int:
        return self.analysable_games - self.analysed_games

    def describe(self) -> str:
        if self.skipped:
            return f"engine skipped: {self.skipped}"
        if self.failed:
            return f"engine failed: {self.failed}"
        return (
            f"engine analysed {len(self.analysed_now)} games ({self.positions} positions), "
            f"{self.analysed_games} of {self.analysable_games} analysed, {self.pending} waiting"
        )


def engine_tag(name: str, config: EngineConfig) -> str:
    """What the evaluations are tagged with: the engine's name and version, and its limit."""
    return f"{name}; {config.limit}"


def game_jobs(username: str, games: pl.DataFrame, moves: pl.DataFrame) -> list[GameJob]:
    """Every analysable game of the player as an engine job, newest first."""
    playable = games.filter(
        pl.col("parse_error").is_null()
        & (pl.col("plies").fill_null(0) > 0)
        & pl.col("rules").is_in(list(ANALYSABLE_RULES))
    ).sort(["end_time", "game_id"], descending=[True, False], nulls_last=True)
    by_game = (
        moves.filter(pl.col("game_id").is_in(playable.get_column("game_id").implode()))
        .sort("game_id", "ply")
        .group_by("game_id", maintain_order=True)
        .agg(pl.col("uci"))
    )
    ucis = dict(zip(by_game["game_id"].to_list(), by_game["uci"].to_list(), strict=True))
    jobs = []
    for game_id, rules, fen in playable.select("game_id", "rules", "initial_fen").iter_rows():
        moves_of_game = ucis.get(game_id)
        if not moves_of_game or any(m is None for m in moves_of_game):
            continue
        jobs.append(GameJob(game_id, username, fen, tuple(moves_of_game), ANALYSABLE_RULES[rules]))
    return jobs


def analyse_player(
    username: str,
    *,
    source: GameSource,
    store: EvalStore,
    run_batches: BatchRunner,
    tag: str,
    budget_games: int,
    batch_games: int,
) -> AnalyseReport:
    """Evaluate up to `budget_games` of the newest games not yet evaluated under `tag`.

    Each finished batch is written at once, so an interrupted run keeps what it finished and the
    next run starts after it; a game already stored under the tag is never evaluated again.
    """
    report = AnalyseReport(username=username, engine_tag=tag)
    jobs = game_jobs(username, source.read_games(username), source.read_moves(username))
    done = store.analysed_games(username, tag)
    report.analysable_games = len(jobs)
    report.analysed_before = sum(job.game_id in done for job in jobs)
    todo = [job for job in jobs if job.game_id not in done][: max(0, budget_games)]
    if not todo:
        return report
    batches = [todo[i : i + batch_games] for i in range(0, len(todo), batch_games)]
    for evals in run_batches(batches):
        store.write_evals(username, tag, evals)
        report.analysed_now += sorted(set(evals.get_column("game_id").to_list()))
        report.positions += evals.height
    return report


def engine_config(settings: Settings) -> EngineConfig:
    """The engine settings (raises EngineMissingError when there is no engine to run)."""
    return EngineConfig(
        path=find_engine(settings.stockfish_path),
        nodes=settings.engine_nodes,
        hash_mb=settings.engine_hash_mb,
    )


def pool_runner(config: EngineConfig, workers: int) -> BatchRunner:
    """The command line's runner: `workers` engine processes (ENGINE_WORKERS)."""

    def run(batches: Sequence[Sequence[GameJob]]) -> Iterable[pl.DataFrame]:
        return evaluate_in_pool(config, batches, workers)

    return run


def analyse(
    settings: Settings,
    username: str,
    *,
    runner: Callable[[EngineConfig], BatchRunner] | None = None,
) -> AnalyseReport:
    """The stage as the refresh runs it: the lake, the configured engine, a budget per refresh.

    Without an engine the report says so in one line and nothing else changes, so the refresh
    still publishes every engine-free summary.
    """
    report = AnalyseReport(username=username)
    try:
        config = engine_config(settings)
        tag = engine_tag(engine_name(config), config)
    except EngineMissingError as error:
        report.skipped = str(error)
        return report
    lake = Lake(settings.lake_dir)
    make_runner = runner or (lambda c: pool_runner(c, settings.engine_workers))
    try:
        return analyse_player(
            username,
            source=lake,
            store=lake,
            run_batches=make_runner(config),
            tag=tag,
            budget_games=settings.engine_budget_games,
            batch_games=settings.engine_batch_games,
        )
    except (chess.engine.EngineError, chess.engine.EngineTerminatedError, OSError) as error:
        report.failed = f"{username}: {type(error).__name__}: {error}"
    except BrokenProcessPool as error:
        report.failed = f"{username}: the engine worker pool broke: {error}"
    report.engine_tag = tag
    logger.warning("engine analysis of %s stopped: %s", username, report.failed)
    return report


class EngineFacts(GameSource, EvalStore, Protocol):
    """What the summarise step reads the engine facts from (the lake is both)."""


def engine_facts(
    lake: EngineFacts, username: str, tag: str | None, games: pl.DataFrame
) -> tuple[pl.DataFrame | None, pl.DataFrame | None, pl.DataFrame]:
    """(per-move facts, per-game facts, games with engine_accuracy and acpl) under the tag.

    The games' columns are the player's side of each analysed game, null elsewhere.
    """
    if tag is None:
        return None, None, games
    evals = lake.read_evals(username, tag)
    if evals.is_empty():
        return None, None, games
    moves = lake.read_moves(username)
    per_move = move_facts(moves, evals)
    per_game = game_facts(moves, evals)
    mine = per_game.select("game_id", "color", "engine_accuracy", "acpl")
    games = games.drop("engine_accuracy", "acpl", strict=False).join(
        mine, on=["game_id", "color"], how="left"
    )
    return per_move, per_game, games

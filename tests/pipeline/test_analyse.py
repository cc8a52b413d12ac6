"""The analyse stage: budget, newest first, never twice at one setting, and no engine at all."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

import polars as pl
import pytest

from adapters.database import Database
from adapters.engine import Engine, EngineConfig, EngineMissingError, GameJob, find_engine
from adapters.lake import Lake
from adapters.raw_store import RawStore
from adapters.reads import read_summary_rows
from pipeline.analyse import AnalyseReport, BatchRunner, analyse, analyse_player, game_jobs
from pipeline.parse import parse_player
from pipeline.refresh import refresh_player
from settings import Settings
from transforms.engine import EVALS_SCHEMA

PLAYER = "wizardchiken"  # 15 real games in one month (2023/01)
NODES = 300  # the policy, not the engine's strength, is under test


def _settings(fixtures_dir: Path, tmp_path: Path, **values: object) -> Settings:
    settings = Settings.model_validate(
        {
            "data_dir": tmp_path / "data",
            "database_url": f"sqlite:///{tmp_path / 'published.sqlite'}",
            "parse_workers": 1,
            "engine_workers": 1,
            "engine_nodes": NODES,
            "engine_batch_games": 2,
            **values,
        }
    )
    shutil.copytree(fixtures_dir / PLAYER, settings.raw_dir / PLAYER)
    return settings


def _engine_or_skip() -> str:
    try:
        return find_engine(None)
    except EngineMissingError as error:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(error))


class _CountingRunner:
    """The in-process runner with a real engine, counting the searches it asks for."""

    def __init__(self) -> None:
        self.searches = 0
        self.games: list[str] = []

    def __call__(self, config: EngineConfig) -> BatchRunner:
        def run(batches: Sequence[Sequence[GameJob]]) -> Iterable[pl.DataFrame]:
            with Engine(config) as engine:
                for batch in batches:
                    self.games += [job.game_id for job in batch]
                    yield engine.evaluate_games(batch)
                    self.searches = self.searches + engine.calls
                    engine.calls = 0

        return run


def test_budget_newest_first_and_never_twice(fixtures_dir: Path, tmp_path: Path) -> None:
    _engine_or_skip()
    settings = _settings(fixtures_dir, tmp_path, engine_budget_games=4)
    parse_player(RawStore(settings.raw_dir), Lake(settings.lake_dir), PLAYER, workers=1)
    lake = Lake(settings.lake_dir)
    games = lake.read_games(PLAYER)
    newest = (
        games.filter(pl.col("plies") > 0)
        .sort(["end_time", "game_id"], descending=[True, False])
        .get_column("game_id")
        .to_list()
    )
    first_runner = _CountingRunner()
    first = analyse(settings, PLAYER, runner=first_runner)
    assert first.skipped is None
    assert first_runner.games == newest[:4]  # the budget, newest first
    assert sorted(first.analysed_now) == sorted(newest[:4])
    assert first_runner.searches > 0
    assert first.analysable_games == len(newest)

    second_runner = _CountingRunner()
    second = analyse(settings, PLAYER, runner=second_runner)
    assert second_runner.games == newest[4:8]  # the next four; none of the first four again
    assert second.analysed_before == 4

    # everything analysed: a further refresh makes no engine call at all
    everything = settings.model_copy(update={"engine_budget_games": 100})
    analyse(everything, PLAYER, runner=_CountingRunner())
    last_runner = _CountingRunner()
    last = analyse(everything, PLAYER, runner=last_runner)
    assert (last_runner.searches, last_runner.games, last.pending) == (0, [], 0)
    assert last.analysed_games == len(newest)
    tag = last.engine_tag
    assert tag is not None
    assert tag.startswith("Stockfish")
    assert f"nodes={NODES}" in tag
    evals = lake.read_evals(PLAYER, tag)
    assert evals.select("game_id", "ply").is_duplicated().sum() == 0
    plies = dict(games.select("game_id", "plies").iter_rows())
    assert evals.group_by("game_id").len().height == len(newest)
    for game_id, count in evals.group_by("game_id").len().iter_rows():
        assert count == plies[game_id] + 1  # every position, the start included

    # other settings are another tag: the games are analysed again, under it
    other = everything.model_copy(update={"engine_nodes": NODES + 1, "engine_budget_games": 1})
    other_runner = _CountingRunner()
    analyse(other, PLAYER, runner=other_runner)
    assert other_runner.games == newest[:1]


class _FakeLake:
    """In-memory games, moves and evals: the stage's policy without files or an engine."""

    def __init__(self, games: pl.DataFrame, moves: pl.DataFrame) -> None:
        self.games, self.moves = games, moves
        self.evals: dict[str, list[pl.DataFrame]] = {}

    def read_games(self, username: str) -> pl.DataFrame:
        return self.games

    def read_moves(self, username: str) -> pl.DataFrame:
        return self.moves

    def analysed_games(self, username: str, engine_tag: str) -> set[str]:
        return {g for frame in self.evals.get(engine_tag, []) for g in frame["game_id"].to_list()}

    def write_evals(self, username: str, engine_tag: str, evals: pl.DataFrame) -> None:
        self.evals.setdefault(engine_tag, []).append(evals)

    def read_evals(self, username: str, engine_tag: str) -> pl.DataFrame:
        return pl.concat(self.evals.get(engine_tag, [pl.DataFrame(schema=EVALS_SCHEMA)]))


def _fake_runner(calls: list[list[str]]) -> BatchRunner:
    def run(batches: Sequence[Sequence[GameJob]]) -> Iterable[pl.DataFrame]:
        for batch in batches:
            calls.append([job.game_id for job in batch])
            rows = [
                (job.game_id, job.username, ply, ply % 2 == 0, 0, None, None, 1, "fake", "n=1")
                for job in batch
                for ply in range(len(job.moves) + 1)
            ]
            yield pl.DataFrame(rows, schema=EVALS_SCHEMA, orient="row")

    return run


def test_budget_over_fakes_in_batches(fixtures_dir: Path, tmp_path: Path) -> None:
    settings = _settings(fixtures_dir, tmp_path)
    parse_player(RawStore(settings.raw_dir), Lake(settings.lake_dir), PLAYER, workers=1)
    lake = Lake(settings.lake_dir)
    fake = _FakeLake(lake.read_games(PLAYER), lake.read_moves(PLAYER))
    jobs = game_jobs(PLAYER, fake.games, fake.moves)
    calls: list[list[str]] = []

    def run(budget: int) -> AnalyseReport:
        return analyse_player(
            PLAYER,
            source=fake,
            store=fake,
            run_batches=_fake_runner(calls),
            tag="fake",
            budget_games=budget,
            batch_games=3,
        )

    report = run(7)
    assert [len(batch) for batch in calls] == [3, 3, 1]
    assert [g for batch in calls for g in batch] == [job.game_id for job in jobs[:7]]
    assert report.positions == sum(len(job.moves) + 1 for job in jobs[:7])
    calls.clear()
    again = run(100)
    assert [g for batch in calls for g in batch] == [job.game_id for job in jobs[7:]]
    assert again.pending == 0
    calls.clear()
    run(100)
    assert calls == []


def test_refresh_publishes_engine_numbers_and_analyses_nothing_twice(
    fixtures_dir: Path, tmp_path: Path
) -> None:
    _engine_or_skip()
    settings = _settings(fixtures_dir, tmp_path, engine_budget_games=100)
    first = refresh_player(settings, PLAYER, offline=True)
    assert first.ok, first.error or first.warnings
    assert first.analyse is not None
    assert first.analyse.pending == 0
    assert len(first.analyse.analysed_now) == first.analyse.analysable_games > 0
    database_url = settings.resolved_database_url
    database = Database.from_url(database_url)
    overall = [
        r
        for r in read_summary_rows(database, PLAYER, "engine_accuracy")
        if (r["time_class"], r["color"], r["phase"], r["month"]) == ("all", "all", "all", "all")
    ]
    assert len(overall) == 1
    assert overall[0]["analysed_games"] == first.analyse.analysable_games
    assert 0 < overall[0]["game_accuracy"] <= 100

    from sqlalchemy import create_engine, text

    with create_engine(database_url).connect() as conn:
        published = conn.execute(
            text("select count(engine_accuracy), count(acpl) from games where username = :u"),
            {"u": PLAYER},
        ).one()
    assert tuple(published) == (first.analyse.analysable_games,) * 2

    second = refresh_player(settings, PLAYER, offline=True)
    assert second.analyse is not None
    assert (second.analyse.analysed_now, second.analyse.positions) == ([], 0)
    assert first.publish is not None
    # Nothing new analysed, nothing changed: the no-op publishes nothing, the snapshot stays.
    assert second.publish is None
    assert second.unchanged == first.publish.snapshot_id  # the same numbers


def test_missing_engine_one_line_and_everything_else_published(
    fixtures_dir: Path, tmp_path: Path
) -> None:
    settings = _settings(
        fixtures_dir,
        tmp_path,
        engine_budget_games=100,
        stockfish_path=str(tmp_path / "no" / "stockfish"),
    )
    outcome = refresh_player(settings, PLAYER, offline=True)
    assert outcome.ok, outcome.error or outcome.warnings  # no engine is not a failed refresh
    assert outcome.analyse is not None
    assert outcome.analyse.skipped is not None
    line = outcome.analyse.describe()
    assert "install stockfish or set STOCKFISH_PATH" in line
    assert "\n" not in line
    database_url = settings.resolved_database_url
    database = Database.from_url(database_url)
    results = read_summary_rows(database, PLAYER, "results")
    assert [r["games"] for r in results if (r["time_class"], r["color"]) == ("all", "all")] == [15]
    coverage = [
        r["coverage"]
        for r in read_summary_rows(database, PLAYER, "engine_accuracy")
        if (r["time_class"], r["color"], r["phase"], r["month"]) == ("all", "all", "all", "all")
    ]
    assert coverage == [0.0]


def test_engine_dying_mid_run_keeps_finished_batches(fixtures_dir: Path, tmp_path: Path) -> None:
    import chess.engine

    _engine_or_skip()
    settings = _settings(fixtures_dir, tmp_path, engine_budget_games=6)
    parse_player(RawStore(settings.raw_dir), Lake(settings.lake_dir), PLAYER, workers=1)

    def dies_after_one(config: EngineConfig) -> BatchRunner:
        def run(batches: Sequence[Sequence[GameJob]]) -> Iterable[pl.DataFrame]:
            with Engine(config) as engine:
                yield engine.evaluate_games(batches[0])
            raise chess.engine.EngineTerminatedError("engine process died unexpectedly")

        return run

    report = analyse(settings, PLAYER, runner=dies_after_one)
    assert report.failed is not None
    assert "EngineTerminatedError" in report.failed
    assert report.engine_tag is not None
    kept = Lake(settings.lake_dir).analysed_games(PLAYER, report.engine_tag)
    assert len(kept) == settings.engine_batch_games  # the first batch, written before the crash
    again = _CountingRunner()
    analyse(settings, PLAYER, runner=again)
    assert not set(again.games) & kept

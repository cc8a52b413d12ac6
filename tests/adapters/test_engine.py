"""The Stockfish adapter on known positions: a mate in one, a hung queen, repeatability."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import polars as pl
import pytest

from adapters.engine import (
    Engine,
    EngineConfig,
    EngineMissingError,
    GameJob,
    evaluate_in_pool,
    find_engine,
)
from transforms.engine import move_facts

NODES = 2_000  # enough to see a mate in one and a queen en prise, fast in CI

SCHOLARS_MATE = ("e2e4", "e7e5", "f1c4", "b8c6", "d1h5", "g8f6", "h5f7")
HUNG_QUEEN = ("e2e4", "e7e5", "d1h5", "b8c6", "h5e5", "c6e5")


def _config() -> EngineConfig:
    try:
        return EngineConfig(path=find_engine(None), nodes=NODES)
    except EngineMissingError as error:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(error))


def _moves(job: GameJob) -> pl.DataFrame:
    n = len(job.moves)
    return pl.DataFrame(
        {
            "game_id": [job.game_id] * n,
            "ply": list(range(1, n + 1)),
            "color": ["white" if i % 2 == 0 else "black" for i in range(n)],
            "is_player_move": [True] * n,
            "phase": ["opening"] * n,
            "clock_share": [None] * n,
        },
        schema_overrides={"ply": pl.Int32, "clock_share": pl.Float64},
    )


def test_mate_in_one_scores_a_mate_and_no_judgement_for_the_mating_side() -> None:
    job = GameJob("scholar", "me", None, SCHOLARS_MATE)
    with Engine(_config()) as engine:
        evals = engine.evaluate_games([job])
    assert evals["ply"].to_list() == list(range(8))
    before_mate = evals.row(6, named=True)
    assert before_mate["mate"] == 1  # White (to move) mates in one
    assert before_mate["best_uci"] == "h5f7"
    mated = evals.row(7, named=True)
    assert (mated["mate"], mated["white_to_move"], mated["best_uci"]) == (0, False, None)
    facts = move_facts(_moves(job), evals)
    mate_move = facts.filter(pl.col("ply") == 7).row(0, named=True)
    assert mate_move["judgement"] is None
    assert mate_move["accuracy"] == 100.0
    # 3...Nf6?? allowed it: a blunder by Black
    assert facts.filter(pl.col("ply") == 6)["judgement"].item() == "blunder"


def test_hung_queen_is_a_blunder() -> None:
    job = GameJob("queen", "me", None, HUNG_QUEEN)
    with Engine(_config()) as engine:
        evals = engine.evaluate_games([job])
        assert engine.calls == len(HUNG_QUEEN) + 1
    facts = move_facts(_moves(job), evals)
    queen_move = facts.filter(pl.col("ply") == 5).row(0, named=True)
    assert queen_move["judgement"] == "blunder"
    assert queen_move["cp_after"] <= -500  # a queen for a pawn
    assert queen_move["cp_loss"] >= 500
    # the recapture is what the engine wanted
    assert facts.filter(pl.col("ply") == 6)["judgement"].item() is None


def test_same_game_same_evaluations_in_any_batch_and_worker_count() -> None:
    config = _config()
    jobs = [GameJob("a", "me", None, HUNG_QUEEN), GameJob("b", "me", None, SCHOLARS_MATE)]
    alone = pl.concat(list(evaluate_in_pool(config, [[jobs[1]], [jobs[0]]], workers=1)))
    together = pl.concat(list(evaluate_in_pool(config, [jobs], workers=1)))
    pooled = pl.concat(list(evaluate_in_pool(config, [[jobs[0]], [jobs[1]]], workers=2)))
    key = ["game_id", "ply"]
    assert alone.sort(key).equals(together.sort(key))
    assert pooled.sort(key).equals(together.sort(key))
    assert together["engine"][0].startswith("Stockfish")
    assert together["engine_limit"][0] == f"nodes={NODES} hash=16MB threads=1"


def test_missing_engine_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(EngineMissingError, match="install stockfish or set STOCKFISH_PATH") as e:
        find_engine(str(tmp_path / "no-such-engine"))
    assert "\n" not in str(e.value)
    not_an_engine = tmp_path / "fake"
    not_an_engine.write_text("#!/bin/sh\nexit 1\n")
    not_an_engine.chmod(not_an_engine.stat().st_mode | stat.S_IEXEC)
    with pytest.raises(EngineMissingError, match="install stockfish or set STOCKFISH_PATH"):
        Engine(EngineConfig(path=str(not_an_engine), nodes=1))

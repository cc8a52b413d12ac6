"""The engine summaries on a hand-worked game (the one of tests/transforms/test_engine.py)."""

from __future__ import annotations

import polars as pl
import pytest

from adapters.warehouse import compute_summaries_from_frames
from tests.warehouse.frames import (
    engine_frames,
    evals_frame,
    game,
    games_frame,
    moves_for,
    moves_frame,
)
from tests.warehouse.helpers import row, wilson

# g000 (analysed): White's evaluations 0, +100, +200, -100 over 3 plies; the player is White.
# Her moves: ply 1 (no judgement, loss 0) and ply 3 (+200 -> -100: a blunder from a winning
# position, loss 300): one throw, one missed win. Black's inaccuracy at ply 2 is not hers.
# Game accuracy 47.758298 and ACPL 150 (worked out in tests/transforms/test_engine.py).
# g001 (not analysed) has moves, so coverage is 1 of 2.


@pytest.fixture(scope="module")
def summaries() -> dict[str, pl.DataFrame]:
    games = games_frame([game(0, plies=3, result="loss"), game(1, plies=3)])
    shares = [{"clock_share": 0.5}, {"clock_share": 0.5}, {"clock_share": 0.02}]
    moves = moves_frame(moves_for("g000", "white", shares) + moves_for("g001", "white", shares))
    engine_moves, engine_games = engine_frames(moves, evals_frame({"g000": [0, 100, 200, -100]}))
    return compute_summaries_from_frames(
        games, moves, "alice", engine_moves=engine_moves, engine_games=engine_games
    )


def test_engine_accuracy(summaries: dict[str, pl.DataFrame]) -> None:
    overall = row(
        summaries["engine_accuracy"], time_class="all", color="all", phase="all", month="all"
    )
    assert (overall["games"], overall["analysed_games"], overall["analysed_moves"]) == (2, 1, 2)
    assert overall["coverage"] == 0.5
    assert (overall["coverage_low"], overall["coverage_high"]) == pytest.approx(wilson(1, 2))
    assert overall["game_accuracy"] == pytest.approx(47.758298, abs=1e-5)
    assert (overall["game_accuracy_low"], overall["game_accuracy_high"]) == (0.0, 100.0)
    assert overall["move_accuracy"] == pytest.approx((100.0 + 30.059786) / 2, abs=1e-5)
    assert overall["acpl"] == 150.0
    assert overall["low_sample"] is True
    opening = row(
        summaries["engine_accuracy"], time_class="all", color="all", phase="opening", month="all"
    )
    assert opening["game_accuracy"] is None  # a whole-game figure


def test_engine_mistakes_by_phase_and_clock(summaries: dict[str, pl.DataFrame]) -> None:
    frame = summaries["engine_mistakes"]
    overall = row(frame, time_class="all", color="all", phase="all", clock_bucket="all")
    assert (overall["moves"], overall["inaccuracies"], overall["blunders"]) == (2, 0, 1)
    assert overall["blunders_per_100"] == 50.0
    low, high = wilson(1, 2)
    assert overall["blunders_per_100_low"] == pytest.approx(100 * low)
    assert overall["blunders_per_100_high"] == pytest.approx(100 * high)
    # the blunder came with 2 % of the clock left, the quiet move with 50 %
    trouble = row(frame, time_class="all", color="all", phase="all", clock_bucket="le_3")
    assert (trouble["moves"], trouble["blunders"]) == (1, 1)
    calm = row(frame, time_class="all", color="all", phase="all", clock_bucket="ge_50")
    assert (calm["moves"], calm["blunders"]) == (1, 0)


def test_engine_throws(summaries: dict[str, pl.DataFrame]) -> None:
    overall = row(summaries["engine_throws"], time_class="all", color="all")
    assert (overall["games"], overall["analysed_games"], overall["winning_games"]) == (2, 1, 1)
    assert (overall["throws"], overall["throw_games"], overall["throw_games_lost"]) == (1, 1, 1)
    assert (overall["missed_wins"], overall["missed_win_games_not_won"]) == (1, 1)
    assert overall["throw_share"] == 1.0
    assert overall["throw_share_low"] == pytest.approx(wilson(1, 1)[0])


def test_engine_conversion_needs_an_edge_held_4_plies(summaries: dict[str, pl.DataFrame]) -> None:
    # +100, +200, -100 for the player: never +2 for 4 plies in a row
    assert summaries["engine_conversion"].is_empty()

"""Engine formulas against values worked by hand from patterns.md (Lichess' constants)."""

from __future__ import annotations

import math

import polars as pl
import pytest

from transforms.engine import (
    EVALS_SCHEMA,
    centipawn_loss,
    game_accuracy,
    game_facts,
    judgement,
    mate_cp,
    move_accuracy,
    move_facts,
    volatility_weights,
    white_cp,
    win_percent,
    window_size,
)

# Win% = 50 + 50 * (2 / (1 + e^(-0.00368208 cp)) - 1), worked out by hand:
# cp 100: e^-0.368208 = 0.691981, 2 / 1.691981 = 1.182047 -> 59.10259
HAND_WIN = {0: 50.0, 100: 59.10259, 200: 67.621164, -300: 24.88745, 1000: 97.544744}


@pytest.mark.parametrize(("cp", "expected"), sorted(HAND_WIN.items()))
def test_win_percent(cp: int, expected: float) -> None:
    assert win_percent(cp) == pytest.approx(expected, abs=1e-5)


def test_win_percent_clamps_at_1000_centipawns() -> None:
    assert win_percent(5000) == win_percent(1000)
    assert win_percent(-5000) == pytest.approx(100 - HAND_WIN[1000], abs=1e-5)


def test_mates_as_centipawns() -> None:
    assert mate_cp(1, True) == 2000
    assert mate_cp(-3, False) == -1800
    assert mate_cp(12, True) == 1100  # N is capped at 10
    assert mate_cp(0, True) == -2100  # White to move and checkmated
    assert mate_cp(0, False) == 2100
    assert white_cp(None, 1, True) == 1000  # every mate is past the ±1000 clamp
    assert white_cp(-1500, None, True) == -1000
    assert white_cp(35, None, False) == 35


# accuracy = 103.1668 e^(-0.04354 d) - 3.1669 + 1: d = 10 -> 103.1668 * 0.647007 - 2.1669
@pytest.mark.parametrize(
    ("drop", "expected"), [(5, 80.81704), (10, 64.582619), (15, 51.524192), (30, 25.775552)]
)
def test_move_accuracy(drop: float, expected: float) -> None:
    assert move_accuracy(60.0, 60.0 - drop) == pytest.approx(expected, abs=1e-5)


def test_move_accuracy_bounds() -> None:
    assert move_accuracy(40.0, 55.0) == 100.0  # Win% went up
    assert move_accuracy(40.0, 40.0) == 100.0
    assert move_accuracy(97.5, 2.5) == 0.0  # 103.17 e^(-4.13) - 2.17 < 0


def test_judgements_at_5_10_15_points() -> None:
    assert judgement(60.0, 55.1) is None
    assert judgement(60.0, 55.0) == "inaccuracy"
    assert judgement(60.0, 50.0) == "mistake"
    assert judgement(60.0, 45.0) == "blunder"
    assert judgement(40.0, 90.0) is None


def test_centipawn_loss_clamped() -> None:
    assert centipawn_loss(200, -100) == 300
    assert centipawn_loss(-100, 50) == 0
    assert centipawn_loss(2000, -2000) == 1000


def test_window_size() -> None:
    assert [window_size(p) for p in (1, 19, 20, 29, 30, 79, 80, 200)] == [2, 2, 2, 2, 3, 7, 8, 8]


def test_volatility_weights_copy_the_first_window() -> None:
    # 30 plies -> w = 3: one copy of the first window, then 29 sliding windows = 30 weights.
    # sd(0, 1, 4) = sqrt(((5/3)^2 + (2/3)^2 + (7/3)^2) / 3) = sqrt(26/9) = 1.699673;
    # sd(1, 4, 9) = sqrt(98/9) = 3.299832; the late windows (squares in the hundreds) clamp at 12
    values = [float(i * i) for i in range(31)]
    weights = volatility_weights(values)
    assert len(weights) == 30
    assert weights[:3] == pytest.approx([1.699673, 1.699673, 3.299832], abs=1e-6)
    assert weights[-1] == 12.0
    assert volatility_weights([50.0, 50.0, 50.0]) == [0.5, 0.5]


# A 3-ply game, evaluations 0, +100, +200, -100 for White. Win%: 50, 59.10259, 67.621164,
# 40.89741. w = 2, so weights are |a - b| / 2: 4.551295, 4.259287, 13.36 -> 12.
# 1. White 50 -> 59.10: 100. 2. Black 40.89741 -> 32.378836, drop 8.518574: accuracy
# 103.1668 e^(-0.370909) - 2.1669 = 69.029936 (inaccuracy). 3. White 67.621164 -> 40.89741,
# drop 26.723753: 30.059786 (blunder, from +200: a throw and a missed win).
# White: weighted (100 * 4.551295 + 30.059786 * 12) / 16.551295 = 49.292431, harmonic
# 2 / (1/100 + 1/30.059786) = 46.224165, game accuracy 47.758298. Black: 69.029936.
GAME_WINS = [50.0, 59.10258971916128, 67.6211637485054, 40.89741028083871]


def test_game_accuracy_hand_worked() -> None:
    white, black = game_accuracy(GAME_WINS)
    assert white == pytest.approx(47.758298, abs=1e-5)
    assert black == pytest.approx(69.029936, abs=1e-5)


def test_game_accuracy_when_black_moves_first() -> None:
    # the same sequence with the colours swapped: Black's values are 100 - White's
    black, white = game_accuracy([100 - v for v in GAME_WINS], white_moves_first=False)[::-1]
    assert black == pytest.approx(47.758298, abs=1e-5)
    assert white == pytest.approx(69.029936, abs=1e-5)


def _frames() -> tuple[pl.DataFrame, pl.DataFrame]:
    moves = pl.DataFrame(
        {
            "game_id": ["g"] * 3,
            "ply": [1, 2, 3],
            "color": ["white", "black", "white"],
            "is_player_move": [True, False, True],
            "phase": ["opening"] * 3,
            "clock_share": [0.9, 0.8, 0.02],
        },
        schema_overrides={"ply": pl.Int32},
    )
    evals = pl.DataFrame(
        {
            "game_id": ["g"] * 4,
            "username": ["me"] * 4,
            "ply": [0, 1, 2, 3],
            "white_to_move": [True, False, True, False],
            "cp": [0, 100, 200, -100],
            "mate": [None, None, None, None],
            "best_uci": ["e2e4", "e7e5", "g1f3", None],
            "nodes": [1, 1, 1, 1],
            "engine": ["x"] * 4,
            "engine_limit": ["y"] * 4,
        },
        schema=EVALS_SCHEMA,
    )
    return moves, evals


def test_move_facts_hand_worked() -> None:
    facts = move_facts(*_frames())
    assert facts["cp_before"].to_list() == [0, -100, 200]
    assert facts["cp_after"].to_list() == [100, -200, -100]
    assert facts["cp_loss"].to_list() == [0, 100, 300]
    assert facts["judgement"].to_list() == [None, "inaccuracy", "blunder"]
    assert facts["accuracy"].to_list() == pytest.approx([100.0, 69.029936, 30.059786], abs=1e-5)
    assert facts["is_throw"].to_list() == [False, False, True]
    assert facts["is_missed_win"].to_list() == [False, False, True]


def test_game_facts_hand_worked() -> None:
    facts = game_facts(*_frames())
    rows = {r["color"]: r for r in facts.iter_rows(named=True)}
    assert rows["white"]["engine_accuracy"] == pytest.approx(47.758298, abs=1e-5)
    assert rows["white"]["acpl"] == 150.0  # (0 + 300) / 2
    assert rows["white"]["analysed_moves"] == 2
    assert rows["black"]["engine_accuracy"] == pytest.approx(69.029936, abs=1e-5)
    assert rows["black"]["acpl"] == 100.0


def test_game_facts_skip_a_game_with_a_missing_position() -> None:
    moves, evals = _frames()
    assert game_facts(moves, evals.filter(pl.col("ply") != 2)).is_empty()


def test_checkmate_position_is_a_win_for_the_mover() -> None:
    # the last move mates: the position after it is "side to move checkmated" (mate 0)
    moves, evals = _frames()
    mated = evals.with_columns(
        cp=pl.when(pl.col("ply") == 3).then(None).otherwise(pl.col("cp")),
        mate=pl.when(pl.col("ply") == 3).then(0).otherwise(None).cast(pl.Int32),
    )
    last = move_facts(moves, mated).row(2, named=True)
    assert last["cp_after"] == 1000
    assert last["judgement"] is None
    assert last["accuracy"] == 100.0
    assert not math.isnan(last["win_after"])

"""`results` on a hand-made player whose right answers are worked out below by hand."""

from __future__ import annotations

import math

import polars as pl
import pytest

from adapters.warehouse import compute_summaries_from_frames
from tests.warehouse.frames import empty_moves, game, games_frame


def _e(me: float, opp: float) -> float:
    return 1 / (1 + 10 ** ((opp - me) / 400))


@pytest.fixture(scope="module")
def results() -> pl.DataFrame:
    games = games_frame(
        [
            game(0, result="win", rating=1500, opponent_rating=1500),
            game(1, result="draw", rating=1500, opponent_rating=1700),
            # a website download without Elo headers, unrated
            game(2, result="loss", color="black", rating=None, opponent_rating=None, rated=False),
            game(
                3,
                result="win",
                color="black",
                time_class="rapid",
                rating=1600,
                opponent_rating=1400,
                rated=False,
            ),
            game(
                4,
                result="draw",
                time_class="daily",
                rating=1500,
                opponent_rating=1300,
                base_seconds=None,
                time_control="1/86400",
                days_per_move=1,
            ),
            # somebody else's game in the same frame is ignored
            game(5, username="carol"),
        ]
    )
    return compute_summaries_from_frames(games, empty_moves(), "Alice")["results"]


def _row(frame: pl.DataFrame, time_class: str, color: str) -> dict[str, object]:
    rows = frame.filter((pl.col("time_class") == time_class) & (pl.col("color") == color))
    assert rows.height == 1, (time_class, color)
    return rows.row(0, named=True)


def test_all_row_by_hand(results: pl.DataFrame) -> None:
    row = _row(results, "all", "all")
    assert row["username"] == "alice"
    assert (row["games"], row["wins"], row["draws"], row["losses"]) == (5, 2, 2, 1)
    assert row["score"] == pytest.approx(0.6)
    # scores 1, .5, 0, 1, .5: sample sd = sqrt(.7 / 4), normal half width 0.3667: [.2333, .9667].
    # Wilson of .6 out of 5: centre (.6 + .38416) / 1.76832 = .55655, half
    # 1.96 * sqrt(.24 / 5 + .038416) / 1.76832 = .32583: [.2307, .8824]. The lower low, the
    # higher high: Wilson's low, the normal high.
    half = 1.96 * math.sqrt(0.7 / 4) / math.sqrt(5)
    assert row["score_low"] == pytest.approx(0.2307, abs=1e-4)
    assert row["score_high"] == pytest.approx(0.6 + half)
    assert row["low_sample"] is True
    # game 2 has no ratings: left out of the expectation only
    assert row["games_with_ratings"] == 4
    expected = [_e(1500, 1500), _e(1500, 1700), _e(1600, 1400), _e(1500, 1300)]
    assert row["expected_score"] == pytest.approx(sum(expected) / 4)
    scores = [1.0, 0.5, 1.0, 0.5]
    residual = sum(s - e for s, e in zip(scores, expected, strict=True)) / 4
    assert row["residual"] == pytest.approx(residual)
    assert row["mean_opponent_rating"] == pytest.approx(1475)
    # p = 3/4 over the games with a known opponent rating; FIDE dp(.75) = 193
    assert row["performance_fide"] == pytest.approx(1475 + 193)
    assert row["performance_linear"] == pytest.approx((2000 + 1700 + 1900 + 1300) / 4)


def test_breakdowns_by_hand(results: pl.DataFrame) -> None:
    assert results.height == 10  # 4 (time class, colour) cells + 3 + 2 + 1 roll-ups
    blitz_white = _row(results, "blitz", "white")
    assert (blitz_white["games"], blitz_white["wins"], blitz_white["draws"]) == (2, 1, 1)
    assert blitz_white["score"] == pytest.approx(0.75)
    # normal: .75 - 1.96 * sqrt(.125) / sqrt(2) = .26; Wilson of .75 out of 2: centre
    # (.75 + .9604) / 2.9208 = .58559, half 1.96 * sqrt(.1875 / 2 + .2401) / 2.9208 = .38773
    assert blitz_white["score_low"] == pytest.approx(0.1979, abs=1e-4)
    assert blitz_white["score_high"] == 1.0  # clipped
    black = _row(results, "all", "black")
    assert (black["games"], black["wins"], black["losses"]) == (2, 1, 1)
    assert black["expected_score"] == pytest.approx(_e(1600, 1400))
    assert black["residual"] == pytest.approx(1 - _e(1600, 1400))
    single = _row(results, "rapid", "black")
    assert (single["score_low"], single["score_high"]) == (0.0, 1.0)
    daily = _row(results, "daily", "all")
    assert (daily["games"], daily["draws"]) == (1, 1)
    assert (results["wins"] + results["draws"] + results["losses"] == results["games"]).all()


def test_fide_table_ends() -> None:
    games = games_frame([game(i, result="win", opponent_rating=1400) for i in range(3)])
    row = _row(
        compute_summaries_from_frames(games, empty_moves(), "alice")["results"], "all", "all"
    )
    assert row["performance_fide"] == pytest.approx(1400 + 800)
    assert row["performance_linear"] == pytest.approx(1900)
    # sd 0 collapses the normal interval to [1, 1]; Wilson of 3 out of 3 keeps it honest:
    # (1 + 1.9208 / 3 - 1.96 * sqrt(.9604 / 9)) / (1 + 3.8416 / 3) = 1 / 2.28053 = .43849
    assert row["score_low"] == pytest.approx(0.4385, abs=1e-4)
    assert row["score_high"] == 1.0


def test_no_games_gives_empty_tables() -> None:
    out = compute_summaries_from_frames(games_frame([]), empty_moves(), "alice")
    assert out["results"].height == 0
    assert out["results"].columns[:3] == ["username", "time_class", "color"]


def test_placeholder_bot_rating_counts_as_unknown() -> None:
    games = games_frame(
        [
            game(0, result="win", rating=1500, opponent_rating=1300),
            # an unrated daily game against a bot Chess.com lists at rating 1
            game(
                1,
                result="loss",
                rating=1500,
                opponent_rating=1,
                rated=False,
                time_class="daily",
                opponent="Duolingo-duolingo-2",
            ),
        ]
    )
    out = compute_summaries_from_frames(games, empty_moves(), "alice")
    row = _row(out["results"], "all", "all")
    assert (row["games"], row["losses"], row["games_with_ratings"]) == (2, 1, 1)
    assert row["expected_score"] == pytest.approx(_e(1500, 1300))
    assert row["residual"] == pytest.approx(1 - _e(1500, 1300))
    assert row["mean_opponent_rating"] == pytest.approx(1300)
    strength = out["opponent_strength"]
    assert strength.filter(strength["scheme"] == "coarse")["games"].max() == 1


def _fide_row(wins: int, losses: int) -> dict[str, object]:
    games = games_frame(
        [game(i, result="win", opponent_rating=1500) for i in range(wins)]
        + [game(wins + i, result="loss", opponent_rating=1500) for i in range(losses)]
    )
    return _row(
        compute_summaries_from_frames(games, empty_moves(), "alice")["results"], "all", "all"
    )


@pytest.mark.parametrize(
    ("wins", "losses", "dp"),
    [
        (3, 0, 800),  # p = 1: the table's +800 end, only at exactly 100 %
        (0, 3, -800),  # p = 0
        # p = 199/200 = .995 rounds half-up to 1.00, capped at the .99 entry: +677, not +800
        (199, 1, 677),
        # p = 1/200 = .005 rounds half-up to .01: -677, not -800
        (1, 199, -677),
        # p = 149/200 = .745 (74.4999... percent as a float) rounds half-up to .75: +193
        (149, 51, 193),
        (1, 1, 0),  # p = .5
    ],
)
def test_fide_dp_by_hand(wins: int, losses: int, dp: int) -> None:
    row = _fide_row(wins, losses)
    assert row["mean_opponent_rating"] == 1500
    assert row["performance_fide"] == pytest.approx(1500 + dp)

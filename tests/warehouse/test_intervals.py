"""The mean-score interval: the spec's normal interval, never narrower than Wilson's (by hand)."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from adapters.warehouse import compute_summaries_from_frames
from tests.warehouse.frames import game, games_frame, moves_for, moves_frame
from tests.warehouse.helpers import row


def _summaries(results: list[str]) -> dict[str, pl.DataFrame]:
    games = [game(i, result=r) for i, r in enumerate(results)]
    moves = [m for g in games for m in moves_for(g["game_id"], "white", [{"san": "e4"}] * 2)]
    return compute_summaries_from_frames(games_frame(games), moves_frame(moves), "alice")


def _interval(found: dict[str, Any]) -> tuple[float, float]:
    return found["score_low"], found["score_high"]


def test_five_wins_of_five_is_wilson_not_a_point() -> None:
    out = _summaries(["win"] * 5)
    # sd = 0: the normal interval is [1, 1]. Wilson for 5 of 5 (z² = 3.8416):
    # low = (1 + 1.9208 / 5 - 1.96 * sqrt(0 + .9604 / 25)) / (1 + 3.8416 / 5)
    #     = (1.38416 - 1.96 * .196) / 1.76832 = 1 / 1.76832 = .56551; high = 1
    low, high = _interval(row(out["results"], time_class="all", color="all"))
    assert low == pytest.approx(0.56551, abs=1e-5)
    assert high == 1.0
    # one shared macro: every summary showing results gives the same interval for the same games
    for name, keys in (
        ("overview", {"time_class": "all", "color": "all"}),
        ("trends", {"time_class": "all", "color": "all", "month": "2024-03"}),
        ("openings", {"time_class": "all", "color": "all", "opening_variation": "all"}),
        ("opening_tree", {"color": "white", "path": "e4"}),
        ("opponents", {"time_class": "all", "color": "all", "kind": "most_played"}),
    ):
        assert _interval(row(out[name], **keys)) == pytest.approx((0.56551, 1.0), abs=1e-5), name


def test_one_win_one_loss() -> None:
    out = _summaries(["win", "loss"])
    # normal: mean .5, sample sd sqrt(.5), half 1.96 * sqrt(.5) / sqrt(2) = .98: [-.48, 1.48],
    # clipped to [0, 1]. Wilson .5 of 2: centre .5, half 1.96 * sqrt(.25 / 2 + .9604 / 4) /
    # 2.9208 = .40548: [.0945, .9055], narrower on both sides, so [0, 1] stands.
    low, high = _interval(row(out["results"], time_class="all", color="all"))
    assert (low, high) == (0.0, 1.0)


def test_single_game_is_uninformative() -> None:
    low, high = _interval(row(_summaries(["draw"])["results"], time_class="all", color="all"))
    assert (low, high) == (0.0, 1.0)


def test_mixed_results_take_each_end_from_the_wider_rule() -> None:
    out = _summaries(["win", "win", "win", "draw", "loss"])
    # scores 1, 1, 1, .5, 0: mean .7, squared deviations .09 x3 + .04 + .49 = .8, sample
    # variance .2, se sqrt(.2 / 5) = .2, normal [.7 - .392, .7 + .392] = [.308, 1.092 -> 1].
    # Wilson .7 of 5: centre (.7 + .38416) / 1.76832 = .61311, half
    # 1.96 * sqrt(.21 / 5 + .038416) / 1.76832 = 1.96 * .283577 / 1.76832 = .31432:
    # [.29879, .92743]. Low from Wilson (.29879 < .308), high from the normal rule (1).
    low, high = _interval(row(out["results"], time_class="all", color="all"))
    assert low == pytest.approx(0.29879, abs=1e-5)
    assert high == 1.0


def test_many_decisive_games_keep_the_normal_interval() -> None:
    out = _summaries(["win"] * 6 + ["loss"] * 4)
    # mean .6, squared deviations .16 x6 + .36 x4 = 2.4, sample variance 2.4 / 9 = .26667,
    # se sqrt(.26667 / 10) = .16330, half .32006: [.27994, .92006]. Wilson .6 of 10: centre
    # (.6 + .19208) / 1.38416 = .57225, half 1.96 * sqrt(.024 + .009604) / 1.38416 = .25957:
    # [.31268, .83182], inside the normal one: the spec's formula is kept.
    low, high = _interval(row(out["results"], time_class="all", color="all"))
    assert (low, high) == pytest.approx((0.27994, 0.92006), abs=1e-5)

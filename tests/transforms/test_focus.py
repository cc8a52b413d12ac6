"""What to work on: which cells are picked, in which order, and what the sentence says."""

from __future__ import annotations

from typing import Any

import pytest

from transforms.focus import what_to_work_on


def cell(
    time_class: str, color: str, residual: float | None, games: int, **extra: Any
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "time_class": time_class,
        "color": color,
        "games": games,
        "games_with_ratings": extra.pop("games_with_ratings", games),
        "wins": 0,
        "draws": 0,
        "losses": extra.pop("losses", games // 2),
        "score": 0.5,
        "score_low": 0.4,
        "score_high": 0.62,
        "expected_score": None if residual is None else 0.5 - residual,
        "residual": residual,
        "low_sample": games < 10,
    }
    row.update(extra)
    return row


def test_picks_the_three_cells_that_lose_most_points_worst_first() -> None:
    results = [
        cell("all", "all", -0.5, 1000),  # a roll-up: never a slice
        cell("blitz", "all", -0.5, 900),
        cell("all", "black", -0.5, 900),
        cell("blitz", "black", -0.10, 100),  # -10 points
        cell("blitz", "white", -0.02, 400),  # -8
        cell("rapid", "black", -0.30, 50),  # -15
        cell("rapid", "white", 0.20, 300),  # above the ratings: not a thing to work on
        cell("bullet", "white", -0.01, 100),  # -1: fourth, left out
        cell("daily", "white", None, 20),  # no ratings: no residual
    ]
    picked = what_to_work_on(results)
    assert [(f.time_class, f.color) for f in picked] == [
        ("rapid", "black"),
        ("blitz", "black"),
        ("blitz", "white"),
    ]
    assert [round(f.points, 6) for f in picked] == [-15.0, -10.0, -8.0]


def test_cost_uses_the_games_with_ratings_the_residual_is_over() -> None:
    results = [
        cell("blitz", "white", -0.10, 200, games_with_ratings=20),  # -2
        cell("blitz", "black", -0.05, 100),  # -5
    ]
    assert [f.color for f in what_to_work_on(results)] == ["black", "white"]


def test_interval_is_the_score_interval_moved_onto_the_residual() -> None:
    (focus,) = what_to_work_on([cell("blitz", "black", -0.08, 412)])
    # score 0.5 in [0.4, 0.62]: residual -0.08 in [-0.18, +0.04]
    assert focus.residual_low == pytest.approx(-0.18)
    assert focus.residual_high == pytest.approx(0.04)
    assert "[\u22120.18, +0.04]" in focus.text  # a real minus sign, as in print
    assert focus.text.startswith(
        "As Black in blitz you score 0.08 below what the ratings predict over 412 games"
    )


def test_names_the_costliest_opening_and_the_commonest_way_of_losing() -> None:
    openings = [
        {"time_class": "blitz", "color": "black", "eco": "all", "opening_variation": "all",
         "opening_family": "Caro Kann Defense", "games": 80, "residual": -0.1},  # -8
        {"time_class": "blitz", "color": "black", "eco": "all", "opening_variation": "all",
         "opening_family": "French Defense", "games": 200, "residual": -0.02},  # -4
        {"time_class": "blitz", "color": "black", "eco": "B12", "opening_variation": "x",
         "opening_family": "Sicilian Defense", "games": 80, "residual": -0.9},  # not a family row
        {"time_class": "blitz", "color": "white", "eco": "all", "opening_variation": "all",
         "opening_family": "Italian Game", "games": 80, "residual": -0.9},  # other cell
        {"time_class": "blitz", "color": "black", "eco": "all", "opening_variation": "all",
         "opening_family": "all", "games": 412, "residual": -0.9},  # the roll-up
    ]  # fmt: skip
    terminations = [
        {"time_class": "blitz", "color": "black", "opening_family": "all", "result": "loss",
         "termination": "timeout", "games": 90},
        {"time_class": "blitz", "color": "black", "opening_family": "all", "result": "loss",
         "termination": "resignation", "games": 80},
        {"time_class": "blitz", "color": "black", "opening_family": "all", "result": "win",
         "termination": "resignation", "games": 150},
        {"time_class": "blitz", "color": "black", "opening_family": "Caro Kann Defense",
         "result": "loss", "termination": "checkmate", "games": 100},
    ]  # fmt: skip
    results = [cell("blitz", "black", -0.08, 412, losses=200)]
    (focus,) = what_to_work_on(results, openings, terminations)
    assert (focus.opening_family, focus.opening_games) == ("Caro Kann Defense", 80)
    assert focus.opening_points == pytest.approx(-8.0)
    assert (focus.loss_termination, focus.loss_termination_games) == ("timeout", 90)
    assert "mostly the Caro Kann Defense (8.0 points over 80 games)" in focus.text
    assert "45% of the 200 losses on time" in focus.text


def test_sqlite_booleans_and_nothing_to_work_on() -> None:
    (focus,) = what_to_work_on([cell("bullet", "white", -0.2, 5, low_sample=1)])
    assert focus.low_sample
    assert "read with care" in focus.text
    assert what_to_work_on([cell("bullet", "white", 0.0, 50)]) == []
    assert what_to_work_on([]) == []

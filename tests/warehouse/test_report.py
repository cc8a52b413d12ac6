"""The terminal report renders plain row dicts (as read back from the database) readably."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Console

from adapters.warehouse import compute_summaries_from_frames
from report import render_report
from tests.warehouse.frames import game, games_frame, moves_frame
from transforms.registry import BY_NAME, SUMMARIES


def _render(tables: dict[str, list[dict[str, object]]]) -> str:
    console = Console(record=True, width=220, color_system=None)
    render_report(console, "alice", tables)
    return console.export_text()


def test_rates_show_interval_and_n_and_low_sample_is_marked() -> None:
    base = {"username": "alice", "wins": 6, "draws": 0, "losses": 6, "expected_score": 0.5}
    text = _render(
        {
            "results": [
                {
                    **base,
                    "time_class": "all",
                    "color": "all",
                    "games": 12,
                    "score": 0.5,
                    "score_low": 0.2,
                    "score_high": 0.8,
                    "residual": 0.0,
                    "low_sample": False,
                },
                # SQLite hands booleans back as 0/1
                {
                    **base,
                    "time_class": "zzz_blitz",
                    "color": "white",
                    "games": 3,
                    "wins": 2,
                    "losses": 1,
                    "score": 0.6667,
                    "score_low": 0.0,
                    "score_high": 1.0,
                    "residual": 0.1234,
                    "low_sample": 1,
                },
            ],
            "terminations": [
                {
                    "username": "alice",
                    "time_class": "all",
                    "color": "all",
                    "result": "win",
                    "termination": "checkmate",
                    "games": 4,
                    "group_games": 40,
                    "share": 0.1,
                    "share_low": 0.04,
                    "share_high": 0.23,
                    "low_sample": 0,
                },
            ],
            "overview": [
                {
                    **base,
                    "time_class": "all",
                    "color": "all",
                    "games": 12,
                    "score": 0.5,
                    "first_game": datetime(2024, 3, 4, 12, tzinfo=UTC),
                    "last_game": "2024-05-01",
                    "low_sample": 0,
                },
            ],
        }
    )
    for summary in SUMMARIES:
        shown = f"({summary.name} v{summary.version}" in text
        assert shown or f"({summary.name}): no rows" in text
    assert "0.50 [0.20, 0.80] n=12" in text
    assert "0.10 [0.04, 0.23] n=40" in text
    assert "+0.123" in text
    assert "2024-03-04" in text
    low_line = next(line for line in text.splitlines() if "zzz_blitz" in line)
    assert "!" in low_line
    high_line = next(line for line in text.splitlines() if "0.50 [0.20, 0.80]" in line)
    assert "!" not in high_line.split("all")[0]


def test_renders_everything_a_real_computation_produces() -> None:
    games = games_frame([game(i, result=("win", "draw", "loss")[i % 3]) for i in range(12)])
    out = compute_summaries_from_frames(games, moves_frame([]), "alice")
    text = _render({name: frame.to_dicts() for name, frame in out.items()})
    assert "Results by time class and colour" in text
    assert "n=12" in text
    assert "(castling): no rows" in text  # no moves: nothing move-based to show


def test_wide_summaries_split_into_parts_that_fit() -> None:
    games = games_frame([game(i, result=("win", "draw", "loss")[i % 3]) for i in range(12)])
    out = compute_summaries_from_frames(games, moves_frame([]), "alice")
    console = Console(record=True, width=100, color_system=None)
    render_report(console, "alice", {name: frame.to_dicts() for name, frame in out.items()})
    text = console.export_text()
    assert f"(results v{BY_NAME['results'].version}, part 1 of" in text
    assert max(len(line) for line in text.splitlines()) <= 100
    # the interval is never cut: the score cell is whole. Scores 1 x4, 0.5 x4, 0 x4: sample
    # variance 2/11, normal half width 1.96 * sqrt(2/11) / sqrt(12) = 0.241; Wilson of .5 out
    # of 12 is wider, half 1.96 * sqrt(.25 / 12 + .9604 / 144) / (1 + 3.8416 / 12) = 0.246
    assert "0.50 [0.25, 0.75] n=12" in text


def test_time_management_shares_show_games_as_n() -> None:
    # the shares are means over games: the n beside them is timed_games / clock_games, not moves
    text = _render(
        {
            "time_management": [
                {
                    "username": "alice",
                    "time_class": "blitz",
                    "color": "all",
                    "phase": "all",
                    "games": 30,
                    "moves": 900,
                    "timed_moves": 880,
                    "timed_games": 29,
                    "instant_share": 0.25,
                    "instant_share_low": 0.19,
                    "instant_share_high": 0.31,
                    "clock_moves": 870,
                    "clock_games": 28,
                    "share_clock_le_3": 0.05,
                    "share_clock_le_3_low": 0.02,
                    "share_clock_le_3_high": 0.08,
                    "low_sample": False,
                }
            ]
        }
    )
    assert "0.25 [0.19, 0.31] n=29" in text
    assert "0.05 [0.02, 0.08] n=28" in text
    assert "n=880" not in text
    assert "n=870" not in text


def test_what_to_work_on_opens_the_report_before_the_tables() -> None:
    rows = [
        {"time_class": "blitz", "color": "black", "games": 40, "games_with_ratings": 40,
         "wins": 10, "draws": 0, "losses": 30, "score": 0.25, "score_low": 0.1,
         "score_high": 0.4, "expected_score": 0.5, "residual": -0.25, "low_sample": 0},
        {"time_class": "blitz", "color": "white", "games": 40, "games_with_ratings": 40,
         "wins": 30, "draws": 0, "losses": 10, "score": 0.75, "score_low": 0.6,
         "score_high": 0.9, "expected_score": 0.5, "residual": 0.25, "low_sample": 0},
    ]  # fmt: skip
    text = _render({"results": rows})
    heading = text.index("What to work on")
    item = text.index("1. As Black in blitz you score 0.25 below what the ratings predict")
    assert heading < item < text.index("Results by time class and colour")
    assert "As White" not in text  # scores above the ratings: nothing to work on there

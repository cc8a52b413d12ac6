"""The warehouse adapter over Parquet globs, its errors, and order-independence (hypothesis)."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from adapters.warehouse import compute_summaries, compute_summaries_from_frames
from tests.warehouse.frames import T0, game, games_frame, moves_for, moves_frame
from tests.warehouse.helpers import row
from transforms.registry import SUMMARIES


def _write(lake: Path, kind: str, month: str, frame: pl.DataFrame) -> None:
    folder = lake / kind / "username=alice" / f"month={month}"
    folder.mkdir(parents=True)
    frame.write_parquet(folder / "part.parquet")


def test_reads_lake_globs_across_months(tmp_path: Path) -> None:
    march = [game(0, result="win", plies=2), game(1, result="draw", plies=0)]
    april = [game(2, result="loss", start_time=T0 + timedelta(days=40), plies=2)]
    _write(tmp_path, "games", "2024-03", games_frame(march))
    _write(tmp_path, "games", "2024-04", games_frame(april))
    _write(tmp_path, "moves", "2024-03", moves_frame(moves_for("g000", "white", [{}, {}])))
    out = compute_summaries(
        str(tmp_path / "games" / "username=alice" / "*" / "*.parquet"),
        str(tmp_path / "moves" / "username=alice" / "*" / "*.parquet"),
        "ALICE",
    )
    assert list(out) == [s.name for s in SUMMARIES]
    results = row(out["results"], time_class="all", color="all")
    assert (results["games"], results["wins"], results["draws"], results["losses"]) == (3, 1, 1, 1)
    # g002 has plies but its month has no moves file: it is not counted as move-based
    castling = row(
        out["castling"], time_class="all", color="all", my_castling="all", opponent_castling="all"
    )
    assert castling["games"] == 1


def test_player_without_moves_files(tmp_path: Path) -> None:
    _write(tmp_path, "games", "2024-03", games_frame([game(0), game(1, result="loss")]))
    out = compute_summaries(
        str(tmp_path / "games" / "username=alice" / "*" / "*.parquet"),
        str(tmp_path / "moves" / "username=alice" / "*" / "*.parquet"),
        "alice",
        "Europe/Paris",
    )
    assert row(out["overview"], time_class="all", color="all")["games"] == 2
    assert out["opening_tree"].height == 0
    for summary in SUMMARIES:
        assert out[summary.name].columns == [c.name for c in summary.columns]


def test_paths_are_bound_not_formatted_into_sql(tmp_path: Path) -> None:
    # a lake under a folder whose name would break (or inject into) a quoted SQL literal
    lake = tmp_path / "o'neil's lake'); drop table games; --"
    _write(lake, "games", "2024-03", games_frame([game(0, result="win", plies=2)]))
    _write(lake, "games", "2024-04", games_frame([game(1, result="draw", plies=0)]))
    # a second file whose extra columns the tables do not have, and which lacks others
    moves = moves_frame(moves_for("g000", "white", [{}, {}])).with_columns(eval=pl.lit(0.3))
    _write(lake, "moves", "2024-03", moves.drop("phase"))
    out = compute_summaries(
        str(lake / "games" / "username=alice" / "*" / "*.parquet"),
        str(lake / "moves" / "username=alice" / "*" / "*.parquet"),
        "alice",
    )
    results = row(out["results"], time_class="all", color="all")
    assert (results["games"], results["wins"], results["draws"]) == (2, 1, 1)
    # game 0's two moves were read (one of them the player's), without a phase: `unknown`
    tm = row(out["time_management"], time_class="all", color="all", phase="all")
    assert (tm["games"], tm["moves"]) == (1, 1)
    assert row(out["time_management"], time_class="all", color="all", phase="unknown")


def test_parquet_without_username_is_a_clear_error(tmp_path: Path) -> None:
    _write(tmp_path, "games", "2024-03", games_frame([game(0)]).drop("username"))
    with pytest.raises(ValueError, match="no `username` column"):
        compute_summaries(
            str(tmp_path / "games" / "username=alice" / "*" / "*.parquet"),
            str(tmp_path / "moves" / "username=alice" / "*" / "*.parquet"),
            "alice",
        )


def test_unknown_time_zone_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="not an IANA time zone"):
        compute_summaries_from_frames(games_frame([game(0)]), moves_frame([]), "alice", "Mars/Base")


def test_bad_username_is_refused() -> None:
    with pytest.raises(ValueError, match=r"not a Chess\.com username"):
        compute_summaries_from_frames(games_frame([game(0)]), moves_frame([]), "x'; drop")


_RESULTS = st.sampled_from(["win", "draw", "loss"])


@st.composite
def players(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    count = draw(st.integers(min_value=1, max_value=14))
    games: list[dict[str, Any]] = []
    moves: list[dict[str, Any]] = []
    minute = 0
    for i in range(count):
        minute += draw(st.sampled_from([3, 30, 60, 61, 600, 60 * 24 * 20]))
        color = draw(st.sampled_from(["white", "black"]))
        plies = draw(st.integers(min_value=0, max_value=8))
        games.append(
            game(
                i,
                result=draw(_RESULTS),
                color=color,
                time_class=draw(st.sampled_from(["blitz", "bullet", "daily"])),
                start_time=T0 + timedelta(minutes=minute),
                rating=draw(st.sampled_from([None, 1200, 1500])),
                opponent_rating=draw(st.sampled_from([1300, 1500, 1900])),
                opponent=draw(st.sampled_from(["ann", "Ann", "ben", "cy"])),
                accuracy=draw(st.sampled_from([None, 70.0, 91.5])),
                plies=plies,
                eco=draw(st.sampled_from(["C50", None])),
            )
        )
        moves += moves_for(
            f"g{i:03d}",
            color,
            [
                {
                    "san": draw(st.sampled_from(["e4", "d4", "Nf3"])),
                    "material_balance": draw(st.sampled_from([-3, 0, 3])),
                    "time_spent_seconds": draw(st.sampled_from([None, 0.4, 3.0])),
                    "clock_share": draw(st.sampled_from([None, 0.02, 0.4])),
                    "castling": draw(st.sampled_from([None, None, "kingside"])),
                    "captured": draw(st.sampled_from([None, "q"])),
                    "phase": draw(st.sampled_from(["opening", "endgame"])),
                }
                for _ in range(plies)
            ],
        )
    return games, moves


def _sorted(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    return frame.sort(keys, nulls_last=True)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(player=players(), seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_shuffling_games_and_months_changes_nothing(
    player: tuple[list[dict[str, Any]], list[dict[str, Any]]], seed: int
) -> None:
    games, moves = player
    before = compute_summaries_from_frames(games_frame(games), moves_frame(moves), "alice")
    shuffler = random.Random(seed)
    shuffled_games, shuffled_moves = games[:], moves[:]
    shuffler.shuffle(shuffled_games)
    shuffler.shuffle(shuffled_moves)
    after = compute_summaries_from_frames(
        games_frame(shuffled_games), moves_frame(shuffled_moves), "alice"
    )
    for summary in SUMMARIES:
        keys = [c.name for c in summary.columns]
        assert_frame_equal(
            _sorted(before[summary.name], keys),
            _sorted(after[summary.name], keys),
            check_exact=False,
            rel_tol=1e-9,
            abs_tol=1e-9,
        )

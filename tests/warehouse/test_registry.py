"""The registry and the SQL agree: every summary's file exists and returns exactly its columns."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

import polars as pl
import pytest

from adapters.warehouse import SQL_DIR, SummarySqlError, compute_summaries_from_frames
from tests.warehouse.frames import T0, game, games_frame, moves_for, moves_frame
from transforms.registry import BY_NAME, SUMMARIES
from transforms.schema import POLARS_TYPES


@pytest.fixture(scope="module")
def everything() -> dict[str, pl.DataFrame]:
    """A little of everything, so every summary has rows."""
    rows = []
    moves = []
    for i in range(12):
        result = ("win", "draw", "loss")[i % 3]
        color = ("white", "black")[i % 2]
        rows.append(
            game(
                i,
                result=result,
                color=color,
                start_time=T0 + timedelta(minutes=10 * i),
                accuracy=80.0 + i if i % 2 else None,
                opponent=f"opp{i % 4}",
                plies=14,
            )
        )
        moves += moves_for(
            f"g{i:03d}",
            color,
            [
                {
                    "clock_seconds": 170.0 - p,
                    "time_spent_seconds": 1.0 + p % 3,
                    "clock_share": (170.0 - p) / 180,
                    "material_balance": 3 if p > 6 else 0,
                    "castling": "kingside" if p in (7, 8) else None,
                    "captured": "q" if p in (9, 10) else None,
                }
                for p in range(14)
            ],
        )
    return compute_summaries_from_frames(games_frame(rows), moves_frame(moves), "alice")


def test_every_summary_registered_once_in_order() -> None:
    names = [s.name for s in SUMMARIES]
    assert len(names) == len(set(names)) == len(BY_NAME)
    files = sorted(p.stem for p in SQL_DIR.glob("*.sql") if not p.stem.startswith("_"))
    assert sorted(names) == files


@pytest.mark.parametrize("summary", SUMMARIES, ids=lambda s: s.name)
def test_sql_returns_registry_columns(everything: dict[str, pl.DataFrame], summary: object) -> None:
    from transforms.registry import Summary

    assert isinstance(summary, Summary)
    frame = everything[summary.name]
    # (the columns and their types are the warehouse's own guard, tested below)
    assert frame.height > 0, f"{summary.name} produced no rows on the mixed fixture"
    assert {"username", "time_class", "color", "games"} <= set(frame.columns)
    all_all = frame.filter((pl.col("time_class") == "all") & (pl.col("color") == "all"))
    assert all_all.height > 0, f"{summary.name} has no time_class = color = all rows"
    if "wins" in frame.columns:  # results are shown: rating-adjusted, with an interval
        shown = {"draws", "losses", "score", "score_low", "score_high", "expected_score"}
        assert shown | {"residual", "low_sample"} <= set(frame.columns), summary.name
    assert summary.version >= 1
    assert len(summary.definition) > 80
    assert all(c.description for c in summary.columns)


@pytest.mark.parametrize("change", ["renamed", "missing", "extra", "reordered"])
def test_sql_and_registry_that_disagree_are_refused(change: str) -> None:
    """The warehouse's guard: a registry entry whose columns differ from what its SQL returns
    stops the run with a message naming the file and both column lists."""
    results = BY_NAME["results"]
    metrics = list(results.metrics)
    if change == "renamed":
        metrics[0] = dataclasses.replace(metrics[0], name="matches")
    elif change == "missing":
        metrics.append(dataclasses.replace(metrics[0], name="not_in_the_sql"))
    elif change == "extra":
        metrics.pop()
    else:
        metrics[0], metrics[1] = metrics[1], metrics[0]
    wrong = dataclasses.replace(results, metrics=tuple(metrics))
    with pytest.raises(SummarySqlError, match=r"sql/warehouse/results\.sql returned columns"):
        compute_summaries_from_frames(
            games_frame([game(0)]), moves_frame([]), "alice", registry=[wrong]
        )


def test_values_that_do_not_fit_the_registry_type_are_refused() -> None:
    results = BY_NAME["results"]
    dimensions = tuple(
        dataclasses.replace(c, type="integer") if c.name == "time_class" else c
        for c in results.dimensions
    )
    wrong = dataclasses.replace(results, dimensions=dimensions)
    with pytest.raises(pl.exceptions.InvalidOperationError, match="conversion from `str`"):
        compute_summaries_from_frames(
            games_frame([game(0)]), moves_frame([]), "alice", registry=[wrong]
        )


def test_summary_frames_have_the_registry_dtypes(everything: dict[str, pl.DataFrame]) -> None:
    for summary in SUMMARIES:
        frame = everything[summary.name]
        assert frame.schema == pl.Schema({c.name: POLARS_TYPES[c.type] for c in summary.columns})


def test_registry_order_is_returned() -> None:
    out = compute_summaries_from_frames(games_frame([game(0)]), moves_frame([]), "alice")
    assert list(out) == [s.name for s in SUMMARIES]


@pytest.mark.parametrize("path", sorted(SQL_DIR.glob("*.sql")), ids=lambda p: p.name)
def test_sql_is_lower_case_and_bound(path: object) -> None:
    from pathlib import Path

    assert isinstance(path, Path)
    text = re.sub(r"'[^']*'", "''", path.read_text(encoding="utf-8"))
    code = "\n".join(line.split("--")[0] for line in text.splitlines())
    assert code == code.lower(), f"{path.name} has upper-case SQL"
    assert "{" not in code, f"{path.name} looks like a format string; bind parameters instead"

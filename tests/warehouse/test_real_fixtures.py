"""Cross-checks on every real fixture player, parsed by the real parser: totals that must agree."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from adapters.warehouse import compute_summaries_from_frames
from tests.conftest import FIXTURES
from tests.warehouse.real import fixture_players, parse_player
from transforms.registry import SUMMARIES

PLAYERS = fixture_players(FIXTURES) if FIXTURES.is_dir() else []
# Summaries whose rows are not additive over time class / colour: ranked lists (top N of each
# group) and the opening tree (a path needs max(2, ceil(0.1 % of the tree's games)): it may pass
# the bar only for both colours together).
NOT_ADDITIVE = {"opponents", "opening_tree"}
# Breakdowns rolled up at a coarser level only: openings pool the colours per family, not per
# variation (a variation is nearly always met with one colour).
ROLLED_UP_ONLY = {("openings", "color"): pl.col("opening_variation") == "all"}
ADDITIVE = ("games", "wins", "draws", "losses")


def test_fixture_players_are_there() -> None:
    # without the fixtures PLAYERS is empty and every check below collects nothing: fail here
    assert FIXTURES.is_dir(), f"fixture folder {FIXTURES} is missing; set CHESS_FIXTURES_DIR"
    assert len(PLAYERS) >= 12, f"{FIXTURES} holds {len(PLAYERS)} players, expected at least 12"


@pytest.fixture(scope="module", params=PLAYERS)
def player(
    request: pytest.FixtureRequest, fixtures_dir: Path
) -> tuple[str, pl.DataFrame, dict[str, pl.DataFrame]]:
    name = str(request.param)
    games, moves = parse_player(fixtures_dir / name)
    return name, games, compute_summaries_from_frames(games, moves, name, "Europe/Berlin")


def test_wins_draws_losses_add_up_in_every_row(
    player: tuple[str, pl.DataFrame, dict[str, pl.DataFrame]],
) -> None:
    _, _, out = player
    for name, frame in out.items():
        if {"wins", "draws", "losses"} <= set(frame.columns) and frame.height:
            bad = frame.filter(
                pl.col("wins") + pl.col("draws") + pl.col("losses") != pl.col("games")
            )
            assert bad.height == 0, f"{name}: {bad.head(3)}"


@pytest.mark.parametrize("dimension", ["time_class", "color"])
def test_all_rollup_equals_sum_of_parts(
    player: tuple[str, pl.DataFrame, dict[str, pl.DataFrame]], dimension: str
) -> None:
    _, _, out = player
    for summary in SUMMARIES:
        frame = out[summary.name]
        if summary.name in NOT_ADDITIVE or frame.height == 0:
            continue
        keys = [c.name for c in summary.dimensions if c.name != dimension]
        metrics = [m for m in ADDITIVE if m in frame.columns]
        broken_down = frame.filter(pl.col(dimension) != "all")
        if (summary.name, dimension) in ROLLED_UP_ONLY:
            broken_down = broken_down.filter(ROLLED_UP_ONLY[(summary.name, dimension)])
        parts = broken_down.group_by(keys).agg(pl.col(metrics).sum())
        whole = frame.filter(pl.col(dimension) == "all").select(keys + metrics)
        joined = parts.join(whole, on=keys, how="inner", suffix="_all")
        for metric in metrics:
            bad = joined.filter(pl.col(metric) != pl.col(f"{metric}_all"))
            assert bad.height == 0, f"{summary.name} by {dimension}, {metric}: {bad.head(3)}"
        # every group broken down has its roll-up row
        assert joined.height == parts.height, summary.name


def test_results_all_equals_overview_and_game_count(
    player: tuple[str, pl.DataFrame, dict[str, pl.DataFrame]],
) -> None:
    _, games, out = player
    if games.height == 0:
        assert out["results"].height == 0
        return
    results = out["results"].filter((pl.col("time_class") == "all") & (pl.col("color") == "all"))
    overview = out["overview"].filter((pl.col("time_class") == "all") & (pl.col("color") == "all"))
    counts = ["games", "wins", "draws", "losses"]
    assert results.select(counts).to_dicts() == overview.select(counts).to_dicts()
    for column in ("score", "expected_score", "residual"):
        # two queries may add the same floats in another order: equal up to rounding
        assert results[column][0] == pytest.approx(overview[column][0], rel=1e-12, abs=1e-12)
    # counted independently from the parsed frame
    assert results["games"][0] == games.height
    assert results["wins"][0] == games.filter(pl.col("result") == "win").height
    assert results["draws"][0] == games.filter(pl.col("result") == "draw").height


def test_openings_add_up_to_the_players_games(
    player: tuple[str, pl.DataFrame, dict[str, pl.DataFrame]],
) -> None:
    _, games, out = player
    openings = out["openings"]
    everything = openings.filter((pl.col("time_class") == "all") & (pl.col("color") == "all"))
    families = everything.filter(pl.col("opening_variation") == "all")
    assert families["games"].sum() == games.height
    variations = openings.filter(
        (pl.col("time_class") == "all") & (pl.col("opening_variation") != "all")
    )
    assert set(variations["color"]) <= {"white", "black"}
    assert variations["games"].sum() == games.height
    for color in ("white", "black"):
        per_color = openings.filter(
            (pl.col("time_class") == "all")
            & (pl.col("color") == color)
            & (pl.col("opening_variation") == "all")
        )
        assert per_color["games"].sum() == games.filter(pl.col("color") == color).height


def test_termination_shares_add_to_one(
    player: tuple[str, pl.DataFrame, dict[str, pl.DataFrame]],
) -> None:
    _, games, out = player
    terms = out["terminations"]
    for _, group in terms.group_by(["time_class", "color", "opening_family"]):
        assert group["share"].sum() == pytest.approx(1.0)
    if games.height:
        everything = terms.filter((pl.col("time_class") == "all") & (pl.col("color") == "all"))
        overall = everything.filter(pl.col("opening_family") == "all")
        assert overall["games"].sum() == games.height
        # the opening families split the same games: together they add up to all of them
        by_family = everything.filter(pl.col("opening_family") != "all")
        assert by_family["games"].sum() == games.height
        families = games["opening_family"].fill_null("unknown").n_unique()
        assert by_family["opening_family"].n_unique() == families


def test_move_based_summaries_skip_games_without_moves(
    player: tuple[str, pl.DataFrame, dict[str, pl.DataFrame]],
) -> None:
    _, games, out = player
    readable = games.filter(pl.col("parse_error").is_null() & (pl.col("plies") > 0)).height
    castling = out["castling"].filter(
        (pl.col("time_class") == "all")
        & (pl.col("color") == "all")
        & (pl.col("my_castling") == "all")
        & (pl.col("opponent_castling") == "all")
    )
    assert (castling["games"].sum() if castling.height else 0) == readable


def test_dimensions_are_a_key_of_every_summary(
    player: tuple[str, pl.DataFrame, dict[str, pl.DataFrame]],
) -> None:
    _, _, out = player
    for summary in SUMMARIES:
        frame = out[summary.name]
        keys = ["username", *(c.name for c in summary.dimensions)]
        assert frame.select(keys).is_duplicated().sum() == 0, summary.name
        assert frame.select(keys).null_count().sum_horizontal().item() == 0, summary.name


def test_time_losses_add_up_over_phases(
    player: tuple[str, pl.DataFrame, dict[str, pl.DataFrame]],
) -> None:
    _, games, out = player
    readable = games.filter(pl.col("parse_error").is_null() & (pl.col("plies") > 0))
    tm = out["time_management"]
    for (time_class, color), group in tm.group_by(["time_class", "color"]):
        total = group.filter(pl.col("phase") == "all")
        phases = group.filter(pl.col("phase") != "all")
        for column in ("timeout_losses", "timeout_losses_ahead"):
            assert phases[column].sum() == total[column].item(), (time_class, color, column)
    everything = tm.filter(
        (pl.col("time_class") == "all") & (pl.col("color") == "all") & (pl.col("phase") == "all")
    )
    timeouts = readable.filter((pl.col("result") == "loss") & (pl.col("termination") == "timeout"))
    if readable.height:
        # counted from the games frame: every readable game, and every one lost on time
        assert everything["games"].item() == readable.height
        assert everything["timeout_losses"].item() == timeouts.height

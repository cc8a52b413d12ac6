"""Game-level summaries on hand-made players; every expected number is worked out in the test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from adapters.warehouse import compute_summaries_from_frames
from tests.warehouse.frames import T0, empty_moves, game, games_frame
from tests.warehouse.helpers import elo, row, rows, wilson


def _compute(games: list[dict[str, object]], timezone: str = "UTC") -> dict[str, pl.DataFrame]:
    return compute_summaries_from_frames(games_frame(games), empty_moves(), "alice", timezone)


def test_overview_counts_dates_ratings_and_hours() -> None:
    out = _compute(
        [
            game(0, result="win", rating=1500, duration_seconds=600),
            game(1, result="loss", rating=1520, duration_seconds=None),
            game(2, result="draw", rating=1490, duration_seconds=1200),
            game(3, result="win", time_class="rapid", rating=1800, duration_seconds=1800),
            # daily game with no start time: first/last fall back to the end time
            game(
                4,
                time_class="daily",
                start_time=None,
                end_time=T0 - timedelta(days=3),
                rating=1700,
                # two days on the clock are not two days of play: left out of hours_played
                duration_seconds=2 * 86400,
            ),
        ]
    )
    overview = out["overview"]
    everything = row(overview, time_class="all", color="all")
    assert (everything["games"], everything["wins"], everything["draws"]) == (5, 3, 1)
    assert everything["losses"] == 1
    assert everything["first_game"] == T0 - timedelta(days=3)
    assert everything["last_game"] == T0 + timedelta(hours=3, minutes=5)
    assert everything["hours_played"] == pytest.approx((600 + 1200 + 1800) / 3600)
    assert everything["games_with_duration"] == 3
    # ratings of different pools are never mixed into one number
    assert everything["current_rating"] is None
    assert everything["peak_rating"] is None
    blitz = row(overview, time_class="blitz", color="all")
    assert (blitz["current_rating"], blitz["peak_rating"]) == (1490, 1520)
    # `results` for all/all shows the same games as the overview
    results = row(out["results"], time_class="all", color="all")
    for column in ("games", "wins", "draws", "losses", "score", "expected_score", "residual"):
        assert results[column] == pytest.approx(everything[column])


def test_openings_by_family_variation_and_unknown() -> None:
    italian = {"eco": "C50", "opening_family": "Italian Game", "opening_variation": None}
    giuoco = {"eco": "C53", "opening_family": "Italian Game", "opening_variation": "Giuoco Piano"}
    out = _compute(
        [
            game(0, result="win", plies=30, **italian),
            game(1, result="loss", plies=50, **giuoco),
            game(2, result="draw", plies=70, **giuoco),
            game(3, result="win", color="black", eco="B20", opening_family="Sicilian Defense"),
            # no ECOUrl / ECO at all (an old website download)
            game(4, result="loss", eco=None, opening_family=None, opening_variation=None),
        ]
    )
    openings = out["openings"]
    white_italian = row(
        openings,
        time_class="all",
        color="white",
        opening_family="Italian Game",
        opening_variation="all",
        eco="all",
    )
    assert (white_italian["games"], white_italian["wins"], white_italian["draws"]) == (3, 1, 1)
    assert white_italian["score"] == pytest.approx(0.5)
    assert white_italian["mean_plies"] == pytest.approx(50)
    # the three latest games, newest first
    assert white_italian["example_urls"].split() == [
        "https://www.chess.com/game/live/2",
        "https://www.chess.com/game/live/1",
        "https://www.chess.com/game/live/0",
    ]
    piano = row(
        openings,
        time_class="all",
        color="white",
        opening_family="Italian Game",
        opening_variation="Giuoco Piano",
        eco="C53",
    )
    assert (piano["games"], piano["losses"], piano["draws"]) == (2, 1, 1)
    plain = row(
        openings,
        time_class="all",
        color="white",
        opening_family="Italian Game",
        opening_variation="none",
        eco="C50",
    )
    assert plain["games"] == 1
    unknown = row(
        openings, time_class="all", color="all", opening_family="unknown", opening_variation="all"
    )
    assert (unknown["games"], unknown["eco"], unknown["opening_variation"]) == (1, "all", "all")
    # every breakdown adds up to all the player's games
    families = rows(openings, time_class="all", color="all", opening_variation="all")
    assert sum(r["games"] for r in families) == 5
    unknown_detail = row(
        openings, time_class="all", color="white", opening_family="unknown", eco="unknown"
    )
    assert (unknown_detail["games"], unknown_detail["opening_variation"]) == (1, "none")
    # variations are per colour only: no colour-pooled variation rows
    assert not rows(openings, color="all", opening_variation="Giuoco Piano")
    assert not openings.filter((pl.col("color") == "all") & (pl.col("eco") != "all")).height
    fine = openings.filter(
        (pl.col("time_class") == "all") & (pl.col("color") != "all") & (pl.col("eco") != "all")
    )
    assert fine["games"].sum() == 5
    by_class = openings.filter((pl.col("time_class") == "blitz") & (pl.col("color") != "all"))
    assert by_class["games"].sum() == 5


def test_time_of_day_in_utc_and_player_zone() -> None:
    monday_late = datetime(2024, 3, 4, 23, 30, tzinfo=UTC)  # 18:30 in New York (EST, UTC-5)
    tuesday_early = datetime(2024, 3, 5, 2, 0, tzinfo=UTC)  # 21:00 Monday in New York
    out = _compute(
        [
            game(0, result="win", start_time=monday_late),
            game(1, result="loss", start_time=tuesday_early),
            # no start time known: the end time stands in (Tuesday 02:05 UTC)
            game(2, result="draw", start_time=None, end_time=tuesday_early + timedelta(minutes=5)),
            # daily games say nothing about when one plays
            game(3, time_class="daily", start_time=monday_late),
        ],
        timezone="America/New_York",
    )
    tod = out["time_of_day"]
    assert set(tod["color"]) == {"all"}
    assert "daily" not in set(tod["time_class"])
    utc_23 = row(tod, time_class="all", zone="utc", weekday="all", hour="23")
    assert (utc_23["games"], utc_23["wins"]) == (1, 1)
    utc_tue_02 = row(tod, time_class="all", zone="utc", weekday="tue", hour="02")
    assert (utc_tue_02["games"], utc_tue_02["score"]) == (2, 0.25)
    local_monday = row(tod, time_class="all", zone="local", weekday="mon", hour="all")
    assert local_monday["games"] == 3
    assert local_monday["timezone"] == "America/New_York"
    assert row(tod, time_class="blitz", zone="local", weekday="all", hour="18")["games"] == 1
    assert row(tod, time_class="all", zone="local", weekday="mon", hour="21")["games"] == 2
    assert not rows(tod, zone="local", weekday="tue")


def test_rating_history_per_local_day_rated_only() -> None:
    day = datetime(2024, 3, 4, 1, 0, tzinfo=UTC)  # still March 3rd in New York
    out = _compute(
        [
            game(0, start_time=day, rating=1500),
            game(1, start_time=day + timedelta(hours=6), rating=1510, result="loss"),
            game(2, start_time=day + timedelta(hours=7), rating=1495, result="draw"),
            game(3, start_time=day + timedelta(hours=8), rating=1300, rated=False),
            game(4, start_time=day + timedelta(hours=9), rating=1800, time_class="rapid"),
        ],
        timezone="America/New_York",
    )
    history = out["rating_history"]
    # every day once more for all time classes together: results, but no mixed-pool rating
    both = row(history, time_class="all", day=datetime(2024, 3, 4).date())
    assert (both["games"], both["wins"], both["rating_close"]) == (3, 1, None)
    first = row(history, time_class="blitz", day=datetime(2024, 3, 3).date())
    assert (first["games"], first["rating_open"], first["rating_close"]) == (1, 1500, 1500)
    second = row(history, time_class="blitz", day=datetime(2024, 3, 4).date())
    assert (second["games"], second["losses"], second["draws"]) == (2, 1, 1)
    assert (second["rating_open"], second["rating_close"]) == (1510, 1495)
    assert (second["rating_min"], second["rating_max"]) == (1495, 1510)
    expected = (elo(1510, 1500) + elo(1495, 1500)) / 2
    assert second["expected_score"] == pytest.approx(expected)
    assert second["residual"] == pytest.approx(0.25 - expected)  # a loss and a draw
    assert row(history, time_class="rapid")["rating_close"] == 1800
    # the unrated game is not in the history
    assert history.filter(pl.col("time_class") != "all")["games"].sum() == 4


def test_opponent_strength_buckets_and_edges() -> None:
    diffs = [-250, -200, -100, 100, 150, 250]
    out = _compute(
        [game(i, rating=1500, opponent_rating=1500 + d, result="win") for i, d in enumerate(diffs)]
        + [game(9, rating=None, opponent_rating=1500)]  # no rating: cannot be placed
    )
    strength = out["opponent_strength"]
    coarse = {
        r["bucket"]: r["games"]
        for r in rows(strength, time_class="all", color="all", scheme="coarse")
    }
    assert coarse == {"< -200": 1, "-200..-100": 1, "-100..100": 2, "100..200": 1, "> 200": 1}
    bins = {
        r["bucket"]: r["games"]
        for r in rows(strength, time_class="all", color="all", scheme="bin50")
    }
    assert bins == {
        "-250..-200": 1,
        "-200..-150": 1,
        "-100..-50": 1,
        "100..150": 1,
        "150..200": 1,
        "250..300": 1,
    }
    top = row(strength, time_class="all", color="all", scheme="coarse", bucket="> 200")
    assert top["expected_score"] == pytest.approx(elo(1500, 1750))
    assert top["residual"] == pytest.approx(1 - elo(1500, 1750))
    assert top["mean_rating_diff"] == 250
    ordered = strength.filter(
        (pl.col("scheme") == "coarse")
        & (pl.col("time_class") == "all")
        & (pl.col("color") == "all")
    )["bucket"].to_list()
    assert ordered == ["< -200", "-200..-100", "-100..100", "100..200", "> 200"]


def test_terminations_shares_add_up_with_wilson() -> None:
    out = _compute(
        [
            game(0, result="win", termination="checkmate"),
            game(1, result="win", termination="checkmate"),
            game(2, result="win", termination="resignation"),
            game(3, result="loss", termination="timeout"),
            game(4, result="draw", termination="repetition", color="black"),
            game(5, result="draw", termination=None, color="black"),
        ]
    )
    terms = out["terminations"]
    overall = terms.filter(pl.col("opening_family") == "all")
    mates = row(overall, time_class="all", color="all", result="win", termination="checkmate")
    assert (mates["games"], mates["group_games"]) == (2, 6)
    assert mates["share"] == pytest.approx(2 / 6)
    low, high = wilson(2, 6)
    assert (mates["share_low"], mates["share_high"]) == (pytest.approx(low), pytest.approx(high))
    assert row(overall, time_class="all", color="black", result="draw", termination="other")[
        "share"
    ] == pytest.approx(0.5)
    for _, group in terms.group_by(["time_class", "color", "opening_family"]):
        assert group["share"].sum() == pytest.approx(1.0)
        assert group["games"].sum() == group["group_games"][0]


def test_terminations_by_opening_family() -> None:
    italian = {"opening_family": "Italian Game"}
    sicilian = {"opening_family": "Sicilian Defense"}
    out = _compute(
        [
            game(0, result="win", termination="checkmate", **italian),
            game(1, result="win", termination="resignation", **italian),
            game(2, result="loss", termination="timeout", time_class="bullet", **italian),
            game(3, result="draw", termination="repetition", color="black", **sicilian),
            game(4, result="loss", termination="checkmate", color="black", **sicilian),
            game(5, result="win", termination="timeout", opening_family=None),
            game(6, result="win", termination="resignation", color="black", **italian),
        ]
    )
    terms = out["terminations"]

    def group(color: str, family: str) -> dict[tuple[str, str], tuple[int, int]]:
        found = rows(terms, time_class="all", color=color, opening_family=family)
        for r in found:
            assert r["share"] == pytest.approx(r["games"] / r["group_games"])
        return {(r["result"], r["termination"]): (r["games"], r["group_games"]) for r in found}

    # white Italian: games 0, 1, 2 (the bullet game too: time classes are pooled)
    assert group("white", "Italian Game") == {
        ("win", "checkmate"): (1, 3),
        ("win", "resignation"): (1, 3),
        ("loss", "timeout"): (1, 3),
    }
    # both colours: black's game 6 joins the resignations (shares 1/4, 2/4, 1/4)
    assert group("all", "Italian Game") == {
        ("win", "checkmate"): (1, 4),
        ("win", "resignation"): (2, 4),
        ("loss", "timeout"): (1, 4),
    }
    resigned = row(
        terms,
        time_class="all",
        color="all",
        opening_family="Italian Game",
        result="win",
        termination="resignation",
    )
    low, high = wilson(2, 4)
    assert (resigned["share_low"], resigned["share_high"]) == (
        pytest.approx(low),
        pytest.approx(high),
    )
    assert resigned["low_sample"] is True
    assert group("black", "Sicilian Defense") == {
        ("draw", "repetition"): (1, 2),
        ("loss", "checkmate"): (1, 2),
    }
    assert group("all", "unknown") == {("win", "timeout"): (1, 1)}
    assert group("black", "unknown") == {}
    # the time class x colour rows stay as before, under opening_family `all`
    assert group("all", "all")[("win", "resignation")] == (2, 7)
    assert rows(terms, time_class="blitz", color="white", opening_family="all", result="win")
    assert not terms.filter(
        (pl.col("time_class") != "all") & (pl.col("opening_family") != "all")
    ).height
    # family `all`: 3 + 1 + 3 (blitz/bullet x white/black) + 5 + 1 (per class) + 4 + 3 (per
    # colour) + 6 (everything); by family: white 3 + 1, black 2 + 1, both colours 3 + 2 + 1
    assert terms.height == 26 + 13


def test_accuracy_coverage_mean_median_and_months() -> None:
    out = _compute(
        [
            game(0, result="win", accuracy=80.0, opponent_accuracy=70.0),
            game(1, result="win", accuracy=None),
            game(2, result="loss", accuracy=90.0, opponent_accuracy=95.0),
            game(3, result="loss", accuracy=None, start_time=T0 + timedelta(days=40)),
        ]
    )
    accuracy = out["accuracy"]
    everything = row(accuracy, time_class="all", color="all", result="all", month="all")
    assert (everything["games"], everything["reviewed_games"]) == (4, 2)
    assert everything["coverage"] == pytest.approx(0.5)
    assert everything["coverage_low"] == pytest.approx(wilson(2, 4)[0])
    assert everything["mean_accuracy"] == pytest.approx(85)
    assert everything["median_accuracy"] == pytest.approx(85)
    # sd of 80 and 90 is sqrt(50); clipped to [0, 100]
    assert everything["mean_accuracy_low"] == pytest.approx(85 - 1.96 * 50**0.5 / 2**0.5)
    assert everything["mean_opponent_accuracy"] == pytest.approx(82.5)
    assert everything["low_sample"] is True
    wins = row(accuracy, time_class="all", color="all", result="win", month="all")
    assert (wins["reviewed_games"], wins["mean_accuracy"]) == (1, 80)
    april = row(accuracy, time_class="all", color="all", result="all", month="2024-04")
    assert (april["games"], april["reviewed_games"], april["mean_accuracy"]) == (1, 0, None)
    assert (
        row(accuracy, time_class="blitz", color="all", result="all", month="2024-03")["games"] == 3
    )


def test_trends_per_month() -> None:
    out = _compute(
        [
            game(0, result="win", rating=1500, accuracy=70.0),
            game(1, result="loss", rating=1520),
            game(2, result="win", rating=1540, start_time=T0 + timedelta(days=40)),
            game(
                3,
                result="draw",
                rating=1900,
                time_class="rapid",
                start_time=T0 + timedelta(days=41),
            ),
        ]
    )
    trends = out["trends"]
    march = row(trends, time_class="blitz", color="all", month="2024-03")
    assert (march["games"], march["score"], march["mean_rating"]) == (2, 0.5, 1510)
    assert (march["reviewed_games"], march["mean_accuracy"]) == (1, 70)
    april = row(trends, time_class="all", color="all", month="2024-04")
    assert (april["games"], april["wins"], april["draws"]) == (2, 1, 1)
    assert april["mean_rating"] is None
    per_class = trends.filter((pl.col("time_class") != "all") & (pl.col("color") == "all"))
    assert per_class["games"].sum() == 4


def test_game_length_distribution_zero_moves_and_parse_errors() -> None:
    out = _compute(
        [
            game(0, result="win", plies=20, termination="checkmate"),
            game(1, result="loss", plies=41, termination="resignation"),
            game(2, result="loss", plies=0, termination="abandonment"),  # zero moves: kept
            game(3, result="win", plies=None, parse_error="illegal move 12. Kxe9"),
            game(4, result="draw", plies=130, termination="repetition"),
        ]
    )
    length = out["game_length"]
    everything = row(length, time_class="all", color="all", result="all", termination="all")
    assert everything["games"] == 4
    assert everything["mean_plies"] == pytest.approx((20 + 41 + 0 + 130) / 4)
    assert (everything["min_plies"], everything["max_plies"]) == (0, 130)
    assert everything["median_plies"] in (20, 41)
    assert (everything["games_le_40"], everything["games_41_80"]) == (2, 1)
    assert (everything["games_81_120"], everything["games_gt_120"]) == (0, 1)
    losses = row(length, time_class="all", color="all", result="loss", termination="all")
    assert (losses["games"], losses["min_plies"], losses["max_plies"]) == (2, 0, 41)
    abandoned = row(
        length, time_class="blitz", color="white", result="loss", termination="abandonment"
    )
    assert abandoned["mean_plies"] == 0


def test_opponents_most_played_nemesis_best_and_worst() -> None:
    games = [
        game(
            i,
            opponent="Bob" if i % 2 else "bob",
            result="loss" if i < 5 else "win",
            opponent_rating=1600,
        )
        for i in range(6)
    ]
    games += [
        game(10, opponent="Carl", result="win", opponent_rating=2000),
        game(11, opponent="Dora", result="win", opponent_rating=2300, rated=False),
        game(12, opponent="Eve", result="loss", opponent_rating=1100),
        game(13, opponent="Carl", result="draw", opponent_rating=1900, color="black"),
    ]
    opponents = _compute(games)["opponents"]
    top = row(opponents, time_class="all", color="all", kind="most_played", rank=1)
    assert (top["opponent"], top["games"], top["wins"], top["losses"]) == ("Bob", 6, 1, 5)
    assert (
        row(opponents, time_class="all", color="all", kind="most_played", rank=2)["opponent"]
        == "Carl"
    )
    nemeses = rows(opponents, time_class="all", color="all", kind="nemesis")
    assert [n["opponent"] for n in nemeses] == ["Bob"]  # the only one with >= 5 games
    best = row(opponents, time_class="all", color="all", kind="best_win", rank=1)
    # Dora's 2300 win was unrated: Carl's 2000 is the best rated win
    assert (best["opponent"], best["opponent_rating"]) == ("Carl", 2000)
    assert best["url"] == "https://www.chess.com/game/live/10"
    worst = row(opponents, time_class="all", color="all", kind="worst_loss", rank=1)
    assert (worst["opponent"], worst["opponent_rating"]) == ("Eve", 1100)
    black_top = row(opponents, time_class="all", color="black", kind="most_played", rank=1)
    assert (black_top["opponent"], black_top["games"]) == ("Carl", 1)

"""Move-based summaries (opening_tree, time_management, castling, material) on hand-made moves."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from adapters.warehouse import compute_summaries_from_frames
from tests.warehouse.frames import game, games_frame, moves_for, moves_frame
from tests.warehouse.helpers import row, rows, wilson


def _sans(line: str, length: int | None = None) -> list[dict[str, Any]]:
    sans = line.split()
    if length is not None:
        sans = (sans * length)[:length]
    return [{"san": san} for san in sans]


def test_opening_tree_main_line_and_departures() -> None:
    games: list[dict[str, Any]] = []
    moves: list[dict[str, Any]] = []

    def add(index: int, color: str, result: str, line: str, **values: Any) -> None:
        plies = _sans(line)
        games.append(game(index, color=color, result=result, plies=len(plies), **values))
        moves.extend(moves_for(f"g{index:03d}", color, plies))

    long_line = "e4 e5 Nf3 Nc6 Bb5 a6 Ba4 Nf6 O-O Be7 Re1 b5 Bb3 d6"  # 14 plies
    add(0, "white", "win", long_line)
    add(1, "white", "win", long_line)
    add(2, "white", "loss", long_line)
    add(3, "white", "loss", "e4 e5 Bc4 Nf6")
    add(4, "white", "draw", "e4 e5 Bc4 Bc5")
    add(5, "white", "win", "d4 d5")
    add(6, "black", "win", "e4 c5 Nf3")
    add(7, "black", "loss", "e4 c5 Nc3")
    # a chess960 game: same SAN, different start; must stay out of the tree
    add(8, "white", "win", "e4 e5", initial_fen="bnrqkrnb/pppppppp/8/8/8/8/PPPPPPPP/BNRQKRNB w")
    # zero moves and a parse error: nothing to read
    games.append(game(9, plies=0, result="loss", termination="abandonment"))
    games.append(game(10, plies=None, parse_error="bad movetext"))

    tree = compute_summaries_from_frames(games_frame(games), moves_frame(moves), "alice")[
        "opening_tree"
    ]
    assert set(tree["time_class"]) == {"all"}
    e4 = row(tree, color="white", path="e4")
    assert (e4["games"], e4["wins"], e4["draws"], e4["losses"]) == (5, 2, 1, 2)
    assert e4["my_move"] is True
    assert e4["on_main_line"] is True
    e4e5 = row(tree, color="white", path="e4 e5")
    assert e4e5["my_move"] is False
    # from here I play Nf3 three times and Bc4 twice: Nf3 is my main line
    assert (e4e5["next_move"], e4e5["next_move_games"]) == ("Nf3", 3)
    bc4 = row(tree, color="white", path="e4 e5 Bc4")
    assert (bc4["games"], bc4["on_main_line"], bc4["left_main_line_here"]) == (2, False, 2)
    assert bc4["score"] == pytest.approx(0.25)
    assert bc4["next_move"] in {"Bc5", "Nf6"}  # one game each: a tie
    nf3 = row(tree, color="white", path="e4 e5 Nf3")
    assert (nf3["games"], nf3["on_main_line"], nf3["left_main_line_here"]) == (3, True, 0)
    # paths played once are not published (d4, the Bc4 sidelines) ...
    assert not rows(tree, color="white", path="d4")
    # ... but leaving the main line (1. e4) with 1. d4 is counted at the root, the start position
    root = row(tree, color="white", ply=0)
    assert (root["path"], root["move"], root["my_move"], root["games"]) == ("", None, None, 6)
    assert (root["next_move"], root["next_move_games"]) == ("e4", 5)
    assert (root["left_main_line_here"], root["left_main_line_below"]) == (0, 1)
    # games 0-5 leave the main line twice at Bc4 and once at d4: 2 + 1 over the tree
    white = tree.filter(pl.col("color") == "white")
    assert (white["left_main_line_here"].sum(), white["left_main_line_below"].sum()) == (2, 1)
    assert not rows(tree, color="white", path="e4 e5 Bc4 Nf6")
    # twelve plies at most
    assert tree["ply"].max() == 12
    assert row(tree, color="white", ply=12)["next_move"] is None
    black = row(tree, color="black", path="e4 c5")
    assert (black["games"], black["my_move"], black["score"]) == (2, True, 0.5)
    # the tree of all games: white's five e4 games and black's two games after 1. e4
    both = row(tree, color="all", path="e4")
    assert (both["games"], both["next_move"], both["next_move_games"]) == (7, "e5", 5)
    assert (both["my_move"], both["on_main_line"], both["left_main_line_here"]) == (None,) * 3
    assert both["left_main_line_below"] is None
    assert not rows(tree, color="all", path="d4")
    assert row(tree, color="all", ply=0)["games"] == 8


def test_opening_tree_keeps_paths_of_at_least_a_thousandth_of_the_games() -> None:
    games: list[dict[str, Any]] = []
    moves: list[dict[str, Any]] = []

    def add(count: int, color: str, line: str) -> None:
        for _ in range(count):
            index = len(games)
            games.append(game(index, color=color, result="win", plies=len(line.split())))
            moves.extend(moves_for(f"g{index:03d}", color, _sans(line)))

    # 2001 white games: a path needs max(2, ceil(2001 / 1000)) = 3 of them
    add(1994, "white", "e4 e5 Nf3 Nc6")
    add(3, "white", "e4 e5 Bc4 Nc6")  # 3 games: published, a departure from Nf3
    add(2, "white", "e4 e5 Qh5 Nc6")  # 2 games: too rare, a departure counted at "e4 e5"
    add(2, "white", "d4 d5")  # 2 games: too rare, a departure at ply 1 counted at the root
    # 5 black games: their tree needs max(2, ceil(5 / 1000)) = 2 games
    add(2, "black", "d4 Nf6")
    add(3, "black", "e4 c5")
    tree = compute_summaries_from_frames(games_frame(games), moves_frame(moves), "alice")[
        "opening_tree"
    ]

    def listed(color: str) -> dict[str, int]:
        found = tree.filter(pl.col("color") == color)
        return dict(zip(found["path"], found["games"], strict=True))

    assert listed("white") == {
        "": 2001,
        "e4": 1999,
        "e4 e5": 1999,
        "e4 e5 Nf3": 1994,
        "e4 e5 Nf3 Nc6": 1994,
        "e4 e5 Bc4": 3,
        "e4 e5 Bc4 Nc6": 3,
    }
    assert listed("black") == {"": 5, "d4": 2, "d4 Nf6": 2, "e4": 3, "e4 c5": 3}
    # the tree of all 2006 games needs 3: black's two d4 Nf6 games alone are too few
    assert listed("all") == {
        "": 2006,
        "e4": 2002,
        "e4 e5": 1999,
        "e4 e5 Nf3": 1994,
        "e4 e5 Nf3 Nc6": 1994,
        "e4 e5 Bc4": 3,
        "e4 e5 Bc4 Nc6": 3,
        "e4 c5": 3,
        "d4": 4,
    }
    here = {r["path"]: r["left_main_line_here"] for r in rows(tree, color="white")}
    below = {r["path"]: r["left_main_line_below"] for r in rows(tree, color="white")}
    assert {p: n for p, n in here.items() if n} == {"e4 e5 Bc4": 3}
    assert {p: n for p, n in below.items() if n} == {"e4 e5": 2, "": 2}
    # 3 + 2 + 2: every game that left the main line is accounted for
    assert sum(here.values()) + sum(below.values()) == 7
    # next_move counts every game, listed or not: from "e4 e5" Nf3 (1994) leads
    assert row(tree, color="white", path="e4 e5")["next_move_games"] == 1994
    assert row(tree, color="white", path="e4 e5 Bc4")["on_main_line"] is False


def _clocked(
    index: int, result: str, plies: list[dict[str, Any]], **values: Any
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    return (
        game(index, result=result, plies=len(plies), **values),
        moves_for(f"g{index:03d}", "white", plies),
    )


def test_time_management_phases_buckets_and_time_losses() -> None:
    spent = [
        # my moves (odd plies): 0.5 s, 2 s, 4 s; the opponent's carry other numbers
        {"time_spent_seconds": 0.5, "clock_share": 0.60, "phase": "opening"},
        {"time_spent_seconds": 9.0, "clock_share": 0.90, "phase": "opening"},
        {"time_spent_seconds": 2.0, "clock_share": 0.20, "phase": "opening"},
        {"time_spent_seconds": 9.0, "clock_share": 0.90, "phase": "middlegame"},
        {"time_spent_seconds": 4.0, "clock_share": 0.02, "phase": "endgame", "material_balance": 3},
        {"time_spent_seconds": 9.0, "clock_share": 0.90, "phase": "endgame", "material_balance": 3},
    ]
    no_clock = [{"phase": "opening"}, {"phase": "opening"}]
    first, first_moves = _clocked(0, "loss", spent, termination="timeout")
    second, second_moves = _clocked(1, "win", no_clock)
    zero = game(2, plies=0, result="loss", termination="timeout")  # flagged before moving
    out = compute_summaries_from_frames(
        games_frame([first, second, zero]), moves_frame(first_moves + second_moves), "alice"
    )
    tm = out["time_management"]
    total = row(tm, time_class="all", color="all", phase="all")
    assert (total["games"], total["moves"], total["timed_moves"]) == (2, 4, 3)
    assert total["mean_time_per_move"] == pytest.approx((0.5 + 2 + 4) / 3)
    assert total["instant_moves"] == 1
    assert total["instant_share"] == pytest.approx(1 / 3)
    # one game has clocks (game 1 has none): an interval over one game says nothing, [0, 1]
    assert total["timed_games"] == 1
    assert (total["instant_share_low"], total["instant_share_high"]) == (0.0, 1.0)
    assert (total["clock_moves"], total["clock_games"]) == (3, 1)
    assert total["share_clock_le_3"] == pytest.approx(1 / 3)  # 2 %
    assert total["share_clock_10_25"] == pytest.approx(1 / 3)  # 20 %
    assert total["share_clock_ge_50"] == pytest.approx(1 / 3)  # 60 %
    assert total["share_clock_3_10"] == 0
    # the zero-move timeout is not move-based: only game 0 counts, a piece up at the end
    assert (total["timeout_losses"], total["timeout_losses_ahead"]) == (1, 1)
    opening = row(tm, time_class="all", color="all", phase="opening")
    assert (opening["games"], opening["moves"], opening["timed_moves"]) == (2, 4 - 1, 2)
    assert opening["timeout_losses"] == 0
    endgame = row(tm, time_class="blitz", color="white", phase="endgame")
    assert (endgame["moves"], endgame["timeout_losses_ahead"]) == (1, 1)
    assert not rows(tm, phase="middlegame")  # the player made no middlegame move


def test_time_management_shares_are_per_game_with_an_interval_over_games() -> None:
    def mine(spent: float | None, share: float | None) -> list[dict[str, Any]]:
        # one of my moves (white) and the opponent's reply, which carries nothing of mine
        return [{"time_spent_seconds": spent, "clock_share": share}, {}]

    # game 0: 4 timed moves, 2 instant (0.5 s) -> 1/2; clock shares .6 .6 .2 .02 -> >= 50 %: 2/4
    a: list[tuple[float | None, float | None]] = [(0.5, 0.6), (0.5, 0.6), (2.0, 0.2), (3.0, 0.02)]
    # game 1: 2 timed moves, 1 instant -> 1/2; clock shares .6 .6 -> >= 50 %: 2/2
    b: list[tuple[float | None, float | None]] = [(0.2, 0.6), (5.0, 0.6)]
    # game 2: 4 moves of 4 s, none instant -> 0; clock shares .4 -> >= 50 %: 0/4, 25-50 %: 4/4
    c: list[tuple[float | None, float | None]] = [(4.0, 0.4)] * 4
    # game 3: no clock at all: not a timed game, not a clock game
    d: list[tuple[float | None, float | None]] = [(None, None)] * 3
    frames = [
        _clocked(i, "win", [ply for spent, share in moves for ply in mine(spent, share)])
        for i, moves in enumerate([a, b, c, d])
    ]
    out = compute_summaries_from_frames(
        games_frame([g for g, _ in frames]),
        moves_frame([m for _, ms in frames for m in ms]),
        "alice",
    )
    total = row(out["time_management"], time_class="all", color="all", phase="all")
    assert (total["games"], total["moves"], total["timed_moves"]) == (4, 13, 10)
    assert (total["timed_games"], total["clock_games"], total["clock_moves"]) == (3, 3, 10)
    # instant: per-game shares 1/2, 1/2, 0 -> mean 1/3 (pooled over moves it would be 3/10);
    # sample sd = sqrt(((1/6)^2 + (1/6)^2 + (1/3)^2) / 2) = sqrt(1/12) = .288675, half width
    # 1.96 * .288675 / sqrt(3) = .326667: normal [.006667, .66]; Wilson of 1/3 out of 3 games
    # is [.0615, .7923]: the lower low and the higher high give [.006667, .7923]
    assert total["instant_share"] == pytest.approx(1 / 3)
    assert total["instant_share_low"] == pytest.approx(1 / 3 - 0.326667, abs=1e-6)
    assert total["instant_share_high"] == pytest.approx(wilson(1, 3)[1])
    assert total["instant_share_high"] == pytest.approx(0.7923, abs=1e-4)
    # >= 50 %: per game 1/2, 1, 0 -> mean 1/2, sd 1/2, half 1.96 * .5 / sqrt(3) = .5658 -> [0, 1]
    assert total["share_clock_ge_50"] == pytest.approx(0.5)
    assert (total["share_clock_ge_50_low"], total["share_clock_ge_50_high"]) == (0.0, 1.0)
    # 25-50 %: per game 0, 0, 1 -> mean 1/3, sd = sqrt((1/9 + 1/9 + 4/9) / 2) = .57735, half
    # 1.96 * .57735 / sqrt(3) = .65333: normal [0 (clipped), .98667], wider than Wilson's
    assert total["share_clock_25_50"] == pytest.approx(1 / 3)
    assert total["share_clock_25_50_low"] == 0.0
    assert total["share_clock_25_50_high"] == pytest.approx(1 / 3 + 0.653333, abs=1e-6)
    # <= 3 %: per game 1/4, 0, 0 -> 1/12; 10-25 %: 1/4, 0, 0 -> 1/12; 3-10 %: none
    assert total["share_clock_le_3"] == pytest.approx(1 / 12)
    assert total["share_clock_10_25"] == pytest.approx(1 / 12)
    assert total["share_clock_3_10"] == 0


def test_time_loss_in_a_phase_the_player_never_moved_in() -> None:
    # game 0, I am white: my last move (ply 5) is in the middlegame, black's reply (ply 6, a
    # queen trade) enters the endgame, a piece up for me, and then I flag
    plies: list[dict[str, Any]] = [
        {"phase": "opening", "time_spent_seconds": 2.0},
        {"phase": "opening"},
        {"phase": "middlegame", "time_spent_seconds": 2.0},
        {"phase": "middlegame"},
        {"phase": "middlegame", "time_spent_seconds": 2.0},
        {"phase": "endgame", "material_balance": 3},
    ]
    flagged, flagged_moves = _clocked(0, "loss", plies, termination="timeout")
    # game 1, I am black: white moved once and I never did, then lost on time in the opening
    opening_flag = game(1, result="loss", termination="timeout", color="black", plies=1)
    opening_moves = moves_for("g001", "black", [{"phase": "opening"}])
    # game 2: a won game whose last ply (mine) is in the middlegame
    won, won_moves = _clocked(2, "win", plies[:3])
    out = compute_summaries_from_frames(
        games_frame([flagged, opening_flag, won]),
        moves_frame(flagged_moves + opening_moves + won_moves),
        "alice",
    )
    tm = out["time_management"].filter((pl.col("time_class") == "all") & (pl.col("color") == "all"))
    endgame = row(tm, phase="endgame")
    assert (endgame["games"], endgame["moves"], endgame["timed_games"]) == (1, 0, 0)
    assert (endgame["timeout_losses"], endgame["timeout_losses_ahead"]) == (1, 1)
    assert endgame["instant_share"] is None
    middlegame = row(tm, phase="middlegame")
    assert (middlegame["games"], middlegame["moves"], middlegame["timeout_losses"]) == (2, 3, 0)
    opening = row(tm, phase="opening")
    # game 1 has no move of mine but ended in the opening: it is there, with its time loss
    assert (opening["games"], opening["moves"], opening["timeout_losses"]) == (3, 2, 1)
    total = row(tm, phase="all")
    assert (total["games"], total["moves"], total["timeout_losses"]) == (3, 5, 2)
    assert total["timeout_losses_ahead"] == 1
    phases = tm.filter(pl.col("phase") != "all")
    assert phases["timeout_losses"].sum() == total["timeout_losses"]
    assert phases["timeout_losses_ahead"].sum() == total["timeout_losses_ahead"]
    # the black game sits under color black in the breakdown too
    black = row(out["time_management"], time_class="blitz", color="black", phase="opening")
    assert (black["games"], black["moves"], black["timeout_losses"]) == (1, 0, 1)


def test_castling_sides_and_opposite_wings() -> None:
    both: list[dict[str, Any]] = [{} for _ in range(10)]
    both[8] = {"castling": "kingside", "san": "O-O"}  # ply 9: my move 5
    both[9] = {"castling": "queenside", "san": "O-O-O"}  # ply 10: theirs
    only_them: list[dict[str, Any]] = [{} for _ in range(6)]
    only_them[5] = {"castling": "kingside", "san": "O-O"}
    g0, m0 = game(0, result="win", plies=10), moves_for("g000", "white", both)
    g1, m1 = game(1, result="loss", plies=6), moves_for("g001", "white", only_them)
    g2 = game(2, result="loss", plies=0)  # zero moves: not move-based
    castling = compute_summaries_from_frames(
        games_frame([g0, g1, g2]), moves_frame(m0 + m1), "alice"
    )["castling"]
    total = row(castling, time_class="all", color="all", my_castling="all", opponent_castling="all")
    assert (total["games"], total["opposite_side_games"]) == (2, 1)
    assert total["opposite_side_share"] == pytest.approx(0.5)
    kingside = row(
        castling, time_class="all", color="all", my_castling="kingside", opponent_castling="all"
    )
    assert (kingside["games"], kingside["wins"], kingside["mean_castle_move"]) == (1, 1, 5)
    assert (kingside["share"], kingside["group_games"]) == (0.5, 2)
    none = row(
        castling, time_class="all", color="all", my_castling="none", opponent_castling="kingside"
    )
    assert (none["games"], none["losses"], none["mean_castle_move"]) == (1, 1, None)


def test_player_who_never_castles() -> None:
    plies = [{"castling": "kingside", "san": "O-O"} if p == 7 else {} for p in range(10)]
    games = [game(i, result="draw", plies=10) for i in range(3)]
    moves = [m for i in range(3) for m in moves_for(f"g{i:03d}", "white", plies)]
    castling = compute_summaries_from_frames(games_frame(games), moves_frame(moves), "alice")[
        "castling"
    ]
    assert set(castling["my_castling"]) == {"none", "all"}
    never = row(
        castling, time_class="all", color="all", my_castling="none", opponent_castling="all"
    )
    assert (never["games"], never["share"], never["opposite_side_games"]) == (3, 1.0, 0)
    assert never["mean_castle_move"] is None


def test_material_conversion_resourcefulness_and_queen_trades() -> None:
    def balances(
        values: list[int], extra: dict[int, dict[str, Any]] | None = None
    ) -> list[dict[str, Any]]:
        plies = [{"material_balance": v} for v in values]
        for ply, more in (extra or {}).items():
            plies[ply - 1].update(more)
        return plies

    trade = {19: {"captured": "q"}, 20: {"captured": "q"}}  # move 10: both queens go
    late = {39: {"captured": "q"}, 40: {"captured": "q"}}  # move 20: not before move 20
    specs = [
        ("win", balances([0, 3, 3, 3, 3, 0] + [0] * 14, trade)),  # ahead 4 plies; queen trade
        ("loss", balances([3, 3, 3, 0, 3, 3, 3] + [0] * 33, late)),  # runs of 3: not ahead
        ("draw", balances([-3, -4, -5, -3, 0])),  # behind 4 plies, saved
        ("loss", balances([-9, -9, -9, -9, -9, -9])),  # behind, lost
    ]
    games = [game(i, result=r, plies=len(p)) for i, (r, p) in enumerate(specs)]
    moves = [m for i, (_, p) in enumerate(specs) for m in moves_for(f"g{i:03d}", "white", p)]
    games.append(game(9, result="win", plies=0))  # zero moves: not move-based
    material = compute_summaries_from_frames(games_frame(games), moves_frame(moves), "alice")[
        "material"
    ]
    ahead = row(material, time_class="all", color="all", situation="ahead_3_for_4_plies")
    assert (ahead["games"], ahead["wins"], ahead["rate"], ahead["rate_n"]) == (1, 1, 1.0, 1)
    behind = row(material, time_class="all", color="all", situation="behind_3_for_4_plies")
    assert (behind["games"], behind["draws"], behind["losses"]) == (2, 1, 1)
    assert behind["rate"] == pytest.approx(0.5)  # resourcefulness: not lost
    assert behind["rate_low"] == pytest.approx(wilson(1, 2)[0])
    traded = row(material, time_class="all", color="all", situation="queen_trade_before_move_20")
    assert (traded["games"], traded["rate_n"], traded["rate"]) == (1, 4, 0.25)
    kept = row(material, time_class="all", color="all", situation="no_queen_trade_before_move_20")
    assert (kept["games"], kept["rate"]) == (3, 0.75)
    assert kept["score"] == pytest.approx(0.5 / 3)


def test_no_moves_at_all_keeps_game_level_summaries() -> None:
    out = compute_summaries_from_frames(
        games_frame([game(0), game(1, result="loss")]), pl.DataFrame(), "alice"
    )
    assert row(out["results"], time_class="all", color="all")["games"] == 2
    for name in ("opening_tree", "time_management", "castling", "material"):
        assert out[name].height == 0, name

"""Moves of every fixture game: replay to the archive's final position, clocks, phases, material."""

from __future__ import annotations

import re
from typing import Any

import chess
import chess.variant
import polars as pl

from transforms.archive import parse_month
from transforms.divider import mixedness

CLOCK = re.compile(r"\[%clk (\d+):(\d+):(\d+(?:\.\d+)?)\]")


def _board(game: dict[str, Any]) -> chess.Board:
    """The start position read independently from the game's own PGN tags."""
    fen_tag = re.search(r'\[FEN "([^"]+)"\]', game["pgn"])
    fen = fen_tag.group(1) if fen_tag else chess.STARTING_FEN
    if game["rules"] == "crazyhouse":
        board_part, rest = fen.split(" ", 1)
        return chess.variant.CrazyhouseBoard(f"{board_part.rstrip('/')}[] {rest}")
    return chess.Board(fen, chess960=game["rules"] == "chess960")


def test_moves_replay_to_the_archive_final_fen(json_months: list[Any]) -> None:
    replayed = 0
    fen_fields = set()
    for owner, month, body, games in json_months:
        moves = parse_month(owner, month, body).moves
        by_game = moves.sort("ply").group_by("game_id", maintain_order=True).agg("uci", "ply")
        ucis = {row["game_id"]: row for row in by_game.iter_rows(named=True)}
        for game in games:
            if not game["tcn"]:
                continue
            row = ucis[game["uuid"]]
            assert row["ply"] == list(range(1, len(row["ply"]) + 1))
            board = _board(game)
            for uci in row["uci"]:
                move = chess.Move.from_uci(uci)
                assert board.is_legal(move), (game["url"], uci)
                board.push(move)
            placement, turn, *_ = game["fen"].split()
            fen_fields.add(len(game["fen"].split()))
            assert board.board_fen() == placement, game["url"]
            assert ("w" if board.turn else "b") == turn, game["url"]
            replayed += 1
    assert replayed == 441
    assert fen_fields == {4, 6}  # chesscom-data.md §6.5: both forms occur


def test_clocks_and_time_spent_agree_with_clk_comments(json_months: list[Any]) -> None:
    checked = 0
    for owner, month, body, games in json_months:
        parsed = parse_month(owner, month, body)
        for game in games:
            clocks = [
                int(h) * 3600 + int(m) * 60 + float(s) for h, m, s in CLOCK.findall(game["pgn"])
            ]
            moves = parsed.moves.filter(pl.col("game_id") == game["uuid"]).sort("ply")
            if not clocks:
                assert moves["clock_seconds"].null_count() == moves.height
                continue
            assert moves["clock_seconds"].to_list() == clocks, game["url"]
            tc = game["time_control"]
            if "/" in tc or tc == "-":
                assert moves["time_spent_seconds"].null_count() == moves.height
                continue
            base = int(tc.split("+")[0])
            inc = int(tc.split("+")[1]) if "+" in tc else 0
            for color in ("white", "black"):
                own = moves.filter(pl.col("color") == color)
                if own.height == 0:
                    continue
                # Everything a side spent = its base + increments earned - what is left.
                expected = base + inc * own.height - own["clock_seconds"][-1]
                assert abs(own["time_spent_seconds"].sum() - expected) < 1e-6, game["url"]
                share = own["clock_share"].to_list()
                assert all(
                    abs(s - c / (base + 40 * inc)) < 1e-9
                    for s, c in zip(share, own["clock_seconds"], strict=True)
                )
            checked += 1
    assert checked > 380


def test_daily_clock_in_hours(json_months: list[Any]) -> None:
    owner, month, body, games = next(m for m in json_months if m[:2] == ("wizardchiken", "2023-01"))
    game = next(g for g in games if g["url"].endswith("/daily/457660339"))
    moves = parse_month(owner, month, body).moves.filter(pl.col("game_id") == game["uuid"])
    first = CLOCK.search(game["pgn"])
    assert first is not None
    hours, minutes, seconds = first.groups()
    assert moves.sort("ply")["clock_seconds"][0] == int(hours) * 3600 + int(minutes) * 60 + float(
        seconds
    )
    assert (
        max(moves["clock_seconds"].drop_nulls().to_list()) > 3600
    )  # daily clocks count hours (§3, §6.9)


def test_divider_phases_hand_checked_on_a_real_game(json_months: list[Any]) -> None:
    """Caruana - Vidit, 2020-05 (live/4814018950), worked out by hand from its moves.

    Back ranks: White's rank 1 loses Ng1 (ply 3), Bf1 (5), castles (11: still 6 pieces),
    Nb1 (17), gets Nf1 back (19), loses it (23), Bc1 (29: 4 left); 17.Rxe8+ (ply 33) takes
    the Re1 off rank 1 -> 3 pieces < 4: the middlegame starts at ply 33 (mixedness stays below
    150 before that, majors+minors are still 14). Majors+minors: 14 until 33 Rxe8 (13),
    34 Qxe8 (12), 48 Bxf5 (11), 49 Nxf5 (10), 51 Rxe8 (9), 52 Qxe8 (8), 59 Qxd5 (7),
    60 Nxd5 (6 <= 6): the endgame starts at ply 60.
    """
    owner, month, body, _ = next(m for m in json_months if m[:2] == ("fabianocaruana", "2020-05"))
    moves = parse_month(owner, month, body).moves
    game = moves.filter(pl.col("game_id") == "516abd2f-8ed1-11ea-8133-eb3d40010001").sort("ply")
    assert game["san"][32] == "Rxe8+"
    assert game["san"][59] == "Nxd5"
    phases = game["phase"].to_list()
    assert phases[:32] == ["opening"] * 32
    assert phases[32:59] == ["middlegame"] * 27
    assert set(phases[59:]) == {"endgame"}


def test_divider_mixedness_starts_the_middlegame(json_months: list[Any]) -> None:
    """WizardChiken - NoahOtsuka, 2023-01 (live/67064496328), 36 plies: mixedness alone decides.

    1.e4 e5 2.Nf3 d6 3.Bc4 Nc6 4.Ng5 Qxg5 5.f4 (ply 9). After 5.f4 majors+minors are 13 (> 10),
    White's rank 1 keeps Ra1 Nb1 Bc1 Qd1 Ke1 Rh1 (6) and Black's rank 8 keeps Ra8 Bc8 Ke8 Bf8
    Ng8 Rh8 (6), so neither the piece count nor a sparse back rank fires. Mixedness by hand,
    per pair of ranks (region = two files x ranks y, y+1; scalachess Divider.score):
      y=1: ef12 {Ke1} (1,0) = 8, fg12 {g2} (1,0) = 8, the rest (3,0)/(4,0) at y=1 = 0 -> 16
      y=2: de23 {d2} 7, fg23 {g2} 7, ab/bc/cd/gh23 (2,0) at y=2 = 0 -> 14
      y=3: bc34 {Bc4} 6, cd34 {Bc4} 6, de34 {e4} 6, ef34 {e4 f4} (2,0) = 3, fg34 {f4} 6 -> 27
      y=4: bc45 {Bc4} 5, cd45 {Bc4} 5, de45 {e4 | e5} (1,1) = 5+|3-4| = 6,
           ef45 {e4 f4 | e5} (2,1) = 4+4 = 8, fg45 {f4 | Qg5} (1,1) = 6, gh45 {Qg5} 5 -> 35
      y=5: bc56 {Nc6} 6, cd56 {Nc6 d6} (0,2) = 3, de56 {d6 e5} 3, ef56 {e5} 6, fg56 {Qg5} 6,
           gh56 {Qg5} 6 -> 30
      y=6: bc67 {b7 c7 Nc6} (0,3) = 4, cd67 {c7 Nc6 d6} 4, de67 {d6} 7, ef67 {f7} 7,
           ab/fg/gh67 (0,2) at y=6 = 0 -> 22
      y=7: de78 {Ke8} (0,1) = 8, the rest (0,2)/(0,3)/(0,4) at y=7 = 0 -> 8
    Total 152 > 150: the middlegame starts at ply 9. Before 5.f4 the f-pawn on f2 made ef12 and
    fg12 (2,0) at y=1 = 0, and ef34/fg34/ef45/fg45 read {e4} 6, {} 0, {e4 | e5} 6, {Qg5} 5:
    130, below the line. (With the old table, de45 and fg45 scored 5 and ef45 7: 149, no
    middlegame until the back rank thinned at ply 35.) Majors+minors never reach 6: no endgame.
    """
    owner, month, body, _ = next(m for m in json_months if m[:2] == ("wizardchiken", "2023-01"))
    moves = parse_month(owner, month, body).moves
    game = moves.filter(pl.col("game_id") == "bffb71c3-909f-11ed-a76f-aa393d01000f").sort("ply")
    assert game.height == 36
    assert game["san"].to_list()[:9] == ["e4", "e5", "Nf3", "d6", "Bc4", "Nc6", "Ng5", "Qxg5", "f4"]
    assert game["phase"].to_list() == ["opening"] * 8 + ["middlegame"] * 28
    board = chess.Board()
    for san in game["san"].to_list()[:9]:
        board.push_san(san)
    assert mixedness(board.occupied_co[chess.WHITE], board.occupied_co[chess.BLACK]) == 152
    board.pop()
    assert mixedness(board.occupied_co[chess.WHITE], board.occupied_co[chess.BLACK]) == 130


def test_mixedness_hand_computed() -> None:
    board = chess.Board()
    assert mixedness(board.occupied_co[chess.WHITE], board.occupied_co[chess.BLACK]) == 0
    board.push_san("e4")
    # Regions (lower rank y, 1-based) holding one white piece score 1 + (8 - y):
    # y=2: d2-e2 group and e2-f2 group lost e2 -> (d2) 7 + (f2) 7; y=3: e4 twice -> 6 + 6;
    # y=4: e4 twice -> 5 + 5. Total 36.
    assert mixedness(board.occupied_co[chess.WHITE], board.occupied_co[chess.BLACK]) == 36


def test_material_balance_from_the_owner_side(json_months: list[Any]) -> None:
    owner, month, body, games = next(
        m for m in json_months if m[:2] == ("fabianocaruana", "2020-05")
    )
    parsed = parse_month(owner, month, body)
    for game in games:
        moves = parsed.moves.filter(pl.col("game_id") == game["uuid"]).sort("ply")
        if moves.height == 0:
            continue
        placement = game["fen"].split()[0]
        values = {"p": 1, "n": 3, "b": 3, "r": 5, "q": 9}
        white = sum(values.get(c, 0) for c in placement if c.isupper() for c in c.lower())
        black = sum(values.get(c, 0) for c in placement if c.islower())
        owner_white = game["white"]["username"].lower() == owner
        expected = (white - black) if owner_white else (black - white)
        assert moves["material_balance"][-1] == expected, game["url"]
        assert moves["is_player_move"].to_list() == [
            (c == "white") == owner_white for c in moves["color"]
        ]


def test_move_details_on_a_crazyhouse_game(json_months: list[Any]) -> None:
    owner, month, body, games = next(
        m for m in json_months if m[:2] == ("shaunchess123", "2024-05")
    )
    game = next(g for g in games if g["url"].endswith("/108576599573"))
    moves = parse_month(owner, month, body).moves.filter(pl.col("game_id") == game["uuid"])
    moves = moves.sort("ply")
    drop = moves.row(21, named=True)  # 11... N@d6
    assert (drop["san"], drop["uci"], drop["piece"], drop["captured"]) == (
        "N@d6",
        "N@d6",
        "n",
        None,
    )
    castle = moves.row(14, named=True)  # 8. O-O
    assert (castle["san"], castle["castling"], castle["piece"]) == ("O-O", "kingside", "k")
    capture = moves.row(7, named=True)  # 4... Bxf3
    assert (capture["piece"], capture["captured"], capture["color"]) == ("b", "n", "black")
    assert capture["move_number"] == 4

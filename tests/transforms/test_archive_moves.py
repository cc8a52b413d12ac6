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


def test_divider_second_hand_checked_game(json_months: list[Any]) -> None:
    """WizardChiken - NoahOtsuka, 2023-01 (live/67064496328), 36 plies, no endgame.

    White's rank 1: Ng1 leaves (ply 3: 7), Bf1 (5: 6), Rh1-f1 stays on the rank (11), Nb1 (15: 5),
    Bc1 (23: 4), Ra1-b1 stays (27), Qd1xg4 (35: 3 < 4). Majors+minors: 14, Qxg5 takes a knight
    (8: 13), Nxe4 (19: 12), Qxe4 (20: 11), Qxg4 takes the bishop (35: 10 <= 10). Black's rank 8
    keeps 4 (Nb8, Qd8, Ng8, Bc8 gone: 4 left). So the middlegame starts at ply 35; the
    majors+minors never reach 6, so there is no endgame.
    """
    owner, month, body, _ = next(m for m in json_months if m[:2] == ("wizardchiken", "2023-01"))
    moves = parse_month(owner, month, body).moves
    game = moves.filter(pl.col("game_id") == "bffb71c3-909f-11ed-a76f-aa393d01000f").sort("ply")
    assert game.height == 36
    assert game["san"][34] == "Qxg4"
    assert game["phase"].to_list() == ["opening"] * 34 + ["middlegame"] * 2


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

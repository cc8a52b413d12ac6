"""The PGN/TCN extraction layer on its own: agreement with python-chess, tokens, clocks, TCN."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import chess
import chess.pgn
import pytest

from transforms.archive import ply_columns
from transforms.pgn import (
    GameMoves,
    GameParseError,
    decode_tcn,
    make_board,
    parse_headers,
    replay_movetext,
    replay_tcn,
    rules_from_variant,
    split_pgn_games,
)


def uci(moves: GameMoves) -> list[str]:
    """UCI of each ply, by the Polars expression the moves frame ships with."""
    return list(ply_columns(moves)["uci"])


def san(moves: GameMoves) -> list[str]:
    return list(ply_columns(moves)["san"])


def _replay(pgn: str) -> list[str]:
    headers, movetext = parse_headers(pgn)
    fen = headers.get("FEN") if headers.get("SetUp") == "1" else None
    return uci(
        replay_movetext(movetext, make_board(rules_from_variant(headers.get("Variant")), fen))
    )


@pytest.mark.parametrize(
    "rel",
    [
        "biskupstunga/pgn/api_pgn_2018-03.pgn",  # daily thematic starts, Black to move
        "biskupstunga/pgn/api_pgn_2021-02.pgn",  # non-ASCII Event names
        "magnuscarlsen/pgn/games_2014-12-14_to_2018-03-07.pgn",  # Chess960, old headers
        "apuzanov/pgn/website_download_2018-08-15_to_2018-12-31.pgn",  # wrapped website export
    ],
)
def test_moves_agree_with_python_chess_reader(fixtures_dir: Path, rel: str) -> None:
    """The fast path must pick exactly the move python-chess' own reader picks, ply by ply."""
    games = split_pgn_games((fixtures_dir / rel).read_text(encoding="utf-8"))
    plies = 0
    for pgn in games:
        reference = chess.pgn.read_game(io.StringIO(pgn))
        assert reference is not None
        assert not reference.errors
        expected = [move.uci() for move in reference.mainline_moves()]
        assert _replay(pgn) == expected
        plies += len(expected)
    assert plies > 10_000


def test_split_keeps_every_game_of_a_month_file(fixtures_dir: Path) -> None:
    text = (fixtures_dir / "biskupstunga/pgn/api_pgn_2020-01.pgn").read_text(encoding="utf-8")
    games = split_pgn_games(text)
    assert len(games) == text.count('[Event "')
    assert all(parse_headers(g)[0]["Site"] == "Chess.com" for g in games)


def test_headers_and_movetext() -> None:
    pgn = '[Event "Live Chess"]\n[White "a \\"b\\""]\n\n1. e4 {[%clk 0:02:58.6]} 1-0\n'
    headers, movetext = parse_headers(pgn)
    assert headers == {"Event": "Live Chess", "White": 'a "b"'}
    assert movetext.startswith("1. e4")


@pytest.mark.parametrize(
    ("comment", "seconds"),
    [
        ("[%clk 0:02:58.6]", 178.6),
        ("[%clk 0:00:43]", 43.0),
        ("[%clk 23:59:48]", 86388.0),  # daily games: hours beyond 9
        ("[%clk\n0:01:43.9]", 103.9),  # the website export wraps inside the comment
        ("[%timestamp 12] [%clk 0:00:05.25]", 5.25),
        ("no clock here", None),
    ],
)
def test_clock_comment_to_seconds(comment: str, seconds: float | None) -> None:
    moves = replay_movetext(f"1. e4 {{{comment}}} 1... e5 *", chess.Board())
    assert list(ply_columns(moves)["clock_seconds"]) == [seconds, None]


def test_variations_nags_and_annotations_are_skipped() -> None:
    movetext = "1. e4!? $1 (1. d4 d5 (1... Nf6 2. c4)) 1... e5 {a comment} ; rest of line\n2. Nf3 *"
    out = replay_movetext(movetext, chess.Board())
    assert uci(out) == ["e2e4", "e7e5", "g1f3"]
    assert san(out) == ["e4", "e5", "Nf3"]


def test_illegal_move_says_which_and_where() -> None:
    with pytest.raises(GameParseError, match=r"'Ke3' at ply 2"):
        replay_movetext("1. e4 Ke3", chess.Board())


def test_pinned_piece_and_ambiguity_fall_back_to_python_chess() -> None:
    # Two knights reach d2 (SAN says which); then a knight pinned by Bb4 may not leave d2.
    out = replay_movetext("1. d4 e5 2. dxe5 Nc6 3. Nf3 Bb4+ 4. Nbd2 Nge7", chess.Board())
    assert uci(out)[-2:] == ["b1d2", "g8e7"]
    with pytest.raises(GameParseError):
        # The d2 knight is pinned by Bb4: Nb3 is illegal although the knight "reaches" b3.
        replay_movetext("1. d4 e5 2. dxe5 Bb4+ 3. Nd2 Nc6 4. Nb3", chess.Board())


def test_tcn_matches_the_pgn_of_every_fixture_json_game(fixtures_dir: Path) -> None:
    checked = 0
    for path in sorted(fixtures_dir.glob("*/[0-9][0-9][0-9][0-9]/[0-9][0-9].json")):
        for game in json.loads(path.read_bytes())["games"]:
            headers, movetext = parse_headers(game["pgn"])
            fen = headers.get("FEN") if headers.get("SetUp") == "1" else None
            from_pgn = replay_movetext(movetext, make_board(game["rules"], fen))
            from_tcn = replay_tcn(game["tcn"], make_board(game["rules"], fen))
            assert uci(from_tcn) == uci(from_pgn), game["url"]
            assert san(from_tcn) == [re.sub(r"[!?]+$", "", s) for s in san(from_pgn)], game["url"]
            checked += 1
    assert checked == 441


def test_decode_tcn_alphabet() -> None:
    # "mC" = e2e4 (index 12 -> 28); a drop of a bishop ("+", the first of the two) on h4.
    assert decode_tcn("mC") == [(chess.E2, chess.E4, None, None)]
    assert decode_tcn("+F") == [(chess.H4, chess.H4, None, chess.BISHOP)]
    with pytest.raises(GameParseError):
        decode_tcn("m")
    with pytest.raises(GameParseError):
        decode_tcn("m\u00e9")


def test_crazyhouse_fen_with_pocket_suffix() -> None:
    board = make_board("crazyhouse", "rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR/ w KQkq - 0 1")
    assert board.board_fen() == chess.STARTING_BOARD_FEN
    pocket = make_board("crazyhouse", "rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR/Nq w KQkq - 0 1")
    assert isinstance(pocket, chess.variant.CrazyhouseBoard)
    assert pocket.pockets[chess.WHITE].count(chess.KNIGHT) == 1
    assert pocket.pockets[chess.BLACK].count(chess.QUEEN) == 1


def test_unsupported_rules() -> None:
    with pytest.raises(GameParseError, match="unsupported rules"):
        make_board("atomicish", None)


def test_private_python_chess_methods_of_the_fast_path_exist() -> None:
    """pyproject pins chess to 1.11.x because the fast path calls these private methods; an
    upgrade that drops or renames one must fail here, not silently fall back or crash."""
    assert chess.__version__.startswith("1.11.")
    board = chess.Board()
    assert board._slider_blockers(chess.E1) == 0
    board._remove_piece_at(chess.E2)
    board._set_piece_at(chess.E4, chess.PAWN, chess.WHITE, False)
    assert board.board_fen() == "rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR"

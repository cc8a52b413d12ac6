"""Each oddity of the real data (chesscom-data.md §4, §6, §8) on a real fixture game."""

from __future__ import annotations

import gzip
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import chess
import polars as pl
import pytest

from transforms.archive import ParsedMonth, parse_month
from transforms.pgn import split_pgn_games


def _one(owner: str, game: dict[str, Any], month: str = "2020-01") -> ParsedMonth:
    return parse_month(owner, month, json.dumps({"games": [game]}).encode())


def _json_game(fixtures_dir: Path, rel: str, url_end: str) -> dict[str, Any]:
    games = json.loads((fixtures_dir / rel).read_bytes())["games"]
    return next(g for g in games if g["url"].endswith(url_end))


def _pgn_games(path: Path) -> list[str]:
    """Games of a PGN file, split independently of the parser (at `[Event ` line starts)."""
    text = path.read_text(encoding="utf-8")
    return [g for g in re.split(r"\n(?=\[Event )", text) if g.strip()]


def _pgn_game(path: Path, link: str) -> str:
    return next(g for g in _pgn_games(path) if f'"{link}"' in g)


def _tag(pgn: str, name: str) -> str:
    match = re.search(rf'\[{name} "([^"]*)"\]', pgn)
    assert match is not None, name
    return match.group(1)


def _imported(pgn: str, url: str | None = None, uuid: str | None = None) -> dict[str, Any]:
    """A game object as a PGN import writes it: only url, pgn, end_time, uuid."""
    end = datetime.strptime(
        f"{_tag(pgn, 'EndDate')} {_tag(pgn, 'EndTime')}", "%Y.%m.%d %H:%M:%S"
    ).replace(tzinfo=UTC)
    return {
        "url": url or _tag(pgn, "Link"),
        "pgn": pgn,
        "end_time": int(end.timestamp()),
        "uuid": uuid,
    }


def _ucis(parsed: ParsedMonth) -> list[str]:
    return parsed.moves.sort("ply")["uci"].to_list()


# §6.1 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rel", "url_end", "owner"),
    [
        ("magnuscarlsen/2024/01.json", "/97953688257", "magnuscarlsen"),  # promotion
        ("shaunchess123/2024/05.json", "/108576599573", "shaunchess123"),  # crazyhouse drops
        ("shaunchess123/2024/10.json", "/124039193891", "shaunchess123"),  # chess960, O-O-O
    ],
)
def test_game_without_pgn_is_replayed_from_tcn(
    fixtures_dir: Path, rel: str, url_end: str, owner: str
) -> None:
    game = _json_game(fixtures_dir, rel, url_end)
    with_pgn = _one(owner, game)
    without = _one(owner, {k: v for k, v in game.items() if k != "pgn"})
    row = without.games.row(0, named=True)
    assert row["parse_error"] is None
    assert row["plies"] == len(game["tcn"]) // 2 > 0
    assert row["rating"] == with_pgn.games["rating"][0]
    assert _ucis(without) == _ucis(with_pgn)
    assert without.moves["san"].to_list() == with_pgn.moves["san"].to_list()
    assert without.moves["clock_seconds"].null_count() == without.moves.height
    assert without.moves["phase"].to_list() == with_pgn.moves["phase"].to_list()


def test_game_with_neither_pgn_nor_tcn_gets_a_parse_error_row(fixtures_dir: Path) -> None:
    game = _json_game(fixtures_dir, "fabianocaruana/2020/05.json", "/4814018950")
    bare = {k: v for k, v in game.items() if k not in ("pgn", "tcn")}
    parsed = _one("fabianocaruana", bare)
    assert parsed.games["parse_error"][0] == "game has neither a pgn nor a tcn move list"
    assert parsed.games["game_id"][0] == game["uuid"]
    assert parsed.moves.height == 0


# §6.3 ------------------------------------------------------------------------------------


def test_bot_games_without_uuid_are_not_merged_by_their_shared_url(fixtures_dir: Path) -> None:
    """Every daily bot game's URL is `.../game/daily/0`: without a uuid (a PGN import), two
    different bot games must keep two rows, keyed by their PGN text, not by that URL."""
    game = _json_game(fixtures_dir, "shaunchess123/2024/03.json", "/daily/0")
    first = {k: v for k, v in game.items() if k != "uuid"}
    # A second, different bot game: the same one without its last move and a day later.
    assert game["pgn"].rstrip().endswith(" 61. Re8# 1-0")
    movetext_cut = game["pgn"].rstrip().removesuffix(" 61. Re8# 1-0") + " 1-0\n"
    second = dict(first, pgn=movetext_cut, end_time=game["end_time"] + 86400)
    parsed = parse_month(
        "shaunchess123", "2024-03", json.dumps({"games": [first, second]}).encode()
    )
    assert parsed.games.height == 2
    assert parsed.games["game_id"].n_unique() == 2
    assert set(parsed.games["url"]) == {"https://www.chess.com/game/daily/0"}
    # The same game listed twice is still one row (same PGN text, same id).
    twice = parse_month("shaunchess123", "2024-03", json.dumps({"games": [first, first]}).encode())
    assert twice.games.height == 1


def test_daily_bot_game_without_clock(fixtures_dir: Path) -> None:
    game = _json_game(fixtures_dir, "shaunchess123/2024/03.json", "/daily/0")
    parsed = _one("shaunchess123", game, "2024-03")
    row = parsed.games.row(0, named=True)
    assert (row["time_control"], row["time_class"]) == ("-", "daily")
    assert (row["base_seconds"], row["increment_seconds"], row["days_per_move"]) == (None,) * 3
    assert row["url"] == "https://www.chess.com/game/daily/0"
    assert row["game_id"] == game["uuid"]
    assert (row["opponent"], row["opponent_rating"]) == ("madame-mate-bot", 600)
    assert row["rated"] is False
    assert parsed.moves.height == len(game["tcn"]) // 2
    for column in ("clock_seconds", "time_spent_seconds", "clock_share"):
        assert parsed.moves[column].null_count() == parsed.moves.height


def test_bot_with_rating_one(fixtures_dir: Path) -> None:
    found = []
    for path in sorted((fixtures_dir / "shaunchess123").glob("*/*.json")):
        for game in json.loads(path.read_bytes())["games"]:
            if 1 in (game["white"]["rating"], game["black"]["rating"]):
                row = _one("shaunchess123", game).games.row(0, named=True)
                found.append((row["opponent"], row["opponent_rating"], row["time_control"]))
    assert found
    assert all(rating == 1 for _, rating, _ in found)


# §6.4 ------------------------------------------------------------------------------------


def test_empty_initial_setup_is_the_standard_start(fixtures_dir: Path) -> None:
    game = _json_game(fixtures_dir, "fabianocaruana/2020/05.json", "/4814018950")
    assert game["initial_setup"] == ""
    parsed = _one("fabianocaruana", game, "2020-05")
    assert parsed.games["initial_fen"][0] is None
    assert parsed.moves.sort("ply")["uci"][0] == "e2e4"


def test_chess960_start_and_castling(fixtures_dir: Path) -> None:
    game = _json_game(fixtures_dir, "shaunchess123/2024/10.json", "/124039193891")
    parsed = _one("shaunchess123", game, "2024-10")
    row = parsed.games.row(0, named=True)
    assert row["rules"] == "chess960"
    assert row["initial_fen"].split()[0] == game["initial_setup"].split()[0]
    castle = parsed.moves.filter(pl.col("san") == "O-O-O").row(0, named=True)
    assert (castle["castling"], castle["color"], castle["piece"]) == ("queenside", "black", "k")


def test_crazyhouse_pocket_fen_and_drops(fixtures_dir: Path) -> None:
    game = _json_game(fixtures_dir, "shaunchess123/2024/05.json", "/108576599573")
    assert "RNBQKBNR/ w KQkq" in game["pgn"]
    parsed = _one("shaunchess123", game, "2024-05")
    assert parsed.games["initial_fen"][0] is None
    drops = parsed.moves.filter(pl.col("uci").str.contains("@"))["san"].to_list()
    assert drops == re.findall(r"\b[NBRQ]@[a-h][1-8]", game["pgn"])


# §6.6 / §6.7 -----------------------------------------------------------------------------


def test_integer_accuracy_becomes_float(fixtures_dir: Path) -> None:
    game = _json_game(fixtures_dir, "magnuscarlsen/2024/01.json", "/98577895051")
    ints = [v for v in game["accuracies"].values() if isinstance(v, int)]
    assert ints
    row = _one("magnuscarlsen", game).games.row(0, named=True)
    color = "white" if game["white"]["username"].lower() == "magnuscarlsen" else "black"
    other = "black" if color == "white" else "white"
    assert row["accuracy"] == float(game["accuracies"][color])
    assert row["opponent_accuracy"] == float(game["accuracies"][other])


def test_missing_accuracies_and_eco_key(fixtures_dir: Path) -> None:
    games = json.loads((fixtures_dir / "shaunchess123/2023/11.json").read_bytes())["games"]
    game = next(g for g in games if "accuracies" not in g)
    row = _one("shaunchess123", game).games.row(0, named=True)
    assert row["accuracy"] is None
    assert row["opponent_accuracy"] is None
    magnus = json.loads((fixtures_dir / "magnuscarlsen/2024/02.json").read_bytes())["games"][0]
    assert "eco" not in magnus
    row = _one("magnuscarlsen", magnus).games.row(0, named=True)
    assert row["eco_url"] == _tag(magnus["pgn"], "ECOUrl")
    assert row["eco"] == _tag(magnus["pgn"], "ECO")
    assert row["opening_family"]


# §6.8 ------------------------------------------------------------------------------------


def test_abandoned_game_from_json(fixtures_dir: Path) -> None:
    found = 0
    for path in sorted((fixtures_dir / "shaunchess123").glob("*/*.json")):
        month = f"{path.parent.name}-{path.stem}"
        games = json.loads(path.read_bytes())["games"]
        parsed = parse_month("shaunchess123", month, path.read_bytes())
        for game in games:
            if "abandoned" in (game["white"]["result"], game["black"]["result"]):
                row = parsed.games.filter(pl.col("game_id") == game["uuid"]).row(0, named=True)
                assert row["termination"] == "abandonment"
                found += 1
    assert found == 7


def test_zero_move_abandoned_game(fixtures_dir: Path) -> None:
    path = fixtures_dir / "biskupstunga/pgn/api_pgn_2019-09.pgn"
    pgn = _pgn_game(path, "https://www.chess.com/game/live/4015572070")
    parsed = _one("biskupstunga", _imported(pgn))
    row = parsed.games.row(0, named=True)
    assert row["parse_error"] is None
    assert row["plies"] == 0
    assert parsed.moves.height == 0
    assert (row["result"], row["termination"]) == ("loss", "abandonment")
    assert (row["result_code"], row["opponent_result_code"]) == ("abandoned", "win")


# §6.9 ------------------------------------------------------------------------------------


def test_daily_time_control_and_start_time(fixtures_dir: Path) -> None:
    games = json.loads((fixtures_dir / "shaunchess123/2026/04.json").read_bytes())["games"]
    game = next(g for g in games if g["time_control"] == "1/259200")
    row = _one("shaunchess123", game, "2026-04").games.row(0, named=True)
    assert row["days_per_move"] == 3
    assert row["start_time"] == datetime.fromtimestamp(game["start_time"], UTC)
    assert row["duration_seconds"] == game["end_time"] - game["start_time"]


# §6.12 / §8.16 ---------------------------------------------------------------------------


def test_pgn_export_splits_into_the_json_games(fixtures_dir: Path) -> None:
    text = (fixtures_dir / "fabianocaruana/pgn/ChessCom_fabianocaruana_202005.pgn").read_text()
    games = json.loads((fixtures_dir / "fabianocaruana/2020/05.json").read_bytes())["games"]
    split = split_pgn_games(text)
    assert [s.strip() for s in split] == [g["pgn"].strip() for g in reversed(games)]


@pytest.mark.parametrize(
    ("rel", "count"),
    [
        ("magnuscarlsen/pgn/games_2014-12-14_to_2018-03-07.pgn", 334),
        ("apuzanov/pgn/website_download_2018-08-15_to_2018-12-31.pgn", 1170),
    ],
)
def test_games_without_blank_line_between_them_keep_headers(
    fixtures_dir: Path, rel: str, count: int
) -> None:
    split = split_pgn_games((fixtures_dir / rel).read_text(encoding="utf-8"))
    assert len(split) == count
    assert all(s.startswith('[Event "') and '[White "' in s for s in split)


def test_old_link_form_is_canonical(fixtures_dir: Path) -> None:
    path = fixtures_dir / "magnuscarlsen/pgn/games_2014-12-14_to_2018-03-07.pgn"
    pgn = _pgn_games(path)[0]
    link = _tag(pgn, "Link")
    assert "/live/game/" in link
    game = {"url": link, "pgn": pgn, "end_time": 1418515200, "uuid": None}
    owner = _tag(pgn, "White").lower()
    row = _one(owner, game).games.row(0, named=True)
    assert row["url"] == link.replace("/live/game/", "/game/live/")
    assert row["parse_error"] is None


# §8.17 / §8.18 / §8.19 -------------------------------------------------------------------


def test_custom_start_position_with_black_to_move(fixtures_dir: Path) -> None:
    path = fixtures_dir / "biskupstunga/pgn/api_pgn_2018-03.pgn"
    pgn = _pgn_game(path, "https://www.chess.com/game/daily/189841534")
    fen = _tag(pgn, "FEN")
    assert fen.split()[1] == "b"
    parsed = _one("biskupstunga", _imported(pgn))
    row = parsed.games.row(0, named=True)
    assert row["parse_error"] is None
    assert row["initial_fen"] == fen
    first = parsed.moves.sort("ply").row(0, named=True)
    assert (first["ply"], first["color"], first["move_number"]) == (1, "black", int(fen.split()[5]))
    board = chess.Board(fen)
    for uci in _ucis(parsed):
        board.push_uci(uci)
    assert board.board_fen() == _tag(pgn, "CurrentPosition").split()[0]


def test_non_ascii_event_names(fixtures_dir: Path) -> None:
    path = fixtures_dir / "biskupstunga/pgn/api_pgn_2021-02.pgn"
    games = [g for g in _pgn_games(path) if "MÃ©xico" in g]
    assert games
    parsed = parse_month(
        "biskupstunga", "2021-02", json.dumps({"games": [_imported(g) for g in games]}).encode()
    )
    assert parsed.games["parse_error"].null_count() == len(games)
    assert parsed.games["match"].str.starts_with("https://www.chess.com/club/matches/").all()


def test_every_chess960_pgn_game_parses(fixtures_dir: Path) -> None:
    games = [
        g
        for path in sorted((fixtures_dir / "biskupstunga/pgn").glob("*.pgn"))
        for g in _pgn_games(path)
        if '[Variant "Chess960"]' in g
    ]
    assert len(games) == 49
    parsed = parse_month(
        "biskupstunga", "2020-01", json.dumps({"games": [_imported(g) for g in games]}).encode()
    )
    assert parsed.games["parse_error"].null_count() == 49
    assert set(parsed.games["rules"]) == {"chess960"}
    assert parsed.games["initial_fen"].str.contains(r" [A-Ha-h]+ ").all()  # Shredder castling
    assert parsed.moves.height > 49 * 10


# Imports: only url, pgn, end_time, uuid ---------------------------------------------------


def test_imported_api_pgn_game_derives_everything_from_headers(fixtures_dir: Path) -> None:
    path = fixtures_dir / "biskupstunga/pgn/api_pgn_2020-01.pgn"
    pgn = _pgn_games(path)[0]
    parsed = _one("biskupstunga", _imported(pgn))
    row = parsed.games.row(0, named=True)
    white = _tag(pgn, "White")
    is_white = white.lower() == "biskupstunga"
    result = _tag(pgn, "Result")
    won = result == ("1-0" if is_white else "0-1")
    tc = _tag(pgn, "TimeControl")
    base, _, inc = tc.partition("+")
    estimate = int(base) + 40 * int(inc or 0)
    assert row["color"] == ("white" if is_white else "black")
    assert row["opponent"] == _tag(pgn, "Black" if is_white else "White")
    assert row["rating"] == int(_tag(pgn, "WhiteElo" if is_white else "BlackElo"))
    assert row["opponent_rating"] == int(_tag(pgn, "BlackElo" if is_white else "WhiteElo"))
    assert row["result"] == ("win" if won else "draw" if result == "1/2-1/2" else "loss")
    assert row["time_control"] == tc
    assert row["time_class"] == (
        "bullet" if estimate < 180 else "blitz" if estimate < 600 else "rapid"
    )
    assert row["url"] == _tag(pgn, "Link")
    assert row["start_time"] == datetime.strptime(
        f"{_tag(pgn, 'UTCDate')} {_tag(pgn, 'UTCTime')}", "%Y.%m.%d %H:%M:%S"
    ).replace(tzinfo=UTC)
    assert row["eco"] == _tag(pgn, "ECO")
    assert row["rated"] is None
    # Without a uuid the id is stable and derived from the game URL.
    again = _one("biskupstunga", _imported(pgn))
    assert row["game_id"] == again.games["game_id"][0]
    assert _one("biskupstunga", _imported(pgn, uuid="given")).games["game_id"][0] == "given"


def test_imported_terminations_match_the_wording(fixtures_dir: Path) -> None:
    path = fixtures_dir / "biskupstunga/pgn/api_pgn_2018-04.pgn"
    games = _pgn_games(path)
    parsed = parse_month(
        "biskupstunga", "2018-04", json.dumps({"games": [_imported(g) for g in games]}).encode()
    )
    by_url = {r["url"]: r for r in parsed.games.iter_rows(named=True)}
    wording = {
        "won by resignation": "resignation",
        "won on time": "timeout",
        "won by checkmate": "checkmate",
        "won - game abandoned": "abandonment",
        "drawn by repetition": "repetition",
        "drawn by insufficient material": "insufficient",
        "drawn by agreement": "agreement",
        "drawn by timeout vs insufficient material": "timevsinsufficient",
        "drawn by stalemate": "stalemate",
        "drawn by 50-move rule": "50move",
    }
    seen = set()
    for pgn in games:
        termination = _tag(pgn, "Termination")
        expected = next(v for k, v in wording.items() if termination.endswith(k))
        assert by_url[_tag(pgn, "Link")]["termination"] == expected, termination
        seen.add(expected)
    assert {"resignation", "timeout", "checkmate", "50move"} <= seen


# §4 website download ----------------------------------------------------------------------


def test_website_download_wrapped_clock_comments(fixtures_dir: Path) -> None:
    path = fixtures_dir / "apuzanov/pgn/website_download_2018-08-15_to_2018-12-31.pgn"
    pgn = _pgn_games(path)[0]
    assert "{[%clk\n" in pgn  # a clock comment broken across lines
    game = {"url": None, "pgn": pgn, "end_time": 1534361679, "uuid": None}
    parsed = _one("apuzanov", game, "2018-08")
    row = parsed.games.row(0, named=True)
    assert row["parse_error"] is None
    assert row["start_time"] is None  # no UTCDate/UTCTime in this format
    clocks = [
        int(h) * 3600 + int(m) * 60 + float(s)
        for h, m, s in re.findall(r"\[%clk\s+(\d+):(\d+):([\d.]+)\]", pgn)
    ]
    assert parsed.moves.sort("ply")["clock_seconds"].to_list() == clocks
    assert len(clocks) == row["plies"] == 20


def test_website_download_draw_wording(fixtures_dir: Path) -> None:
    path = fixtures_dir / "apuzanov/pgn/website_download_2018-08-15_to_2018-12-31.pgn"
    games = [g for g in _pgn_games(path) if "Game drawn - " in _tag(g, "Termination")]
    objects = [
        {"url": None, "pgn": g, "end_time": 1534361679 + i, "uuid": None}
        for i, g in enumerate(games)
    ]
    parsed = parse_month("apuzanov", "2018-08", json.dumps({"games": objects}).encode())
    assert parsed.games.height == len(games) == 12
    terms = dict(parsed.games["termination"].value_counts().iter_rows())
    assert terms == {"insufficient": 11, "timevsinsufficient": 1}
    assert set(parsed.games["result"]) == {"draw"}


# §8.20 -----------------------------------------------------------------------------------


def test_lichess_export_with_clocks(fixtures_dir: Path) -> None:
    path = fixtures_dir.parent / "lichess/pnmadelaine/lichess_export_2021-11-06_to_2024-03-29.pgn"
    pgn = next(g for g in _pgn_games(path) if "%clk" in g and "pnmadelaine" in g)
    game = {"url": _tag(pgn, "Site"), "pgn": pgn, "end_time": 1636200000, "uuid": None}
    parsed = _one("pnmadelaine", game, "2021-11")
    assert parsed.games["parse_error"][0] is None
    assert parsed.games["rules"][0] == "chess"
    assert parsed.moves["clock_seconds"].null_count() == 0
    assert parsed.moves.height == len(re.findall(r"\[%clk ", pgn))


# §6.15 -----------------------------------------------------------------------------------


def test_gzip_body_is_read(fixtures_dir: Path) -> None:
    body = (fixtures_dir / "fabianocaruana/2020/05.json").read_bytes()
    plain = parse_month("fabianocaruana", "2020-05", body)
    zipped = parse_month("fabianocaruana", "2020-05", gzip.compress(body))
    assert zipped.games.equals(plain.games)
    assert zipped.moves.equals(plain.moves)

"""Every fixture JSON game yields a games row whose fields match the JSON, field by field."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest

from transforms.archive import MalformedArchiveError, parse_month
from transforms.schema import GAMES_SCHEMA, MOVES_SCHEMA

DRAWS = {"agreed", "repetition", "stalemate", "insufficient", "timevsinsufficient", "50move"}


def _tag(pgn: str, name: str) -> str | None:
    marker = f'[{name} "'
    return pgn.split(marker, 1)[1].split('"', 1)[0] if marker in pgn else None


# The documented rule (patterns.md), restated over the dashed slug: an optional old "C65-" ECO
# prefix; a "..." glued to a name ("Defense...4.exd5") is a word break, marked here by a "|"
# token; the family runs up to and including the first whole word Defense/Game/Opening/Attack/
# Gambit/Countergambit/System (+ Accepted/Declined) unless a glue or a move comes first, and
# then stops there; the rest is the variation.
_GLUE = re.compile(r"(^|-)([A-Za-z][^-.]*)\.\.\.")
_SLUG = re.compile(
    r"(?P<family>(?:[A-Za-z][^-|]*-)*?(?:Opening|Defense|Game|Gambit|Countergambit|Attack|System)"
    r"(?:-(?:Declined|Accepted))?)"
    r"(?:-(?P<variation>.+))?"
)


def _opening(eco_url: str | None) -> tuple[str | None, str | None]:
    if not eco_url:
        return None, None
    slug = re.sub(r"^[A-E][0-9]{2}-", "", eco_url.split("?")[0].rstrip("/").split("/")[-1])
    slug = _GLUE.sub(r"\1\2-|-", slug, count=1)

    def words(text: str | None) -> str | None:
        kept = [w for w in (text or "").split("-") if w and w != "|"]
        return " ".join(kept) or None

    match = _SLUG.fullmatch(slug)
    if match is None:  # no family word before a glue or a move: the name up to there
        tokens = slug.split("-")
        stop = next((i for i, w in enumerate(tokens) if w == "|" or w[:1].isdigit()), len(tokens))
        return words("-".join(tokens[:stop])), words("-".join(tokens[stop:]))
    return words(match["family"]), words(match["variation"])


_START = "rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq"


def _initial_fen(game: dict[str, Any]) -> str | None:
    """The PGN's own FEN when it declares a setup, else a non-empty `initial_setup`; null when
    that is the standard start (chesscom-data.md: `initial_setup` is "" on 2020 games)."""
    fen = _tag(game["pgn"], "FEN") if _tag(game["pgn"], "SetUp") == "1" else None
    fen = fen or game.get("initial_setup") or None
    if fen is None:
        return None
    # Crazyhouse writes its (here empty) pocket as a ninth "/" group: still the standard start.
    placement, _, rest = fen.partition(" ")
    return None if f"{placement.removesuffix('/')} {rest}".startswith(_START) else fen


def _expected(owner: str, month: str, game: dict[str, Any]) -> dict[str, Any]:
    """The games row written out by hand from the JSON object (no parser code involved)."""
    white_is_owner = game["white"]["@id"].rsplit("/", 1)[1] == owner
    me, them = (game["white"], game["black"]) if white_is_owner else (game["black"], game["white"])
    color = "white" if white_is_owner else "black"
    if me["result"] == "win":
        result, score = "win", 1.0
    elif me["result"] in DRAWS:
        result, score = "draw", 0.5
    else:
        result, score = "loss", 0.0
    ending = them["result"] if me["result"] == "win" else me["result"]
    termination = {
        "checkmated": "checkmate",
        "resigned": "resignation",
        "timeout": "timeout",
        "abandoned": "abandonment",
        "agreed": "agreement",
    }.get(ending, ending)
    tc = game["time_control"]
    base = inc = days = None
    if tc.startswith("1/"):
        days = int(tc[2:]) // 86400
    elif tc != "-":
        base = int(tc.split("+")[0])
        inc = int(tc.split("+")[1]) if "+" in tc else 0
    accuracies = game.get("accuracies", {})
    other = "black" if color == "white" else "white"
    start = game.get("start_time")
    eco_url = game.get("eco") or _tag(game["pgn"], "ECOUrl")
    family, variation = _opening(eco_url)
    pgn_start = datetime.strptime(
        f"{_tag(game['pgn'], 'UTCDate')} {_tag(game['pgn'], 'UTCTime')}", "%Y.%m.%d %H:%M:%S"
    ).replace(tzinfo=UTC)
    return {
        "game_id": game["uuid"],
        "username": owner,
        "month": month,
        "url": game["url"],
        "end_time": datetime.fromtimestamp(game["end_time"], UTC),
        "rules": game["rules"],
        "rated": game["rated"],
        "time_class": game["time_class"],
        "time_control": tc,
        "base_seconds": base,
        "increment_seconds": inc,
        "days_per_move": days,
        "color": color,
        "rating": me["rating"],
        "opponent": them["username"],
        "opponent_rating": them["rating"],
        "result": result,
        "score": score,
        "result_code": me["result"],
        "opponent_result_code": them["result"],
        "termination": termination,
        # The `eco` key exists only in responses fetched from late 2024 on; the PGN always
        # carries the same URL as ECOUrl (chesscom-data.md §2, §6.7). `eco` is the code from
        # the PGN's [ECO] tag; family and variation come from the URL's slug.
        "eco_url": eco_url,
        "eco": _tag(game["pgn"], "ECO"),
        "opening_family": family,
        "opening_variation": variation,
        "initial_fen": _initial_fen(game),
        "accuracy": float(accuracies[color]) if color in accuracies else None,
        "opponent_accuracy": float(accuracies[other]) if other in accuracies else None,
        "tournament": game.get("tournament"),
        "match": game.get("match"),
        "plies": len(game["tcn"]) // 2,
        "parse_error": None,
        # Daily games carry start_time; live games start at the PGN's UTCDate + UTCTime.
        "start_time": datetime.fromtimestamp(start, UTC) if start else pgn_start,
        "duration_seconds": game["end_time"] - (start or int(pgn_start.timestamp())),
    }


def test_every_fixture_game_matches_its_json(json_months: list[Any]) -> None:
    checked = 0
    seen = {"eco": 0, "variation": 0, "initial_fen": 0}
    for owner, month, body, games in json_months:
        parsed = parse_month(owner, month, body)
        assert parsed.games.schema == GAMES_SCHEMA
        assert parsed.moves.schema == MOVES_SCHEMA
        rows = {row["game_id"]: row for row in parsed.games.iter_rows(named=True)}
        assert len(rows) == len(games), (owner, month)
        for game in games:
            row = rows[game["uuid"]]
            for name, value in _expected(owner, month, game).items():
                assert row[name] == value, (owner, month, game["url"], name, row[name], value)
            checked += 1
            seen["eco"] += row["eco"] is not None
            seen["variation"] += row["opening_variation"] is not None
            seen["initial_fen"] += row["initial_fen"] is not None
    assert checked == 441
    # The comparison covered real values, not only nulls on both sides.
    assert min(seen.values()) > 0, seen


def test_moves_count_matches_plies_and_tcn(json_months: list[Any]) -> None:
    for owner, month, body, games in json_months:
        parsed = parse_month(owner, month, body)
        per_game = dict(parsed.moves.group_by("game_id").len().iter_rows())
        for game in games:
            assert per_game.get(game["uuid"], 0) == len(game["tcn"]) // 2, game["url"]


def test_eco_code_and_opening_from_the_pgn_headers(json_months: list[Any]) -> None:
    owner, month, body, games = next(
        m for m in json_months if m[:2] == ("fabianocaruana", "2020-05")
    )
    parsed = parse_month(owner, month, body)
    game = games[0]
    row = parsed.games.filter(pl.col("game_id") == game["uuid"]).row(0, named=True)
    eco = game["pgn"].split('[ECO "', 1)[1].split('"', 1)[0]
    assert row["eco"] == eco
    slug = game["eco"].rsplit("/", 1)[1]
    assert (row["opening_family"] + " " + (row["opening_variation"] or "")).strip() == slug.replace(
        "-", " "
    )


def test_username_case_does_not_matter(json_months: list[Any]) -> None:
    owner, month, body, _ = next(m for m in json_months if m[0] == "shaunchess123" and m[3])
    lower = parse_month(owner, month, body)
    mixed = parse_month("ShaunChess123", month, body)
    assert lower.games.equals(mixed.games)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[1, 2]",
        b'{"archives": []}',
        b'{"games": {}}',
        b"\xff\xfe{",
        b"\x1f\x8b\x08\x00" + b"\x00" * 11,
    ],
)
def test_malformed_month_body_raises_one_clear_error(body: bytes) -> None:
    """What happened (owner, month, why) and what to do (refresh --full or re-import)."""
    with pytest.raises(MalformedArchiveError) as caught:
        parse_month("Someone", "2024-05", body)
    message = str(caught.value)
    assert message.startswith("archive someone 2024-05 ")
    assert "`chess-patterns refresh someone --full`" in message
    assert "`chess-patterns import someone FILE`" in message


def test_empty_month_gives_empty_frames_with_the_schema() -> None:
    parsed = parse_month("shaunchess123", "2023-10", b'{"games":[]}')
    assert parsed.games.height == 0
    assert parsed.moves.height == 0
    assert parsed.games.schema == GAMES_SCHEMA
    assert parsed.moves.schema == MOVES_SCHEMA


def test_duplicate_game_counts_once_with_its_first_copy(json_months: list[Any]) -> None:
    owner, month, _, games = next(m for m in json_months if m[:2] == ("fabianocaruana", "2020-05"))
    broken = {k: v for k, v in games[0].items() if k not in ("pgn", "tcn")}
    body = json.dumps({"games": [broken, games[0], games[1], games[1]]}).encode()
    parsed = parse_month(owner, month, body)
    assert parsed.games["game_id"].to_list() == [games[0]["uuid"], games[1]["uuid"]]
    assert parsed.games["parse_error"][0] is not None
    # The kept copy of game 0 is the broken one: no moves may appear for it.
    assert set(parsed.moves["game_id"]) == {games[1]["uuid"]}
    assert parsed.moves.height == len(games[1]["tcn"]) // 2


def test_unplayable_moves_keep_the_game_facts(json_months: list[Any]) -> None:
    owner, month, _, games = next(m for m in json_months if m[:2] == ("fabianocaruana", "2020-05"))
    game = dict(games[0])
    game["pgn"] = game["pgn"].replace(" 2. ", " 2. Ke3 ", 1)  # an illegal second white move
    row = parse_month(owner, month, json.dumps({"games": [game]}).encode()).games.row(0, named=True)
    assert row["parse_error"] is not None
    assert "Ke3" in row["parse_error"]
    assert row["plies"] is None
    expected = _expected(owner, month, games[0])
    for name in ("rating", "opponent", "result", "termination", "time_class", "eco_url"):
        assert row[name] == expected[name], name

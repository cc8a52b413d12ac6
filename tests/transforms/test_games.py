"""Game-level helpers: time controls, Chess.com's time-class rule, result codes, opening slugs."""

from __future__ import annotations

import pytest

from transforms.games import (
    canonical_url,
    codes_from_pgn,
    game_id_for,
    is_game_url,
    is_unique_game_url,
    opening_from_url,
    parse_time_control,
    result_of,
    termination_of,
    time_class_for,
)


@pytest.mark.parametrize(
    ("tc", "expected"),
    [
        ("180", (180, 0, None)),
        ("300+5", (300, 5, None)),
        ("1/86400", (None, None, 1)),
        ("1/259200", (None, None, 3)),
        ("-", (None, None, None)),
        ("", (None, None, None)),
        ("abc", (None, None, None)),
    ],
)
def test_parse_time_control(tc: str, expected: tuple[int | None, ...]) -> None:
    assert parse_time_control(tc) == expected


@pytest.mark.parametrize(
    ("tc", "expected"),
    [
        ("60", "bullet"),
        ("120+1", "bullet"),  # 120 + 40 = 160 < 180
        ("180", "blitz"),  # exactly 180 is not bullet
        ("60+3", "blitz"),  # 60 + 120 = 180
        ("300+5", "blitz"),  # 300 + 200 = 500
        ("600", "rapid"),  # exactly 600 is not blitz
        ("240+20", "rapid"),  # 240 + 800
        ("1/604800", "daily"),
        ("-", "daily"),
    ],
)
def test_time_class_rule(tc: str, expected: str) -> None:
    assert time_class_for(tc) == expected


@pytest.mark.parametrize(
    ("result", "termination", "codes"),
    [
        ("1-0", "ShaunChess123 won on time", ("win", "timeout")),
        ("0-1", "Lillyandmarcus won by resignation", ("resigned", "win")),
        ("0-1", "nurik1976 won - game abandoned", ("abandoned", "win")),
        ("1-0", "checkmate99 won by resignation", ("win", "resigned")),  # name != reason
        ("1/2-1/2", "Game drawn by timeout vs insufficient material", ("timevsinsufficient",) * 2),
        ("1/2-1/2", "Game drawn - insufficient material", ("insufficient", "insufficient")),
        ("1/2-1/2", "Game drawn by 50-move rule", ("50move", "50move")),
        ("1/2-1/2", "Game drawn by agreement", ("agreed", "agreed")),
        ("1-0", "Normal", ("win", "lose")),
        ("1/2-1/2", "", ("draw", "draw")),
        ("*", "", (None, None)),
    ],
)
def test_codes_from_pgn(result: str, termination: str, codes: tuple[str | None, ...]) -> None:
    assert codes_from_pgn(result, termination) == codes


def test_results_and_terminations() -> None:
    assert result_of("win") == ("win", 1.0)
    assert result_of("repetition") == ("draw", 0.5)
    assert result_of("checkmated") == ("loss", 0.0)
    assert result_of(None) == (None, None)
    assert termination_of("win", "resigned") == "resignation"
    assert termination_of("abandoned", "win") == "abandonment"
    assert termination_of("agreed", "agreed") == "agreement"
    assert termination_of("win", "lose") == "other"


@pytest.mark.parametrize(
    ("url", "family", "variation"),
    [
        (
            "https://www.chess.com/openings/Ruy-Lopez-Opening-Berlin-Defense-4.d3-Bc5",
            "Ruy Lopez Opening",
            "Berlin Defense 4.d3 Bc5",
        ),
        ("https://www.chess.com/openings/Sicilian-Defense", "Sicilian Defense", None),
        (
            "https://www.chess.com/openings/Queens-Gambit-Declined-Exchange-Variation",
            "Queens Gambit Declined",
            "Exchange Variation",
        ),
        ("https://www.chess.com/openings/B06-Modern-Defense", "Modern Defense", None),
        ("https://www.chess.com/openings/Vienna", "Vienna", None),
        (None, None, None),
    ],
)
def test_opening_from_url(url: str | None, family: str | None, variation: str | None) -> None:
    assert opening_from_url(url) == (family, variation)


def test_urls_and_ids() -> None:
    assert (
        canonical_url("https://www.chess.com/live/game/1234567")
        == "https://www.chess.com/game/live/1234567"
    )
    assert is_game_url("https://www.chess.com/game/daily/0")
    assert is_game_url("https://lichess.org/AbCdEfGh")
    assert not is_game_url("Chess.com")
    assert not is_game_url("https://www.chess.com/")
    assert game_id_for("u-1", None, "") == "u-1"
    one = game_id_for(None, "https://www.chess.com/game/live/1", "x")
    assert one == game_id_for("", "https://www.chess.com/game/live/1", "y")
    assert game_id_for(None, None, "a") != game_id_for(None, None, "b")
    # The bots' shared `.../game/daily/0` is no key: the PGN text decides, as with no URL.
    bot = "https://www.chess.com/game/daily/0"
    assert not is_unique_game_url(bot)
    assert is_unique_game_url("https://www.chess.com/game/daily/10")
    assert is_unique_game_url("https://www.chess.com/game/live/1")
    assert game_id_for(None, bot, "a") != game_id_for(None, bot, "b")
    assert game_id_for(None, bot, "a") == game_id_for(None, None, "a")

"""Terminations in every language: the phrase table, the final position first, `unknown` named."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import FIXTURES
from tests.warehouse.real import fixture_players, parse_player
from transforms.archive import parse_month
from transforms.games import codes_from_pgn, termination_of
from transforms.terminations import (
    PHRASES_FILE,
    UNKNOWN,
    termination_issues,
    termination_reason,
    text_issues,
)

TABLE = json.loads(PHRASES_FILE.read_text(encoding="utf-8"))
LANGUAGES = [lang["lang"] for lang in TABLE["languages"]]

# Real Chess.com Termination headers (the sources are named in termination_phrases.json), the
# Result they came with, and the category they mean, written out by hand: "abandono" (es) and
# "abandon" (fr) are resignation, "desistimiento" (es) is abandonment.
REAL: dict[str, list[tuple[str, str, str]]] = {
    "en": [
        ("Lillyandmarcus won by resignation", "0-1", "resignation"),
        ("ShaunChess123 won on time", "1-0", "timeout"),
        ("CringeClaw won by checkmate", "0-1", "checkmate"),
        ("nurik1976 won - game abandoned", "0-1", "abandonment"),
        ("Game drawn by repetition", "1/2-1/2", "repetition"),
        ("Game drawn by agreement", "1/2-1/2", "agreement"),
        ("Game drawn by stalemate", "1/2-1/2", "stalemate"),
        ("Game drawn by insufficient material", "1/2-1/2", "insufficient"),
        ("Game drawn - insufficient material", "1/2-1/2", "insufficient"),
        ("Game drawn by timeout vs insufficient material", "1/2-1/2", "timevsinsufficient"),
        ("Game drawn - timeout vs insufficient material", "1/2-1/2", "timevsinsufficient"),
        ("Game drawn by 50-move rule", "1/2-1/2", "50move"),
    ],
    "es": [
        ("LeelaChess ha ganado por tiempo", "0-1", "timeout"),
        ("Latreee ha ganado por abandono", "1-0", "resignation"),
        ("MolecularChemist ha ganado por jaque mate", "1-0", "checkmate"),
        ("Partida en tablas por mutuo acuerdo", "1/2-1/2", "agreement"),
        ("Victoria de mishanick por tiempo", "1-0", "timeout"),
        ("Victoria de mishanick por jaque mate", "0-1", "checkmate"),
        ("Victoria de GrandChessPlayer por abandono", "1-0", "resignation"),
        ("Victoria de luisalberto2626 por jaque mate", "1-0", "checkmate"),
        ("bmar ha ganado por desistimiento de su oponente", "1-0", "abandonment"),
    ],
    "fr": [
        ("Hamarkis a gagné par abandon", "1-0", "resignation"),
        ("MROUSSET a gagné par échec et mat", "0-1", "checkmate"),
        ("cirious a gagné par échec et mat", "1-0", "checkmate"),
    ],
    "pt": [("R0drigoGuedes venceu por xeque-mate", "1-0", "checkmate")],
    "de": [("Timkai gewinnt durch Schachmatt", "1-0", "checkmate")],
    # No real Chess.com wording was found for these: their games fall back to the final position
    # and otherwise to `unknown` (tested below), never to a guessed phrase.
    "it": [],
    "ru": [],
    "nl": [],
    "pl": [],
    "tr": [],
}


def category(result: str, text: str, names: tuple[str | None, str | None] = (None, None)) -> str:
    white, black = codes_from_pgn(result, text, names)
    return termination_of(white, black)


def test_the_table_covers_the_site_languages() -> None:
    assert set(REAL) == set(LANGUAGES)
    assert {"es", "pt", "fr", "de", "it", "ru", "nl", "pl", "tr"} <= set(LANGUAGES)
    assert LANGUAGES[0] == "en"  # English first: its readings must not move


@pytest.mark.parametrize("lang", LANGUAGES)
def test_each_language_reads_its_real_headers(lang: str) -> None:
    entry = next(e for e in TABLE["languages"] if e["lang"] == lang)
    if not REAL[lang]:
        # nothing sourced, nothing guessed: no phrases, and no claimed sources
        assert entry["phrases"] == []
        assert entry["sources"] == []
        return
    assert entry["sources"], f"{lang}: phrases without a named source"
    for text, result, expected in REAL[lang]:
        assert category(result, text) == expected, (lang, text)
    for phrase in entry["phrases"]:  # every example in the file reads as its own code
        if phrase["example"]:
            assert termination_reason(phrase["example"]) == phrase["code"], phrase


def test_abandono_is_resignation_and_desistimiento_abandonment() -> None:
    # the bug of issue 10: the English "abandon" read Spanish resignations as abandonment
    assert category("1-0", "x ha ganado por abandono") == "resignation"
    assert category("0-1", "x ha ganado por desistimiento de su oponente") == "abandonment"
    assert category("1-0", "x won - game abandoned") == "abandonment"


TRICKY_NAMES = st.sampled_from(
    ["PorTiempo", "abandono", "timeout99", "checkmate", "Victoria", "gagné", "stalemate", "x"]
) | st.from_regex(r"[A-Za-z0-9_-]{3,20}", fullmatch=True)


@given(winner=TRICKY_NAMES, loser=TRICKY_NAMES)
def test_a_username_never_decides_the_reason(winner: str, loser: str) -> None:
    assert category("1-0", f"{winner} ha ganado por tiempo", (winner, loser)) == "timeout"
    assert category("1-0", f"{winner} won by resignation", (winner, loser)) == "resignation"
    assert category("0-1", f"Victoria de {winner} por abandono", (loser, winner)) == "resignation"
    assert category("0-1", f"{winner} a gagné par abandon", (loser, winner)) == "resignation"
    assert category("1-0", f"{winner} ha ganado por jaque mate", (winner, loser)) == "checkmate"


UNREADABLE = st.text(alphabet=st.sampled_from("abcdefgh ijklmnoprstuvyz"), max_size=40).filter(
    lambda text: termination_reason(text) is None
)


def _one_game(pgn: str, owner: str = "bmar") -> pl.DataFrame:
    body = json.dumps({"games": [{"pgn": pgn}]}).encode()
    return parse_month(owner, "2023-04", body).games


def _with_termination(pgn: str, text: str | None) -> str:
    lines = [line for line in pgn.splitlines() if not line.startswith("[Termination ")]
    if text is not None:
        lines.insert(1, f'[Termination "{text}"]')
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def bmar_games(fixtures_dir: Path) -> list[str]:
    from transforms.pgn import split_pgn_games

    path = fixtures_dir / "bmar" / "pgn" / "website_download_2023-04-22_to_2025-03-20.pgn"
    return split_pgn_games(path.read_text(encoding="utf-8"))


def _first(games: list[str], ending: str) -> str:
    return next(g for g in games if ending in g.split("\n\n", 1)[0])


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=UNREADABLE)
def test_an_unreadable_text_is_unknown_unless_the_board_decides(
    bmar_games: list[str], text: str
) -> None:
    resigned = _first(bmar_games, "won by resignation")
    mated = _first(bmar_games, "won by checkmate")
    row = _one_game(_with_termination(resigned, text)).row(0, named=True)
    assert row["termination"] == UNKNOWN
    assert row["result"] in ("win", "loss")  # the Result header still says who won
    row = _one_game(_with_termination(mated, text)).row(0, named=True)
    assert row["termination"] == "checkmate"  # the final position is mate, in any language
    assert row["termination_conflict"] is None  # the text named nothing: no disagreement


def test_the_board_overrules_a_text_that_disagrees(bmar_games: list[str]) -> None:
    mated = _first(bmar_games, "won by checkmate")
    winner = mated.split('[Termination "', 1)[1].split(" ", 1)[0]
    games = _one_game(_with_termination(mated, f"{winner} won on time"))
    row = games.row(0, named=True)
    assert (row["termination"], row["termination_conflict"]) == ("checkmate", "timeout")
    issues = termination_issues(games)
    assert (issues.unreadable, issues.conflicts) == (0, 1)
    assert "overruled" in issues.lines()[0]


def test_a_drawn_game_with_a_silent_text_reads_the_timeout_clue(bmar_games: list[str]) -> None:
    # bmar's one "timeout vs insufficient material" game ends K+Q (to move) vs K+N
    game = _first(bmar_games, "timeout vs insufficient material")
    row = _one_game(_with_termination(game, "Partida en tablas")).row(0, named=True)
    assert (row["result"], row["termination"]) == ("draw", "timevsinsufficient")
    # a readable text is never replaced by the clue
    row = _one_game(_with_termination(game, "Game drawn by agreement")).row(0, named=True)
    assert row["termination"] == "agreement"


def test_unreadable_games_are_counted_and_named(bmar_games: list[str]) -> None:
    resigned = [g for g in bmar_games if "won by resignation" in g][:3]
    texts = ["(unreadable test wording)", "(unreadable test wording)", None]
    body = json.dumps(
        {"games": [{"pgn": _with_termination(g, t)} for g, t in zip(resigned, texts, strict=True)]}
    ).encode()
    games = parse_month("bmar", "2023-04", body).games
    issues = termination_issues(games)
    assert issues.unreadable == 3
    assert issues.texts == (("(unreadable test wording)", 2), ("(no Termination header)", 1))
    (line,) = issues.lines()
    assert line.startswith("3 games with an unreadable termination (counted as unknown): ")
    assert "'(unreadable test wording)' x2" in line
    # the import's text-only count agrees before any replay
    from transforms.pgn import parse_headers

    pairs = []
    for g, t in zip(resigned, texts, strict=True):
        headers, _ = parse_headers(_with_termination(g, t))
        pairs.append((headers.get("Termination"), headers["White"]))
    assert text_issues(pairs).texts == issues.texts


@pytest.mark.parametrize("player", fixture_players(FIXTURES) if FIXTURES.is_dir() else [])
def test_no_fixture_game_lands_in_other_or_unknown_unnamed(player: str, fixtures_dir: Path) -> None:
    games, _ = parse_player(fixtures_dir / player)
    if games.height == 0:
        return
    issues = termination_issues(games)
    unknown = games.filter(pl.col("termination") == UNKNOWN).height
    assert unknown == issues.unreadable  # every unknown game is named in the output
    # `other` (or no category) holds only readable variant/generic endings, none in fixtures
    assert (
        games.filter(pl.col("termination").is_null() | (pl.col("termination") == "other")).height
        == 0
    )

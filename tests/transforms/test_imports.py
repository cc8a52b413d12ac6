"""Hypothesis over the import logic: SAN extraction, end times, PGN splitting, month merges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.imports import (
    content_key,
    game_key,
    merge_month,
    pgn_end_time,
    san_moves,
    split_pgn,
)

SAN = st.sampled_from(
    ["e4", "e5", "Nf3", "Nc6", "Bb5", "a6", "O-O", "O-O-O", "exd5", "Qxf7#", "e8=Q+", "R1a3", "Kg1"]
)
# Things a movetext carries besides moves; none of them may come out as a move.
NOISE = st.sampled_from(
    [
        "{[%clk 0:02:58.6]}",
        "{[%clk\n0:01:43.9]}",  # the website export wraps inside a comment
        "{a comment with e4 in it}",
        "$1",
        "$14",
        "(1... d5 2. exd5)",
        "(2. d4 (2. c4 c5) exd4)",
        "; rest of the line e4 e5\n",
        "\n",
    ]
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(SAN, st.lists(NOISE, max_size=3), st.sampled_from(["", "!", "?!", "!!"])))
)
def test_san_moves_keeps_exactly_the_moves(plies: list[tuple[str, list[str], str]]) -> None:
    parts: list[str] = []
    for index, (move, noise, mark) in enumerate(plies):
        if index % 2 == 0:
            parts.append(f"{index // 2 + 1}.")
        elif index % 4 == 1:
            parts.append(f"{index // 2 + 1}...")  # a repeated move number after a comment
        parts.append(move + mark)
        parts.extend(noise)
    parts.append("1-0")
    assert san_moves(" ".join(parts)) == [move for move, _, _ in plies]


ZONES = {"UTC": 0.0, "PST": -8.0, "PDT": -7.0, "CEST": 2.0, "NDT": -2.5, "ACST": 9.5, "JST": 9.0}
MOMENTS = st.datetimes(
    min_value=datetime(2008, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
).map(lambda m: m.replace(microsecond=0))


@settings(max_examples=200, deadline=None)
@given(MOMENTS, st.sampled_from(sorted(ZONES)))
def test_website_end_time_in_any_known_zone_is_the_utc_moment(moment: datetime, zone: str) -> None:
    local = moment + timedelta(hours=ZONES[zone])
    headers = {"Date": f"{local:%Y.%m.%d}", "EndTime": f"{local:%H:%M:%S} {zone}"}
    assert pgn_end_time(headers) == int(moment.timestamp())


@settings(max_examples=100, deadline=None)
@given(MOMENTS, st.integers(-12 * 60, 14 * 60).map(lambda m: m - m % 15))
def test_numeric_zone_and_api_headers_agree(moment: datetime, minutes: int) -> None:
    local = moment + timedelta(minutes=minutes)
    sign = "+" if minutes >= 0 else "-"
    zone = f"GMT{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
    website = {"Date": f"{local:%Y.%m.%d}", "EndTime": f"{local:%H:%M:%S} {zone}"}
    api = {"EndDate": f"{moment:%Y.%m.%d}", "EndTime": f"{moment:%H:%M:%S}", "Date": "1999.01.01"}
    assert pgn_end_time(website) == pgn_end_time(api) == int(moment.timestamp())


def test_unknown_zone_says_so() -> None:
    with pytest.raises(ValueError, match="'IST'"):
        pgn_end_time({"Date": "2024.01.01", "EndTime": "10:00:00 IST"})


def _pgn(white: str, black: str, moves: list[str]) -> str:
    return (
        f'[Event "Live Chess"]\n[Site "Chess.com"]\n[White "{white}"]\n[Black "{black}"]\n'
        f'[Result "1-0"]\n\n1. {" ".join(moves)} 1-0\n'
    )


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(SAN, min_size=1, max_size=4), min_size=1, max_size=6))
def test_split_pgn_gives_back_each_game(games: list[list[str]]) -> None:
    texts = [_pgn("a", "b", moves) for moves in games]
    split = split_pgn("\n\n".join(texts) + "\n")
    assert [san_moves(t.split("\n\n", 1)[1]) for t in split] == games
    assert all(t.endswith("\n") and not t.endswith("\n\n") for t in split)


def test_split_pgn_refuses_text_before_the_first_game() -> None:
    with pytest.raises(ValueError, match="before the first"):
        split_pgn("hello\n" + _pgn("a", "b", ["e4"]))


# Games as an import sees them: some with a URL (the bots' /0 placeholder among them), some
# only with PGN and an end time, drawn from a small pool so that repeats happen.
GAMES = st.builds(
    lambda url, moves, end: {
        "url": url,
        "pgn": _pgn("p", "q", moves),
        "end_time": 1_700_000_000 + end,
    },
    st.sampled_from(
        [
            "",
            "https://www.chess.com/game/live/11",
            "https://www.chess.com/game/live/12",
            "https://www.chess.com/game/daily/0",
        ]
    ),
    st.lists(SAN, min_size=1, max_size=3),
    st.integers(0, 5),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(GAMES, max_size=8), st.lists(GAMES, max_size=8))
def test_merge_month_is_idempotent_and_counts_every_game(
    stored: list[dict[str, Any]], incoming: list[dict[str, Any]]
) -> None:
    first, added, present = merge_month(stored, incoming)
    assert added + present == len(incoming)
    if added:
        assert first is not None
    if first is not None:
        assert [g["end_time"] for g in first] == sorted(g["end_time"] for g in first)
        assert len(first) == len(stored) + added
    merged = stored if first is None else first
    again, added_again, present_again = merge_month(merged, incoming)
    assert again is None  # importing the same games again changes nothing
    assert (added_again, present_again) == (0, len(incoming))


def test_the_bots_placeholder_url_is_no_key() -> None:
    bot = {
        "url": "https://www.chess.com/game/daily/0",
        "pgn": _pgn("p", "q", ["e4"]),
        "end_time": 5,
    }
    real = dict(bot, url="https://www.chess.com/game/daily/7")
    assert game_key(bot) == content_key(bot)
    assert game_key(real) == "https://www.chess.com/game/daily/7"

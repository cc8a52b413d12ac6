"""The parse stage's decisions over fakes: what is re-parsed, kept, removed, reported."""

from __future__ import annotations

import json

from pipeline.parse import parse_player
from tests.pipeline.fakes import FakeLake, FakeRawStore

PGN = '[Event "Live Chess"]\n[White "p"]\n[Black "q"]\n[Result "1-0"]\n\n1. e4 e5 2. Qh5 Nc6 1-0\n'


def body(games: int, tag: str = "") -> bytes:
    return json.dumps(
        {
            "games": [
                {
                    "url": f"https://www.chess.com/game/live/{i + 1}{tag}",
                    "pgn": PGN,
                    "end_time": 1_700_000_000 + i,
                    "white": {"username": "p", "result": "win", "rating": 1500},
                    "black": {"username": "q", "result": "resigned", "rating": 1500},
                    "time_class": "blitz",
                    "rules": "chess",
                }
                for i in range(games)
            ]
        }
    ).encode()


def stocked() -> FakeRawStore:
    return FakeRawStore(bodies={("p", "2024-01"): body(2), ("p", "2024-02"): body(3)})


def test_parses_every_month_then_skips_them() -> None:
    store, lake = stocked(), FakeLake()
    report = parse_player(store, lake, "P", workers=1)
    assert report.months_parsed == ["2024-01", "2024-02"]
    assert (report.games, report.moves, report.parse_errors) == (5, 5 * 4, 0)
    lake.writes.clear()
    again = parse_player(store, lake, "p")
    assert again.months_parsed == []
    assert again.months_skipped == ["2024-01", "2024-02"]
    assert lake.writes == []
    assert again.games == 5  # counts cover the whole lake, skipped months included


def test_changed_bytes_are_parsed_again() -> None:
    store, lake = stocked(), FakeLake()
    parse_player(store, lake, "p")
    store.bodies[("p", "2024-02")] = body(4, tag="0")
    report = parse_player(store, lake, "p")
    assert report.months_parsed == ["2024-02"]
    assert report.games == 6


def test_a_month_gone_from_the_raw_store_leaves_the_lake() -> None:
    store, lake = stocked(), FakeLake()
    parse_player(store, lake, "p")
    del store.bodies[("p", "2024-01")]
    report = parse_player(store, lake, "p")
    assert report.months_removed == ["2024-01"]
    assert lake.months("p") == ["2024-02"]


def test_a_malformed_month_keeps_its_old_partition() -> None:
    store, lake = stocked(), FakeLake()
    parse_player(store, lake, "p")
    store.bodies[("p", "2024-02")] = b'{"games": ['
    report = parse_player(store, lake, "p")
    assert list(report.failed_months) == ["2024-02"]
    assert "2024-02" in report.failed_months["2024-02"]
    assert report.games == 5  # the old partition still counts


def test_an_unreadable_month_fails_alone() -> None:
    store, lake = stocked(), FakeLake()
    store.unreadable.add(("p", "2024-01"))
    report = parse_player(store, lake, "p")
    assert report.months_parsed == ["2024-02"]
    assert "permission denied" in report.failed_months["2024-01"]

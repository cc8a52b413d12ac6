"""The import stage over a fake raw store: checked before written, merged once, months sorted."""

from __future__ import annotations

import json

import pytest

from adapters.raw_store import MonthSource, MonthStatus
from pipeline.imports import import_games
from tests.pipeline.fakes import FakeRawStore
from transforms.imports import ImportFormatError

JAN = 1_704_067_200  # 2024-01-01T00:00:00Z


def game(n: int, end: int, white: str = "p") -> dict[str, object]:
    return {
        "url": f"https://www.chess.com/game/live/{n}",
        "end_time": end,
        "white": {"username": white},
        "black": {"username": "q"},
    }


def test_games_land_in_their_utc_month_once() -> None:
    store = FakeRawStore()
    files = [("a.json", [game(1, JAN + 10), game(2, JAN - 10)]), ("b.json", [game(1, JAN + 10)])]
    report = import_games(store, "P", files)
    assert report.months_written == ["2023-12", "2024-01"]
    assert (report.games_added, report.games_already_present, report.games_read) == (2, 1, 3)
    record = store.manifest("p")["2024-01"]
    assert record.source == MonthSource.IMPORT
    assert record.status is MonthStatus.IMPORTED
    again = import_games(store, "p", files)
    assert again.months_written == []
    assert again.games_added == 0


def test_a_file_without_the_player_writes_nothing() -> None:
    store = FakeRawStore()
    files = [("ok.json", [game(1, JAN)]), ("other.json", [game(2, JAN, white="x")])]
    with pytest.raises(ImportFormatError, match=r"other\.json: none of its 1 games has 'p'"):
        import_games(store, "p", files)
    assert store.bodies == {}


def test_merged_month_is_sorted_by_end_time() -> None:
    store = FakeRawStore()
    import_games(store, "p", [("a", [game(3, JAN + 300), game(1, JAN + 100)])])
    import_games(store, "p", [("b", [game(2, JAN + 200)])])
    games = json.loads(store.read_month("p", "2024-01"))["games"]
    assert [g["end_time"] for g in games] == [JAN + 100, JAN + 200, JAN + 300]

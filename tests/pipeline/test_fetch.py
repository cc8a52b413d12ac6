"""The fetch stage's decisions over fakes: what is asked, in what order, when asking stops."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from adapters.chesscom import BlockedError, ChessComUnavailableError, PlayerGoneError
from adapters.raw_store import MonthSource, MonthStatus
from pipeline.fetch import fetch_player
from tests.pipeline.fakes import FakeRawStore, FakeSource, FixedClock

NOW = datetime(2024, 6, 15, 12, 0, tzinfo=UTC)
MONTHS = ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06"]


def body(month: str, games: int = 1) -> bytes:
    return json.dumps({"games": [{"url": f"u/{month}/{i}"} for i in range(games)]}).encode()


def source(user: str = "p") -> FakeSource:
    return FakeSource(players={user: {m: body(m) for m in MONTHS}})


def test_first_fetch_stores_every_listed_month() -> None:
    src, store = source(), FakeRawStore()
    report = fetch_player(src, store, "P", now=NOW)
    assert report.fetched == MONTHS
    assert report.ok
    assert store.stored_months("p") == MONTHS
    assert all(store.manifest("p")[m].status is MonthStatus.OK for m in MONTHS)


def test_second_fetch_asks_only_recent_months_with_validators() -> None:
    src, store = source(), FakeRawStore()
    fetch_player(src, store, "p", now=NOW)
    src.calls.clear()
    report = fetch_player(src, store, "p", now=NOW + timedelta(days=1))
    # The current and the previous month; the rest were confirmed a day ago.
    assert src.asked() == ["2024-05", "2024-06"]
    assert all(c.etag is not None for c in src.calls if c.month)
    assert report.unchanged == ["2024-05", "2024-06"]
    assert report.skipped == MONTHS[:4]


def test_old_months_are_revalidated_after_the_horizon_or_with_full() -> None:
    src, store = source(), FakeRawStore()
    fetch_player(src, store, "p", now=NOW)
    src.calls.clear()
    fetch_player(src, store, "p", now=NOW + timedelta(days=10), revalidate_after_days=30)
    assert len(src.asked()) == 2
    src.calls.clear()
    fetch_player(src, store, "p", now=NOW + timedelta(days=10), full=True)
    assert src.asked() == MONTHS
    src.calls.clear()
    fetch_player(src, store, "p", now=NOW + timedelta(days=41), revalidate_after_days=30)
    assert src.asked() == MONTHS


def test_an_imported_month_is_asked_without_validators() -> None:
    src, store = source(), FakeRawStore()
    fetch_player(src, store, "p", now=NOW)
    store.write_month(
        "p", "2024-01", body("2024-01", 2), source=MonthSource.IMPORT, status=MonthStatus.IMPORTED
    )
    src.calls.clear()
    report = fetch_player(src, store, "p", now=NOW + timedelta(days=1))
    first = next(c for c in src.calls if c.month == "2024-01")
    assert first.etag is None
    assert "2024-01" in report.fetched  # Chess.com's bytes replace the import
    assert store.manifest("p")["2024-01"].source == MonthSource.API


def test_outage_stops_asking_and_leaves_later_months_untouched() -> None:
    src, store = source(), FakeRawStore()
    src.faults[("p", "2024-03")] = [ChessComUnavailableError("gave up", problem="HTTP 503")]
    report = fetch_player(src, store, "p", now=NOW)
    assert src.asked() == ["2024-01", "2024-02", "2024-03"]
    assert report.fetched == ["2024-01", "2024-02"]
    assert list(report.failed) == ["2024-03", "2024-04", "2024-05", "2024-06"]
    assert all(report.failed[m].startswith("not asked:") for m in MONTHS[3:])
    assert "HTTP 503" in report.failed["2024-04"]
    manifest = store.manifest("p")
    assert manifest["2024-03"].status is MonthStatus.ERROR
    assert all(m not in manifest for m in MONTHS[3:])


def test_a_month_that_failed_last_time_is_asked_last() -> None:
    src, store = source(), FakeRawStore()
    src.faults[("p", "2024-02")] = [ChessComUnavailableError("gave up", problem="HTTP 503")]
    fetch_player(src, store, "p", now=NOW)
    src.calls.clear()
    src.faults[("p", "2024-02")] = [ChessComUnavailableError("gave up", problem="HTTP 503")]
    report = fetch_player(src, store, "p", now=NOW + timedelta(hours=1))
    assert src.asked()[-1] == "2024-02"
    assert report.fetched == MONTHS[2:]  # no longer starved by 2024-02


def test_a_month_failing_for_its_own_reason_does_not_stop_the_others() -> None:
    src, store = source(), FakeRawStore()
    src.missing.add(("p", "2024-02"))
    report = fetch_player(src, store, "p", now=NOW)
    assert list(report.failed) == ["2024-02"]
    assert "404" in report.failed["2024-02"]
    assert report.fetched == [m for m in MONTHS if m != "2024-02"]
    assert store.manifest("p")["2024-02"].sha256 is None


def test_gone_player_is_remembered_and_not_asked_again_unless_full() -> None:
    src, store = source(), FakeRawStore()
    src.faults[("p", None)] = [PlayerGoneError("gone", username="p")]
    with pytest.raises(PlayerGoneError):
        fetch_player(src, store, "p", now=NOW)
    assert store.player_info("p").gone_at == "2024-06-15T12:00:00Z"
    src.calls.clear()
    with pytest.raises(PlayerGoneError, match="--full"):
        fetch_player(src, store, "p", now=NOW)
    assert src.calls == []
    report = fetch_player(src, store, "p", now=NOW, full=True)
    assert report.fetched == MONTHS
    assert store.player_info("p").gone_at is None


def test_a_410_on_a_month_marks_the_player_gone() -> None:
    src, store = source(), FakeRawStore()
    src.faults[("p", "2024-02")] = [PlayerGoneError("gone", username="p")]
    with pytest.raises(PlayerGoneError):
        fetch_player(src, store, "p", now=NOW)
    assert store.manifest("p")["2024-02"].status is MonthStatus.GONE
    assert store.player_info("p").gone_at is not None


def test_blocked_raises_and_records_why() -> None:
    src, store = source(), FakeRawStore()
    src.faults[("p", "2024-01")] = [BlockedError("blocked: set CHESSCOM_USER_AGENT")]
    with pytest.raises(BlockedError):
        fetch_player(src, store, "p", now=NOW)
    record = store.manifest("p")["2024-01"]
    assert record.status is MonthStatus.BLOCKED
    assert record.last_status == "blocked: blocked: set CHESSCOM_USER_AGENT"


def test_a_renamed_player_is_asked_under_the_new_name() -> None:
    src = FakeSource(players={"newname": {m: body(m) for m in MONTHS}}, renamed={"p": "newname"})
    store = FakeRawStore()
    report = fetch_player(src, store, "p", now=NOW)
    assert report.canonical_username == "newname"
    assert {c.username for c in src.calls if c.month} == {"newname"}
    assert store.player_info("p").canonical_username == "newname"
    assert store.stored_months("p") == MONTHS  # stored under the name asked for


def test_clock_seam_dates_the_records() -> None:
    clock = FixedClock(NOW)
    src, store = source(), FakeRawStore()
    fetch_player(src, store, "p", now=clock())
    clock.advance(days=2)
    fetch_player(src, store, "p", now=clock())
    record = store.manifest("p")["2024-06"]
    assert record.last_checked_at == "2024-06-17T12:00:00Z"
    assert store.manifest("p")["2024-01"].last_checked_at == "2024-06-15T12:00:00Z"

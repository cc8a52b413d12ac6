"""Refresh against the mirror over loopback HTTP: first fetch, revalidation, plan, concurrency."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.chesscom import ChessComClient, PlayerNotFoundError
from adapters.raw_store import PlayerLockedError, RawStore
from mirror import running_mirror
from tests.adapters.helpers import TEST_USER_AGENT as UA
from tests.adapters.helpers import fetch_player, make_settings

JSON_PLAYERS = ["shaunchess123", "fabianocaruana", "magnuscarlsen", "wizardchiken"]


def fixture_months(fixtures_dir: Path, user: str) -> dict[str, bytes]:
    """Month -> bytes, read straight from the fixture folder (independent of the store code)."""
    out = {}
    for path in sorted((fixtures_dir / user).glob("[0-9]*/*.json")):
        out[f"{path.parent.name}-{path.stem}"] = path.read_bytes()
    return out


def listed_months(fixtures_dir: Path, user: str) -> list[str]:
    urls = json.loads((fixtures_dir / user / "archives.json").read_bytes())["archives"]
    return [f"{u.split('/')[-2]}-{u.split('/')[-1]}" for u in urls]


@pytest.mark.parametrize("user", JSON_PLAYERS)
def test_first_refresh_stores_byte_identical_files_and_second_only_revalidates(
    fixtures_dir: Path, tmp_path: Path, user: str
) -> None:
    expected = fixture_months(fixtures_dir, user)
    with running_mirror(fixtures_dir) as mirror:
        settings = make_settings(tmp_path, mirror.base_url)
        first = fetch_player(settings, user)
        store = RawStore(settings.raw_dir)
        assert store.stored_months(user) == sorted(expected)
        for month, data in expected.items():
            assert store.month_path(user, month).read_bytes() == data
        assert sorted(first.fetched) == sorted(expected)
        assert first.failed == {}
        assert first.months_listed == len(listed_months(fixtures_dir, user))
        manifest = store.manifest(user)
        for month, data in expected.items():
            assert manifest[month].bytes == len(data)
            assert manifest[month].game_count == len(json.loads(data)["games"])
            assert str(manifest[month].etag).startswith('W/"')
            assert manifest[month].last_modified
        mtimes = {m: store.month_path(user, m).stat().st_mtime_ns for m in expected}
        assert all(not r.conditional for r in mirror.log())

        mirror.clear_log()
        second = fetch_player(settings, user, full=True)
        months_requests = [r for r in mirror.log() if not r.path.endswith("/archives")]
        assert len(months_requests) == len(expected)
        assert all(r.conditional and r.status == 304 for r in months_requests)
        assert sorted(second.unchanged) == sorted(expected)
        assert second.fetched == []
        assert {m: store.month_path(user, m).stat().st_mtime_ns for m in expected} == mtimes
        after = store.manifest(user)
        for month in expected:
            assert after[month].sha256 == manifest[month].sha256
            assert after[month].fetched_at == manifest[month].fetched_at
            assert after[month].last_status == "304"


def test_second_refresh_asks_only_current_previous_and_stale_months(
    fixtures_dir: Path, tmp_path: Path
) -> None:
    user = "shaunchess123"
    months = listed_months(fixtures_dir, user)  # ... 2026-06, 2026-07
    with running_mirror(fixtures_dir) as mirror:
        settings = make_settings(tmp_path, mirror.base_url, revalidate_after_days=30)
        start = datetime(2026, 7, 20, tzinfo=UTC)
        fetch_player(settings, user, now=start)
        mirror.clear_log()
        # Ten days later: only the current (2026-07) and previous (2026-06) month are due.
        report = fetch_player(settings, user, now=start + timedelta(days=10))
        asked = [r.path.rsplit("/", 2) for r in mirror.log() if "/archives" not in r.path]
        assert sorted(f"{y}-{m}" for _, y, m in asked) == ["2026-06", "2026-07"]
        assert all(r.conditional for r in mirror.log() if "/archives" not in r.path)
        assert sorted(report.unchanged) == ["2026-06", "2026-07"]
        assert len(report.skipped) == len(months) - 2
        # Forty days after the first refresh every stored month is older than the age.
        mirror.clear_log()
        report = fetch_player(settings, user, now=start + timedelta(days=40))
        month_requests = [r for r in mirror.log() if "/archives" not in r.path]
        assert len(month_requests) == len(months)
        assert all(r.conditional and r.status == 304 for r in month_requests)
        assert report.skipped == []


def test_unknown_player_raises_player_not_found(fixtures_dir: Path, tmp_path: Path) -> None:
    with running_mirror(fixtures_dir) as mirror:
        settings = make_settings(tmp_path, mirror.base_url)
        with pytest.raises(PlayerNotFoundError) as caught:
            fetch_player(settings, "NoSuchPlayerHere")
    message = str(caught.value)
    assert "nosuchplayerhere" in message
    assert "\n" not in message
    assert not (settings.raw_dir / "nosuchplayerhere" / "manifest.json").exists()


def test_listed_month_missing_on_the_server_fails_that_month_only(
    fixtures_dir: Path, tmp_path: Path
) -> None:
    # afgano29's real archives list names 68 months, none of which the fixtures hold.
    with running_mirror(fixtures_dir) as mirror:
        settings = make_settings(tmp_path, mirror.base_url)
        report = fetch_player(settings, "afgano29")
    assert report.months_listed == len(listed_months(fixtures_dir, "afgano29"))
    assert sorted(report.failed) == listed_months(fixtures_dir, "afgano29")
    assert "404" in report.failed["2016-08"]
    assert report.fetched == []
    # Months never stored still get the status of their last attempt, and no file.
    store = RawStore(settings.raw_dir)
    assert store.stored_months("afgano29") == []
    manifest = store.manifest("afgano29")
    assert sorted(manifest) == listed_months(fixtures_dir, "afgano29")
    assert all("404" in r.last_status and r.sha256 is None for r in manifest.values())


def test_four_players_concurrently_never_more_than_one_request_in_flight(
    fixtures_dir: Path, tmp_path: Path
) -> None:
    with running_mirror(fixtures_dir) as mirror:
        settings = make_settings(tmp_path, mirror.base_url)
        errors: list[BaseException] = []

        def run(user: str) -> None:
            try:
                with ChessComClient(settings) as client:
                    fetch_player(settings, user, client=client)
            except BaseException as error:  # surfaced below
                errors.append(error)

        threads = [threading.Thread(target=run, args=(u,)) for u in JSON_PLAYERS]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert mirror.max_in_flight == 1
        assert max(r.in_flight for r in mirror.log()) == 1
        total = sum(len(fixture_months(fixtures_dir, u)) + 1 for u in JSON_PLAYERS)
        assert len(mirror.log()) == total
        assert {r.user_agent for r in mirror.log()} == {UA}
    store = RawStore(settings.raw_dir)
    for user in JSON_PLAYERS:
        for month, data in fixture_months(fixtures_dir, user).items():
            assert store.read_month(user, month) == data


def test_two_refreshes_of_one_player_do_not_interleave(fixtures_dir: Path, tmp_path: Path) -> None:
    user = "shaunchess123"
    months = len(fixture_months(fixtures_dir, user))
    with running_mirror(fixtures_dir) as mirror:
        settings = make_settings(tmp_path, mirror.base_url)
        reports = []
        threads = [
            threading.Thread(target=lambda: reports.append(fetch_player(settings, user)))
            for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        paths = [r.path for r in mirror.log()]
    # The first refresh runs whole (archives + every month), then the second (archives only:
    # everything is stored and freshly checked).
    archives = [i for i, p in enumerate(paths) if p.endswith("/archives")]
    assert archives == [0, months + 1]
    assert len(paths) == months + 2
    assert sorted(len(r.fetched) for r in reports) == [0, months]


def test_a_held_lock_makes_the_refresh_refuse_with_a_clear_message(
    fixtures_dir: Path, tmp_path: Path
) -> None:
    with running_mirror(fixtures_dir) as mirror:
        settings = make_settings(tmp_path, mirror.base_url)
        store = RawStore(settings.raw_dir)
        holding, release = threading.Event(), threading.Event()

        def hold() -> None:
            with store.lock("wizardchiken"):
                holding.set()
                release.wait(30)

        holder = threading.Thread(target=hold)
        holder.start()
        try:
            holding.wait(30)
            with pytest.raises(PlayerLockedError) as caught:
                fetch_player(settings, "wizardchiken", lock_timeout=0.2)
        finally:
            release.set()
            holder.join()
        assert mirror.log() == []
    assert "wizardchiken" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_file_newer_than_its_manifest_entry_is_refetched_without_validators(
    fixtures_dir: Path, tmp_path: Path
) -> None:
    # A crash after the month file was renamed into place but before the manifest was written
    # leaves validators that describe the old bytes: they must not be sent.
    user = "magnuscarlsen"
    with running_mirror(fixtures_dir) as mirror:
        settings = make_settings(tmp_path, mirror.base_url)
        fetch_player(settings, user)
        store = RawStore(settings.raw_dir)
        store.month_path(user, "2024-02").write_bytes(b'{"games":[]}')
        mirror.clear_log()
        report = fetch_player(settings, user, full=True)
        by_path = {
            r.path.rsplit("/", 2)[-2] + "-" + r.path.rsplit("/", 1)[-1]: r for r in mirror.log()
        }
    assert by_path["2024-02"].conditional is False
    assert by_path["2024-01"].conditional is True
    assert report.fetched == ["2024-02"]
    assert (
        store.read_month(user, "2024-02") == (fixtures_dir / user / "2024" / "02.json").read_bytes()
    )


def test_a_caller_holding_the_lock_can_refresh_in_the_same_thread(
    fixtures_dir: Path, tmp_path: Path
) -> None:
    # flows hold the player's lock around fetch + parse + publish; fetch_player takes it again.
    with running_mirror(fixtures_dir) as mirror:
        settings = make_settings(tmp_path, mirror.base_url)
        store = RawStore(settings.raw_dir)
        with store.lock("wizardchiken"):
            report = fetch_player(settings, "wizardchiken", lock_timeout=0)
            # Still held after fetch_player returned: another thread is refused.
            refused: list[BaseException] = []

            def other() -> None:
                try:
                    with store.lock("wizardchiken", timeout=0.1):
                        pass
                except PlayerLockedError as error:
                    refused.append(error)

            thread = threading.Thread(target=other)
            thread.start()
            thread.join()
            assert len(refused) == 1
    assert report.fetched == ["2023-01"]
    assert (
        store.read_month("wizardchiken", "2023-01")
        == (fixtures_dir / "wizardchiken" / "2023" / "01.json").read_bytes()
    )

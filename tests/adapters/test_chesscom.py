"""The Chess.com client against the mirror over loopback: statuses, faults, retries, politeness."""

from __future__ import annotations

import itertools
import json
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

import adapters.chesscom as chesscom
from adapters.chesscom import (
    BadResponseError,
    BlockedError,
    ChessComClient,
    ChessComError,
    ChessComUnavailableError,
    MonthResponse,
    PlayerGoneError,
    PlayerNotFoundError,
    parse_http_date,
)
from adapters.raw_store import RawStore
from mirror import Fault, MirrorServer, running_mirror
from pipeline.fetch import FetchReport
from settings import Settings
from tests.adapters.helpers import TEST_USER_AGENT as UA
from tests.adapters.helpers import fetch_player, make_settings

USER = "shaunchess123"
TARGET = "2024-10"  # 13 games
TARGET_PATH = "/player/shaunchess123/games/2024/10"


def fast_client(settings: Settings) -> ChessComClient:
    # Tiny backoff steps so retry tests take tenths of a second, not minutes.
    return ChessComClient(settings, backoff_base_seconds=0.02, backoff_cap_seconds=0.1)


def refresh(settings: Settings, user: str = USER, *, full: bool = False) -> FetchReport:
    with fast_client(settings) as client:
        return fetch_player(settings, user, full=full, client=client)


def fixture_months(fixtures_dir: Path, user: str = USER) -> dict[str, bytes]:
    return {
        f"{p.parent.name}-{p.stem}": p.read_bytes()
        for p in sorted((fixtures_dir / user).glob("[0-9]*/*.json"))
    }


def stored(settings: Settings, user: str = USER) -> dict[str, bytes]:
    store = RawStore(settings.raw_dir)
    return {m: store.read_month(user, m) for m in store.stored_months(user)}


def hits(mirror: MirrorServer, path: str) -> list[int]:
    return [r.status for r in mirror.log() if r.path == "/pub" + path]


@pytest.fixture
def mirror(fixtures_dir: Path) -> Iterator[MirrorServer]:
    with running_mirror(fixtures_dir) as server:
        yield server


# -- faults the refresh recovers from: same bytes as a clean run -----------------------------
RECOVERABLE: dict[str, Callable[[], list[Fault]]] = {
    "429 with Retry-After": lambda: [Fault.http(429, retry_after="1")],
    "429 without Retry-After": lambda: [Fault.http(429, times=2)],
    "500 twice": lambda: [Fault.http(500, times=2)],
    "502 twice": lambda: [Fault.http(502, times=2)],
    "503 twice": lambda: [Fault.http(503, times=2)],
    "slow response beyond the read timeout": lambda: [Fault.slow(2.0)],
    "truncated JSON body": lambda: [Fault.truncated(times=2)],
    "body shorter than Content-Length": lambda: [Fault.short_body()],
    "dropped connection twice": lambda: [Fault.dropped(times=2)],
    "gzip body that is not gzip": lambda: [Fault.bad_gzip()],
    "mixed bag": lambda: [Fault.dropped(), Fault.http(503), Fault.truncated(), Fault.http(429)],
}


@pytest.mark.parametrize("name", sorted(RECOVERABLE))
def test_recoverable_fault_gives_the_same_bytes_as_a_clean_run(
    fixtures_dir: Path, mirror: MirrorServer, tmp_path: Path, name: str
) -> None:
    faults = RECOVERABLE[name]()
    expected_faults = sum((f.times or 0) for f in faults)
    mirror.set_faults({TARGET_PATH: faults})
    settings = make_settings(tmp_path, mirror.base_url, chesscom_timeout_seconds=0.5)
    report = refresh(settings)
    assert report.failed == {}
    assert stored(settings) == fixture_months(fixtures_dir)
    assert mirror.wait_idle()
    attempts = [r for r in mirror.log() if r.path == "/pub" + TARGET_PATH]
    # Every injected fault was met, then exactly one clean answer.
    assert sum(1 for a in attempts if a.fault) == expected_faults
    assert [a.status for a in attempts if a.fault is None] == [200]


class FakeClock:
    """The client's retry clock: sleeping moves time on at once and is written down."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def clocked_client(settings: Settings, clock: FakeClock) -> ChessComClient:
    return ChessComClient(settings, sleep=clock.sleep, monotonic=clock.monotonic)


def test_retry_after_is_honoured_before_the_next_attempt(
    mirror: MirrorServer, tmp_path: Path
) -> None:
    mirror.set_faults({TARGET_PATH: [Fault.http(429, retry_after="7")]})
    clock = FakeClock()
    settings = make_settings(tmp_path, mirror.base_url, chesscom_retry_budget_seconds=60)
    with clocked_client(settings, clock) as client:
        response = client.month(USER, TARGET)
    assert response.status == 200
    assert hits(mirror, TARGET_PATH) == [429, 200]
    # The server asked for seven seconds; the default backoff's first step is 0.5-1 s.
    assert len(clock.slept) == 1
    assert clock.slept[0] >= 7.0


def test_retry_after_beyond_the_budget_gives_up_without_waiting(
    mirror: MirrorServer, tmp_path: Path
) -> None:
    mirror.set_faults({TARGET_PATH: [Fault.http(429, retry_after="3600", times=None)]})
    clock = FakeClock()
    settings = make_settings(tmp_path, mirror.base_url, chesscom_retry_budget_seconds=600)
    with clocked_client(settings, clock) as client, pytest.raises(ChessComUnavailableError):
        client.month(USER, TARGET)
    assert clock.slept == []
    assert hits(mirror, TARGET_PATH) == [429]


def test_503_forever_spends_the_budget_and_no_more(mirror: MirrorServer, tmp_path: Path) -> None:
    mirror.set_faults({TARGET_PATH: [Fault.http(503, times=None)]})
    clock = FakeClock()
    settings = make_settings(tmp_path, mirror.base_url, chesscom_retry_budget_seconds=120)
    with clocked_client(settings, clock) as client, pytest.raises(ChessComUnavailableError) as err:
        client.month(USER, TARGET)
    assert err.value.problem == "HTTP 503"
    # Backoff steps 1, 2, 4, 8, 16, 32, 60 s with equal jitter (half of each step at least):
    # the first five sleeps total at most 31 s, so a 120 s budget allows six attempts or more.
    assert len(hits(mirror, TARGET_PATH)) >= 6
    assert sum(clock.slept) <= 120
    assert all(a <= b * 2 for a, b in itertools.pairwise(clock.slept))


# -- faults that fail one month: clear message, stored months intact -------------------------
# The third item: whether the fault says Chess.com stopped answering, so the months after the
# failing one are not asked (a body that stays truncated is that month's own problem).
PERMANENT = {
    "503 forever": (Fault.http(503, times=None), "HTTP 503", True),
    "429 forever": (Fault.http(429, times=None), "HTTP 429", True),
    "Retry-After beyond the budget": (
        Fault.http(429, retry_after="3600", times=None),
        "Retry-After 3600",
        True,
    ),
    "truncated forever": (Fault.truncated(times=None), "not complete JSON", False),
    "dropped forever": (Fault.dropped(times=None), "RemoteProtocolError", True),
    "slow forever": (Fault.slow(0.6, times=None), "Timeout", True),
}


def month_path(month: str, user: str = USER) -> str:
    year, mm = month.split("-")
    return f"/player/{user}/games/{year}/{mm}"


def asked_months(mirror: MirrorServer, user: str = USER) -> list[str]:
    """Months requested, in request order (one entry per attempt), read from the mirror's log."""
    prefix = f"/pub/player/{user}/games/"
    out = []
    for record in mirror.log():
        if record.path.startswith(prefix) and not record.path.endswith("/archives"):
            year, mm = record.path.removeprefix(prefix).split("/")
            out.append(f"{year}-{mm}")
    return out


@pytest.mark.parametrize("name", sorted(PERMANENT))
def test_permanent_fault_fails_that_month_and_keeps_every_stored_month(
    fixtures_dir: Path, mirror: MirrorServer, tmp_path: Path, name: str
) -> None:
    fault, expected_words, service_down = PERMANENT[name]
    settings = make_settings(
        tmp_path, mirror.base_url, chesscom_retry_budget_seconds=1.0, chesscom_timeout_seconds=0.4
    )
    refresh(settings)  # a clean run stores everything
    store = RawStore(settings.raw_dir)
    before_manifest = store.manifest(USER)
    before_mtimes = {m: store.month_path(USER, m).stat().st_mtime_ns for m in before_manifest}
    mirror.set_faults({TARGET_PATH: [fault]})
    mirror.clear_log()
    report = refresh(settings, full=True)
    later = [m for m in sorted(before_manifest) if m > TARGET]
    assert later  # the target sits in the middle, so the stop rule is exercised
    assert list(report.failed) == [TARGET] + (later if service_down else [])
    assert mirror.wait_idle()
    assert not set(asked_months(mirror)) & set(later if service_down else [])
    message = report.failed[TARGET]
    assert expected_words in message
    assert USER in message
    assert TARGET in message
    assert "\n" not in message
    assert stored(settings) == fixture_months(fixtures_dir)
    assert {m: store.month_path(USER, m).stat().st_mtime_ns for m in before_manifest} == (
        before_mtimes
    )
    after = store.manifest(USER)
    assert after[TARGET].sha256 == before_manifest[TARGET].sha256
    assert after[TARGET].last_status.startswith("error:")
    if service_down:
        # The months after it were not asked, and nothing about them changed.
        assert all(report.failed[m].startswith("not asked: ") for m in later)
        assert all(after[m] == before_manifest[m] for m in later)
        assert sorted(report.unchanged) == [m for m in sorted(before_manifest) if m < TARGET]
    else:
        # Every other month was revalidated normally despite the failing one.
        assert len(report.unchanged) == len(before_manifest) - 1
    # The failed month is asked again next time even without --full.
    mirror.set_faults({})
    mirror.clear_log()
    again = refresh(settings)
    assert TARGET in again.unchanged
    assert store.manifest(USER)[TARGET].last_status == "304"


def test_chesscom_going_away_mid_refresh_burns_one_budget_and_asks_no_later_month(
    fixtures_dir: Path, mirror: MirrorServer, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, mirror.base_url, chesscom_retry_budget_seconds=0.5)
    refresh(settings)  # a clean run stores all 36 months
    store = RawStore(settings.raw_dir)
    months = sorted(fixture_months(fixtures_dir))
    before_manifest = store.manifest(USER)
    assert sorted(before_manifest) == months
    before_mtimes = {m: store.month_path(USER, m).stat().st_mtime_ns for m in months}
    # From TARGET on, every month answers 503 forever: Chess.com went away mid-refresh.
    down = [m for m in months if m >= TARGET]
    up = [m for m in months if m < TARGET]
    assert len(down) > 10
    assert up
    mirror.set_faults({month_path(m): [Fault.http(503, times=None)] for m in down})
    mirror.clear_log()
    report = refresh(settings, full=True)
    assert mirror.wait_idle()
    asked = asked_months(mirror)
    # The months before were revalidated; TARGET alone burned its budget (more than one
    # attempt, all 503); no month after it got a single request.
    assert [m for m in asked if m != TARGET] == up
    target_attempts = hits(mirror, TARGET_PATH)
    assert len(target_attempts) > 1
    assert set(target_attempts) == {503}
    assert sorted(report.unchanged) == up
    assert report.fetched == []
    assert list(report.failed) == down
    assert "HTTP 503" in report.failed[TARGET]
    for month in down[1:]:
        line = report.failed[month]
        assert line.startswith("not asked: Chess.com stopped answering during this refresh (")
        assert f"month {TARGET} gave up: HTTP 503" in line
        assert line.endswith("; run the refresh again later")
        assert "\n" not in line
    # Stored files and manifest records intact; only TARGET's attempt was recorded.
    assert stored(settings) == fixture_months(fixtures_dir)
    assert {m: store.month_path(USER, m).stat().st_mtime_ns for m in months} == before_mtimes
    after = store.manifest(USER)
    assert after[TARGET].last_status.startswith("error:")
    assert after[TARGET].sha256 == before_manifest[TARGET].sha256
    assert {m: after[m] for m in down[1:]} == {m: before_manifest[m] for m in down[1:]}
    # Chess.com back: the next refresh asks every month again, nothing lost.
    mirror.set_faults({})
    again = refresh(settings, full=True)
    assert again.failed == {}
    assert sorted(again.unchanged) == months


def test_connections_refused_mid_refresh_stop_the_refresh_too(
    fixtures_dir: Path, mirror: MirrorServer, tmp_path: Path
) -> None:
    with socket.socket() as probe:  # a port with nothing listening
        probe.bind(("127.0.0.1", 0))
        dead_url = f"http://127.0.0.1:{probe.getsockname()[1]}/pub"
    settings = make_settings(tmp_path, mirror.base_url, chesscom_retry_budget_seconds=600)
    refresh(settings)
    months = sorted(fixture_months(fixtures_dir))
    before_manifest = RawStore(settings.raw_dir).manifest(USER)

    class GoesAwayAtTarget(ChessComClient):
        # From TARGET on, the host refuses connections (the network went away mid-refresh).
        def month(self, username: str, month: str, **validators: str | None) -> MonthResponse:
            if month >= TARGET:
                self.base_url = dead_url
            return super().month(username, month, **validators)

    mirror.clear_log()
    with GoesAwayAtTarget(settings) as client:
        report = fetch_player(settings, USER, full=True, client=client)
    assert mirror.wait_idle()
    assert asked_months(mirror) == [m for m in months if m < TARGET]
    down = [m for m in months if m >= TARGET]
    assert list(report.failed) == down
    assert "unreachable" in report.failed[TARGET]
    for month in down[1:]:
        assert report.failed[month].startswith("not asked: Chess.com stopped answering")
        assert f"month {TARGET} gave up: cannot connect" in report.failed[month]
    assert stored(settings) == fixture_months(fixtures_dir)
    after = RawStore(settings.raw_dir).manifest(USER)
    assert {m: after[m] for m in down[1:]} == {m: before_manifest[m] for m in down[1:]}


def test_a_single_month_503_forever_stops_this_refresh_but_not_the_next(
    fixtures_dir: Path, mirror: MirrorServer, tmp_path: Path
) -> None:
    # The rule chosen: one month exhausting its budget on 503 cannot be told from an outage
    # without spending more budget, so it stops this refresh too. So that such a month cannot
    # starve the later ones forever, the next refresh asks months that failed last time last.
    settings = make_settings(tmp_path, mirror.base_url, chesscom_retry_budget_seconds=0.5)
    refresh(settings)
    months = sorted(fixture_months(fixtures_dir))
    before = [m for m in months if m < TARGET]
    after = [m for m in months if m > TARGET]
    mirror.set_faults({TARGET_PATH: [Fault.http(503, times=None)]})
    mirror.clear_log()
    first = refresh(settings, full=True)
    assert mirror.wait_idle()
    assert sorted(set(asked_months(mirror))) == [*before, TARGET]
    assert list(first.failed) == [TARGET, *after]
    assert all(first.failed[m].startswith("not asked: ") for m in after)
    # Same fault still there: every other month is asked first and revalidated; TARGET last.
    mirror.clear_log()
    second = refresh(settings, full=True)
    assert mirror.wait_idle()
    asked = asked_months(mirror)
    first_target = asked.index(TARGET)
    assert sorted(asked[:first_target]) == before + after
    assert set(asked[first_target:]) == {TARGET}
    assert list(second.failed) == [TARGET]
    assert sorted(second.unchanged) == before + after
    assert stored(settings) == fixture_months(fixtures_dir)


def test_a_month_missing_on_the_server_does_not_stop_the_others(
    fixtures_dir: Path, mirror: MirrorServer, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, mirror.base_url, chesscom_retry_budget_seconds=0.5)
    mirror.set_faults({TARGET_PATH: [Fault.http(404, times=None)]})
    report = refresh(settings)
    assert list(report.failed) == [TARGET]
    assert "404" in report.failed[TARGET]
    expected = fixture_months(fixtures_dir)
    del expected[TARGET]
    assert sorted(report.fetched) == sorted(expected)
    assert stored(settings) == expected


def test_permanent_fault_on_a_new_month_leaves_no_file(
    mirror: MirrorServer, tmp_path: Path
) -> None:
    mirror.set_faults({TARGET_PATH: [Fault.truncated(times=None)]})
    settings = make_settings(tmp_path, mirror.base_url, chesscom_retry_budget_seconds=0.5)
    report = refresh(settings)
    assert list(report.failed) == [TARGET]
    assert "kept" in report.failed[TARGET]
    store = RawStore(settings.raw_dir)
    assert not store.month_path(USER, TARGET).exists()
    assert TARGET not in store.stored_months(USER)
    # The manifest records the failed attempt, with nothing describing a file.
    record = store.manifest(USER)[TARGET]
    assert record.last_status.startswith("error:")
    assert "not complete JSON" in record.last_status
    assert (record.sha256, record.bytes, record.game_count, record.fetched_at) == (None,) * 4
    assert record.last_attempt_at is not None
    # The next refresh asks again (without validators) and stores it.
    mirror.set_faults({})
    mirror.clear_log()
    assert TARGET in refresh(settings).fetched
    assert [r.conditional for r in mirror.log() if r.path == "/pub" + TARGET_PATH] == [False]
    assert store.manifest(USER)[TARGET].last_status == "200"


# -- player-level answers ------------------------------------------------------------------
@pytest.mark.parametrize("status", [403, 200])
def test_html_or_403_is_blocked_without_retry(
    mirror: MirrorServer, tmp_path: Path, status: int
) -> None:
    mirror.set_faults({TARGET_PATH: [Fault.blocked_html(status=status, times=None)]})
    settings = make_settings(tmp_path, mirror.base_url, chesscom_retry_budget_seconds=30)
    with pytest.raises(BlockedError) as caught:
        refresh(settings)
    assert hits(mirror, TARGET_PATH) == [status]  # exactly one request: no retry
    message = str(caught.value)
    assert "CHESSCOM_USER_AGENT" in message
    assert USER in message
    assert "\n" not in message


FILE_FIELDS = ("etag", "last_modified", "sha256", "bytes", "game_count", "fetched_at", "source")


@pytest.mark.parametrize("status", [403, 200])
def test_blocked_refresh_keeps_every_stored_month_and_its_manifest(
    fixtures_dir: Path, mirror: MirrorServer, tmp_path: Path, status: int
) -> None:
    settings = make_settings(tmp_path, mirror.base_url, chesscom_retry_budget_seconds=30)
    refresh(settings)  # a clean run stores everything
    store = RawStore(settings.raw_dir)
    before = store.manifest(USER)
    assert TARGET in before
    mirror.set_faults({TARGET_PATH: [Fault.blocked_html(status=status, times=None)]})
    with pytest.raises(BlockedError):
        refresh(settings, full=True)
    assert stored(settings) == fixture_months(fixtures_dir)
    after = store.manifest(USER)
    assert sorted(after) == sorted(before)
    for month, record in before.items():
        kept = {name: getattr(after[month], name) for name in FILE_FIELDS}
        assert kept == {name: getattr(record, name) for name in FILE_FIELDS}, month
        if month < TARGET:  # revalidated before the block
            assert after[month].last_status == "304", month
        elif month > TARGET:  # never asked: the refresh stopped at the block
            assert after[month] == record, month
    # The blocked month's last attempt is recorded as such.
    assert after[TARGET].last_status.startswith("blocked:")
    assert "CHESSCOM_USER_AGENT" in after[TARGET].last_status


def test_blocked_archives_request_is_not_retried(mirror: MirrorServer, tmp_path: Path) -> None:
    path = f"/player/{USER}/games/archives"
    mirror.set_faults({path: [Fault.blocked_html(times=None)]})
    settings = make_settings(tmp_path, mirror.base_url)
    with pytest.raises(BlockedError):
        refresh(settings)
    assert len(mirror.log()) == 1


def test_unknown_player_is_not_found_and_others_go_on(mirror: MirrorServer, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, mirror.base_url)
    with pytest.raises(PlayerNotFoundError, match="'ghost-player'"):
        refresh(settings, "ghost-player")
    assert refresh(settings, "wizardchiken").fetched == ["2023-01"]


def test_gone_player_is_not_asked_again(mirror: MirrorServer, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, mirror.base_url)
    refresh(settings, "wizardchiken")
    mirror.gone.add("wizardchiken")
    with pytest.raises(PlayerGoneError, match="410"):
        refresh(settings, "wizardchiken")
    mirror.clear_log()
    with pytest.raises(PlayerGoneError, match="not asking"):
        refresh(settings, "wizardchiken")
    assert mirror.log() == []  # stop asking
    assert stored(settings, "wizardchiken")  # stored archives are kept
    mirror.gone.clear()
    assert refresh(settings, "wizardchiken", full=True).unchanged == ["2023-01"]
    assert RawStore(settings.raw_dir).player_info("wizardchiken").gone_at is None


def test_gone_on_a_month_request_also_stops_asking(
    fixtures_dir: Path, mirror: MirrorServer, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, mirror.base_url)
    refresh(settings)
    mirror.set_faults({TARGET_PATH: [Fault.http(410, times=None)]})
    with pytest.raises(PlayerGoneError, match="410"):
        refresh(settings, full=True)
    store = RawStore(settings.raw_dir)
    assert store.player_info(USER).gone_at is not None
    assert store.manifest(USER)[TARGET].last_status == "410"
    mirror.clear_log()
    with pytest.raises(PlayerGoneError, match="not asking"):
        refresh(settings)
    assert mirror.log() == []
    assert stored(settings) == fixture_months(fixtures_dir)


def test_redirect_is_followed_once_and_the_canonical_name_remembered(
    fixtures_dir: Path, mirror: MirrorServer, tmp_path: Path
) -> None:
    mirror.aliases["oldcaruana"] = "fabianocaruana"
    settings = make_settings(tmp_path, mirror.base_url)
    report = refresh(settings, "OldCaruana")
    assert report.canonical_username == "fabianocaruana"
    assert stored(settings, "oldcaruana") == fixture_months(fixtures_dir, "fabianocaruana")
    assert [r.status for r in mirror.log()][:2] == [301, 200]
    mirror.clear_log()
    refresh(settings, "oldcaruana", full=True)
    # The next refresh goes straight to the canonical name.
    assert all("/player/fabianocaruana/" in r.path for r in mirror.log())
    assert RawStore(settings.raw_dir).player_info("oldcaruana").canonical_username == (
        "fabianocaruana"
    )


def test_redirect_loop_is_an_error(mirror: MirrorServer, tmp_path: Path) -> None:
    mirror.aliases["a-loop"] = "b-loop"
    mirror.aliases["b-loop"] = "a-loop"
    settings = make_settings(tmp_path, mirror.base_url)
    with pytest.raises(ChessComError, match="more than once"):
        refresh(settings, "a-loop")


@pytest.mark.parametrize(
    "location", ["/pub/elsewhere", "/pub/player/not%20a%20name/games/archives"]
)
def test_redirect_to_a_non_player_url_blames_chesscom_not_the_user(
    mirror: MirrorServer, tmp_path: Path, location: str
) -> None:
    path = f"/player/{USER}/games/archives"
    mirror.set_faults({path: [Fault("redirect", location=location, times=None)]})
    settings = make_settings(tmp_path, mirror.base_url)
    with pytest.raises(ChessComError) as caught:
        refresh(settings)
    assert type(caught.value) is ChessComError  # not InvalidUsernameError, not retried
    message = str(caught.value)
    assert "redirected" in message
    assert "unexpected place" in message
    assert location in message
    assert "CHESSCOM_BASE_URL" in message
    assert len(mirror.log()) == 1


def test_archives_unavailable_is_a_player_level_error(mirror: MirrorServer, tmp_path: Path) -> None:
    mirror.set_faults({f"/player/{USER}/games/archives": [Fault.http(503, times=None)]})
    settings = make_settings(tmp_path, mirror.base_url, chesscom_retry_budget_seconds=0.5)
    with pytest.raises(ChessComUnavailableError, match="HTTP 503"):
        refresh(settings)
    assert stored(settings) == {}


def test_bad_archives_body_is_a_player_level_error(mirror: MirrorServer, tmp_path: Path) -> None:
    mirror.set_faults({f"/player/{USER}/games/archives": [Fault.truncated(times=None)]})
    settings = make_settings(tmp_path, mirror.base_url, chesscom_retry_budget_seconds=0.5)
    with pytest.raises(BadResponseError, match="not complete JSON"):
        refresh(settings)


def test_unreachable_host_fails_fast_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = make_settings(
        tmp_path, f"http://127.0.0.1:{port}/pub", chesscom_retry_budget_seconds=600
    )
    with ChessComClient(settings) as client, pytest.raises(ChessComUnavailableError) as caught:
        fetch_player(settings, USER, client=client)
    message = str(caught.value)
    assert "unreachable" in message
    assert "CHESSCOM_BASE_URL" in message
    assert "\n" not in message
    assert "shaunchess123" in message


def test_every_request_sends_the_configured_user_agent_and_accepts_gzip(
    mirror: MirrorServer, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, mirror.base_url)
    refresh(settings, "magnuscarlsen")
    assert len(mirror.log()) == 3
    assert {r.user_agent for r in mirror.log()} == {UA}
    assert all("gzip" in (r.accept_encoding or "") for r in mirror.log())


def test_conditional_request_sends_both_validators(mirror: MirrorServer, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, mirror.base_url)
    refresh(settings, "wizardchiken")
    record = RawStore(settings.raw_dir).manifest("wizardchiken")["2023-01"]
    mirror.clear_log()
    refresh(settings, "wizardchiken", full=True)
    month = mirror.log()[-1]
    assert month.if_none_match == record.etag
    sent = parse_http_date(month.if_modified_since)
    assert sent == parse_http_date(record.last_modified)
    assert month.status == 304


def test_usernames_are_lowercased_and_validated_before_any_request(
    mirror: MirrorServer, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, mirror.base_url)
    with ChessComClient(settings) as client:
        assert client.archives("WizardChiken").months == ["2023-01"]
        with pytest.raises(ValueError, match=r"not a Chess\.com username"):
            client.archives("../../etc/passwd")
    assert [r.path for r in mirror.log()] == ["/pub/player/wizardchiken/games/archives"]


def test_min_interval_spaces_requests(mirror: MirrorServer, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, mirror.base_url, chesscom_min_interval_seconds=0.2)
    refresh(settings, "magnuscarlsen")
    starts = [r.started for r in mirror.log()]
    # A guaranteed minimum gap (sleep never returns early), not a speed measurement.
    assert all(b - a >= 0.2 for a, b in itertools.pairwise(starts))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thursday, 17-Oct-2024 22:34:57 GMT+0000", datetime(2024, 10, 17, 22, 34, 57, tzinfo=UTC)),
        ("Thu, 17 Oct 2024 22:34:57 GMT", datetime(2024, 10, 17, 22, 34, 57, tzinfo=UTC)),
        ("Thursday, 17-Oct-24 22:34:57 GMT", datetime(2024, 10, 17, 22, 34, 57, tzinfo=UTC)),
        ("Thu Oct 17 22:34:57 2024", datetime(2024, 10, 17, 22, 34, 57, tzinfo=UTC)),
        ("Friday, 18-Oct-2024 00:34:57 GMT+0200", datetime(2024, 10, 17, 22, 34, 57, tzinfo=UTC)),
        ("yesterday", None),
        ("", None),
        # Arabic-Indic digits: int() reads them, but no HTTP date has them.
        ("Thursday, \u0661\u0667-Oct-2024 22:34:57 GMT+0000", None),
    ],
)
def test_http_dates_in_chesscom_and_standard_forms(text: str, expected: datetime | None) -> None:
    assert parse_http_date(text) == expected


def test_empty_month_is_a_valid_month(
    fixtures_dir: Path, mirror: MirrorServer, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, mirror.base_url)
    refresh(settings)
    empty = RawStore(settings.raw_dir).manifest(USER)["2023-10"]
    assert empty.game_count == 0
    assert json.loads((fixtures_dir / USER / "2023" / "10.json").read_bytes()) == {"games": []}


@pytest.mark.parametrize(("value", "seconds"), [("7", 7.0), ("\u00b2", None), ("\u0667", None)])
def test_retry_after_takes_only_ascii_digits(value: str, seconds: float | None) -> None:
    assert chesscom._retry_after_seconds(value) == seconds

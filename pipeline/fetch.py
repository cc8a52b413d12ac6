"""The fetch stage: which months to ask Chess.com for, in what order, and when to stop asking."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from adapters.chesscom import (
    BlockedError,
    ChessComError,
    ChessComUnavailableError,
    PlayerGoneError,
)
from adapters.raw_store import MonthSource, MonthStatus, iso, parse_iso
from pipeline.ports import ChessComSource, RawStore
from transforms.usernames import normalize_username

# How old a stored month's last confirmation may be before it is asked again (Settings' default).
REVALIDATE_AFTER_DAYS = 30


@dataclass
class FetchReport:
    """What one fetch of one player did."""

    username: str
    months_listed: int
    fetched: list[str] = field(default_factory=list)  # new bytes written
    unchanged: list[str] = field(default_factory=list)  # 304, or 200 with the same bytes
    failed: dict[str, str] = field(default_factory=dict)  # month -> one-line reason
    skipped: list[str] = field(default_factory=list)  # stored, old, not due for revalidation
    canonical_username: str | None = None

    @property
    def ok(self) -> bool:
        return not self.failed


def _month_of(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


def _previous_month(moment: datetime) -> str:
    first = moment.replace(day=1)
    return _month_of(first - timedelta(days=1))


def plan_months(
    listed: Sequence[str],
    store: RawStore,
    username: str,
    *,
    full: bool,
    revalidate_after_days: int,
    now: datetime,
) -> tuple[list[str], list[str]]:
    """Split the listed months into (to ask for, to skip), months that failed last time last.

    Asked: months not stored (or only imported), the current and previous month (late games land
    there), and older months when `full` or when last checked more than the revalidation age ago.
    """
    manifest = store.manifest(username)
    stored = set(store.stored_months(username))
    recent = {_month_of(now), _previous_month(now)}
    horizon = now - timedelta(days=revalidate_after_days)
    ask: list[str] = []
    skip: list[str] = []
    for month in listed:
        record = manifest.get(month)
        never_fetched = month not in stored or record is None or record.source != MonthSource.API
        due = (
            never_fetched
            or month in recent
            or full
            or record is None
            or record.status not in (MonthStatus.OK, MonthStatus.NOT_MODIFIED)
            or record.last_checked_at is None
            or parse_iso(record.last_checked_at) <= horizon
        )
        (ask if due else skip).append(month)
    # A month that failed last time goes last: if it keeps failing with a 5xx, stopping on an
    # outage would otherwise keep every later month from being asked, refresh after refresh.
    ask.sort(key=lambda m: m in manifest and manifest[m].status is MonthStatus.ERROR)
    return ask, skip


def fetch_player(
    source: ChessComSource,
    store: RawStore,
    username: str,
    *,
    full: bool = False,
    now: datetime,
    revalidate_after_days: int = REVALIDATE_AFTER_DAYS,
    lock_timeout: float = 300.0,
) -> FetchReport:
    """Refresh one player's raw store from Chess.com.

    Player-level failures raise (PlayerNotFoundError, PlayerGoneError, BlockedError,
    ChessComUnavailableError, PlayerLockedError); a month that fails goes into `report.failed`
    and its stored copy stays as it was. Once a month fails because Chess.com stopped answering
    (ChessComUnavailableError), the months after it are not asked: a 503 on one month cannot be
    told from an outage without spending another retry budget per month, so each goes into
    `report.failed` as "not asked: ...", its file and manifest record untouched. A month failing
    for its own reason (404, a body that stays broken) does not stop the others. A second fetch
    of the same player waits up to `lock_timeout` seconds for the first, then raises
    PlayerLockedError.
    """
    user = normalize_username(username)
    moment = now.astimezone(UTC)
    with store.lock(user, timeout=lock_timeout):
        info = store.player_info(user)
        if info.gone_at and not full:
            raise PlayerGoneError(
                f"Chess.com said player {user!r} is gone (410) on {info.gone_at}; not asking "
                "again. Stored archives are kept; use --full to ask once more.",
                username=user,
            )
        try:
            archives = source.archives(info.canonical_username or user)
        except PlayerGoneError:
            _mark_gone(store, user, moment)
            raise
        renamed = archives.username if archives.username != user else None
        if renamed is not None or info.gone_at:
            info.canonical_username = renamed
            info.gone_at = None
            store.save_player_info(user, info)
        report = FetchReport(
            username=user, months_listed=len(archives.months), canonical_username=renamed
        )
        ask, report.skipped = plan_months(
            archives.months,
            store,
            user,
            full=full,
            revalidate_after_days=revalidate_after_days,
            now=moment,
        )
        stopped: str | None = None
        try:
            for month in ask:
                if stopped is not None:
                    report.failed[month] = (
                        f"not asked: Chess.com stopped answering during this refresh "
                        f"({stopped}); run the refresh again later"
                    )
                    continue
                error = _fetch_month(source, store, user, archives.username, month, report, moment)
                if isinstance(error, ChessComUnavailableError):
                    stopped = f"month {month} gave up: {error.problem or 'no answer'}"
        except PlayerGoneError:
            # A 410 on a month means the same as on the archives list: stop asking.
            _mark_gone(store, user, moment)
            raise
        return report


def _mark_gone(store: RawStore, user: str, moment: datetime) -> None:
    info = store.player_info(user)
    info.gone_at = iso(moment)
    store.save_player_info(user, info)


def _fetch_month(
    source: ChessComSource,
    store: RawStore,
    user: str,
    remote: str,
    month: str,
    report: FetchReport,
    moment: datetime,
) -> ChessComError | None:
    """Ask for one month and store the answer; the error when it failed (recorded in `report`)."""
    record = store.manifest(user).get(month)
    etag = last_modified = None
    # Validators are sent only when the stored file is still the exact body they describe
    # (an import, or a crash between the file rename and the manifest write, breaks that).
    if (
        record is not None
        and record.stored
        and record.source == MonthSource.API
        and store.file_sha256(user, month) == record.sha256
    ):
        etag, last_modified = record.etag, record.last_modified
    try:
        response = source.month(remote, month, etag=etag, last_modified=last_modified)
    except PlayerGoneError:
        store.record_check(user, month, status=MonthStatus.GONE, now=moment)
        raise
    except BlockedError as error:
        store.record_check(user, month, status=MonthStatus.BLOCKED, problem=str(error), now=moment)
        raise
    except ChessComError as error:
        report.failed[month] = str(error)
        store.record_check(user, month, status=MonthStatus.ERROR, problem=str(error), now=moment)
        return error
    if response.status == 304:
        store.record_check(
            user,
            month,
            status=MonthStatus.NOT_MODIFIED,
            etag=response.etag,
            last_modified=response.last_modified,
            now=moment,
        )
        report.unchanged.append(month)
        return None
    assert response.body is not None
    changed = store.write_month(
        user,
        month,
        response.body,
        etag=response.etag,
        last_modified=response.last_modified,
        status=MonthStatus.OK,
        now=moment,
    )
    (report.fetched if changed else report.unchanged).append(month)
    return None


__all__ = ["REVALIDATE_AFTER_DAYS", "FetchReport", "fetch_player", "plan_months"]

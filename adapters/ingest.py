"""Bring a player's archives into the raw store: incremental refresh from Chess.com, or import."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from adapters.chesscom import (
    BlockedError,
    ChessComClient,
    ChessComError,
    PlayerGoneError,
)
from adapters.raw_store import RawStore, iso, now_utc, parse_iso
from settings import Settings
from transforms.usernames import normalize_username


@dataclass
class IngestReport:
    """What one refresh of one player did."""

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
    """Split the listed months into (to ask for, to skip).

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
        never_fetched = month not in stored or record is None or record.source != "api"
        due = (
            never_fetched
            or month in recent
            or full
            or record is None
            or record.last_status not in ("200", "304")
            or parse_iso(record.last_checked_at) <= horizon
        )
        (ask if due else skip).append(month)
    return ask, skip


def fetch_player(
    settings: Settings,
    username: str,
    *,
    full: bool = False,
    client: ChessComClient | None = None,
    now: datetime | None = None,
) -> IngestReport:
    """Refresh one player's raw store from Chess.com.

    Player-level failures raise (PlayerNotFoundError, PlayerGoneError, BlockedError,
    ChessComUnavailableError, PlayerLockedError); a month that fails goes into `report.failed`
    and its stored copy stays as it was.
    """
    user = normalize_username(username)
    moment = (now or now_utc()).astimezone(UTC)
    store = RawStore(settings.raw_dir)
    own_client = client is None
    http = client if client is not None else ChessComClient(settings)
    try:
        with store.lock(user):
            info = store.player_info(user)
            if info.gone_at and not full:
                raise PlayerGoneError(
                    f"Chess.com said player {user!r} is gone (410) on {info.gone_at}; not asking "
                    "again. Stored archives are kept; use --full to ask once more.",
                    username=user,
                )
            remote = info.canonical_username or user
            try:
                archives = http.archives(remote)
            except PlayerGoneError:
                info.gone_at = iso(moment)
                store.save_player_info(user, info)
                raise
            if archives.username != user or info.gone_at:
                info.canonical_username = archives.username if archives.username != user else None
                info.gone_at = None
                store.save_player_info(user, info)
            remote = archives.username
            report = IngestReport(
                username=user,
                months_listed=len(archives.months),
                canonical_username=archives.username if archives.username != user else None,
            )
            ask, report.skipped = plan_months(
                archives.months,
                store,
                user,
                full=full,
                revalidate_after_days=settings.revalidate_after_days,
                now=moment,
            )
            for month in ask:
                _fetch_month(http, store, user, remote, month, report, moment)
            return report
    finally:
        if own_client:
            http.close()


def _fetch_month(
    http: ChessComClient,
    store: RawStore,
    user: str,
    remote: str,
    month: str,
    report: IngestReport,
    moment: datetime,
) -> None:
    record = store.manifest(user).get(month)
    etag = last_modified = None
    # Validators are sent only when the stored file is still the exact body they describe
    # (an import, or a crash between the file rename and the manifest write, breaks that).
    if (
        record is not None
        and record.source == "api"
        and store.file_sha256(user, month) == record.sha256
    ):
        etag, last_modified = record.etag, record.last_modified
    try:
        response = http.month(remote, month, etag=etag, last_modified=last_modified)
    except (BlockedError, PlayerGoneError):
        raise
    except ChessComError as error:
        report.failed[month] = str(error)
        store.record_check(user, month, status=f"error: {error}", now=moment)
        return
    if response.status == 304:
        store.record_check(
            user,
            month,
            status="304",
            etag=response.etag,
            last_modified=response.last_modified,
            now=moment,
        )
        report.unchanged.append(month)
        return
    assert response.body is not None
    changed = store.write_month(
        user,
        month,
        response.body,
        etag=response.etag,
        last_modified=response.last_modified,
        status="200",
        now=moment,
    )
    (report.fetched if changed else report.unchanged).append(month)


@dataclass
class ImportReport:
    """What one `import` did."""

    username: str
    months_written: list[str] = field(default_factory=list)
    games_added: int = 0
    games_already_present: int = 0


def import_files(settings: Settings, username: str, files: Sequence[Path]) -> ImportReport:
    """Import monthly JSON bodies and PGN exports into the raw store, each game once."""
    user = normalize_username(username)
    store = RawStore(settings.raw_dir)
    with store.lock(user):
        months_written, added, present = _import_into_store(store, user, files)
    return ImportReport(
        username=user,
        months_written=months_written,
        games_added=added,
        games_already_present=present,
    )


def _import_into_store(
    store: RawStore, user: str, files: Sequence[Path]
) -> tuple[list[str], int, int]:
    raise NotImplementedError("import lands next")


__all__ = ["ImportReport", "IngestReport", "fetch_player", "import_files", "plan_months"]

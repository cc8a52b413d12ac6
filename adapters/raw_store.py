"""The raw store: Chess.com monthly archive bodies on disk, written atomically, with a manifest."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO

from transforms.usernames import normalize_username

MANIFEST_NAME = "manifest.json"
LOCK_NAME = ".lock"
MANIFEST_VERSION = 1

_MONTH = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")
_YEAR_DIR = re.compile(r"[0-9]{4}")
# atomic_write names its temp file `.<name>.<pid>.<random>.tmp` beside the target.
_TEMP_GLOB = ".*.tmp"
STALE_TEMP_SECONDS = 60.0
_MONTH_FILE = re.compile(r"(0[1-9]|1[0-2])\.json")


class PlayerLockedError(RuntimeError):
    """Another process (or thread) is refreshing or importing the same player."""


class RawStoreError(RuntimeError):
    """A raw store file cannot be read as expected."""


def now_utc() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def is_month(text: str) -> bool:
    """True for `YYYY-MM` with a month 01-12: the one month rule (paths, listings, manifest)."""
    return _MONTH.fullmatch(text) is not None


def check_month(month: str) -> str:
    """Return the month if it is `YYYY-MM`, else raise ValueError; guards file paths."""
    if not is_month(month):
        raise ValueError(f"{month!r} is not a month: use YYYY-MM, e.g. 2024-01.")
    return month


class MonthStatus(StrEnum):
    """What the last attempt at a month gave; written to the manifest as its value."""

    OK = "200"
    NOT_MODIFIED = "304"
    GONE = "410"
    IMPORTED = "imported"
    # Written as "error: <why>" / "blocked: <why>", the reason kept for the operator.
    ERROR = "error"
    BLOCKED = "blocked"

    def written(self, problem: str | None = None) -> str:
        """The manifest's `last_status` text: the value, with the reason for a failure."""
        return f"{self.value}: {problem}" if problem is not None else self.value


class MonthSource(StrEnum):
    """Where a stored month's bytes came from."""

    API = "api"  # the exact body Chess.com sent
    IMPORT = "import"  # written by `import` (re-serialised)


@dataclass(frozen=True)
class MonthRecord:
    """What the manifest knows about one month: the stored file, and the last attempt.

    A month whose every attempt failed has a record too (the status of its last attempt), with
    no sha256, bytes, game count or fetch time, because no file was ever stored for it.
    """

    etag: str | None
    last_modified: str | None
    sha256: str | None
    bytes: int | None
    game_count: int | None
    fetched_at: str | None
    last_checked_at: str | None  # last time Chess.com confirmed the stored bytes (200 or 304)
    last_status: str  # of the last attempt, MonthStatus.written(): "200", "error: ...", ...
    # "api": the exact body Chess.com sent; "import": written by `import` (re-serialised),
    # so the next refresh fetches it unconditionally and the API bytes replace it.
    source: str = "api"
    last_attempt_at: str | None = None

    @property
    def stored(self) -> bool:
        return self.sha256 is not None

    @property
    def status(self) -> MonthStatus:
        """The last attempt's status without its reason (an unknown text counts as an error)."""
        head = self.last_status.split(":", 1)[0]
        try:
            return MonthStatus(head)
        except ValueError:
            return MonthStatus.ERROR

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MonthRecord:
        return cls(
            etag=data.get("etag"),
            last_modified=data.get("last_modified"),
            sha256=_str_or_none(data.get("sha256")),
            bytes=_int_or_none(data.get("bytes")),
            game_count=_int_or_none(data.get("game_count")),
            fetched_at=_str_or_none(data.get("fetched_at")),
            last_checked_at=_str_or_none(data.get("last_checked_at")),
            last_status=str(data["last_status"]),
            source=str(data.get("source", "api")),
            last_attempt_at=_str_or_none(data.get("last_attempt_at")),
        )


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def _int_or_none(value: object) -> int | None:
    return None if value is None else int(str(value))


@dataclass
class PlayerInfo:
    """Player-level facts the refresh must remember between runs."""

    # The name Chess.com redirected us to (301), used for later requests.
    canonical_username: str | None = None
    # Set when Chess.com answered 410: the account is closed, so we stop asking.
    gone_at: str | None = None
    months: dict[str, MonthRecord] = field(default_factory=dict)


def _write_bytes(handle: BinaryIO, data: bytes) -> None:
    """Write every byte; a seam tests replace to simulate a crash part-way through a write."""
    view = memoryview(data)
    while view:
        written = handle.write(view)
        if written is None:  # pragma: no cover - only non-blocking raw files return None
            continue
        view = view[written:]


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so a crash at any instant leaves the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "xb") as handle:
            _write_bytes(handle, data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    # The rename is durable only once the directory entry itself is on disk.
    _fsync_dir(path.parent)


def count_games(data: bytes) -> int:
    """Number of games in a monthly body; raises RawStoreError when it is not one."""
    try:
        body = json.loads(data)
    except ValueError as error:
        raise RawStoreError(f"not a JSON monthly archive body: {error}") from None
    if not isinstance(body, dict) or not isinstance(body.get("games"), list):
        raise RawStoreError('not a monthly archive body: expected {"games": [...]}')
    return len(body["games"])


def sha256_bytes(data: bytes) -> str:
    """The one digest that identifies a month's bytes (manifest, lake tags, validators)."""
    return hashlib.sha256(data).hexdigest()


def stored_record(
    previous: MonthRecord | None,
    *,
    digest: str,
    size: int,
    game_count: int,
    changed: bool,
    etag: str | None,
    last_modified: str | None,
    status: MonthStatus,
    source: MonthSource,
    moment: str,
) -> MonthRecord:
    """The manifest record of a month whose body was just stored (`changed`: new bytes)."""
    fetched_at = moment if changed or previous is None else previous.fetched_at or moment
    if not changed and previous is not None and previous.source != source:
        fetched_at = moment
    return MonthRecord(
        etag=etag,
        last_modified=last_modified,
        sha256=digest,
        bytes=size,
        game_count=game_count,
        fetched_at=fetched_at,
        last_checked_at=moment,
        last_status=status.written(),
        source=source,
        last_attempt_at=moment,
    )


def checked_record(
    previous: MonthRecord | None,
    *,
    status: MonthStatus,
    problem: str | None,
    etag: str | None,
    last_modified: str | None,
    moment: str,
) -> MonthRecord:
    """The manifest record after an attempt that stored nothing (a 304, or a failure)."""
    text = status.written(problem)
    if previous is None:
        previous = MonthRecord(
            etag=None,
            last_modified=None,
            sha256=None,
            bytes=None,
            game_count=None,
            fetched_at=None,
            last_checked_at=None,
            last_status=text,
        )
    update: dict[str, Any] = {"last_status": text, "last_attempt_at": moment}
    if status is MonthStatus.NOT_MODIFIED and previous.stored:
        update["last_checked_at"] = moment
        if etag:
            update["etag"] = etag
        if last_modified:
            update["last_modified"] = last_modified
    return replace(previous, **update)


class RawStore:
    """`<root>/<user>/<YYYY>/<MM>.json` plus `<root>/<user>/manifest.json` and a lock file.

    Callers that change a player's files hold `lock(username)` around the whole change.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # -- paths ---------------------------------------------------------------------------
    def player_dir(self, username: str) -> Path:
        return self.root / normalize_username(username)

    def month_path(self, username: str, month: str) -> Path:
        year, mm = check_month(month).split("-")
        return self.player_dir(username) / year / f"{mm}.json"

    def manifest_path(self, username: str) -> Path:
        return self.player_dir(username) / MANIFEST_NAME

    # -- reading -------------------------------------------------------------------------
    def stored_months(self, username: str) -> list[str]:
        base = self.player_dir(username)
        if not base.is_dir():
            return []
        months: list[str] = []
        for year_dir in base.iterdir():
            if not (year_dir.is_dir() and _YEAR_DIR.fullmatch(year_dir.name)):
                continue
            for month_file in year_dir.iterdir():
                if _MONTH_FILE.fullmatch(month_file.name) and month_file.is_file():
                    months.append(f"{year_dir.name}-{month_file.name[:2]}")
        return sorted(months)

    def read_month(self, username: str, month: str) -> bytes:
        return self.month_path(username, month).read_bytes()

    def has_month(self, username: str, month: str) -> bool:
        return self.month_path(username, month).is_file()

    def player_info(self, username: str) -> PlayerInfo:
        path = self.manifest_path(username)
        try:
            raw = json.loads(path.read_bytes())
        except FileNotFoundError:
            return PlayerInfo()
        except ValueError:
            # Cannot happen with atomic writes; if it does, forgetting validators only costs
            # unconditional requests, and identical bodies are not rewritten.
            return PlayerInfo()
        months: dict[str, MonthRecord] = {}
        for month, record in (raw.get("months") or {}).items():
            if is_month(month):
                with contextlib.suppress(KeyError, TypeError, ValueError):
                    months[month] = MonthRecord.from_json(record)
        return PlayerInfo(
            canonical_username=raw.get("canonical_username"),
            gone_at=raw.get("gone_at"),
            months=months,
        )

    def manifest(self, username: str) -> dict[str, MonthRecord]:
        return self.player_info(username).months

    # -- writing (hold lock(username)) ---------------------------------------------------
    def save_player_info(self, username: str, info: PlayerInfo) -> None:
        doc = {
            "version": MANIFEST_VERSION,
            "username": normalize_username(username),
            "canonical_username": info.canonical_username,
            "gone_at": info.gone_at,
            "months": {m: asdict(info.months[m]) for m in sorted(info.months)},
        }
        data = json.dumps(doc, indent=1, sort_keys=False).encode() + b"\n"
        atomic_write(self.manifest_path(username), data)

    def write_month(
        self,
        username: str,
        month: str,
        data: bytes,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        status: MonthStatus = MonthStatus.OK,
        source: MonthSource = MonthSource.API,
        now: datetime | None = None,
    ) -> bool:
        """Store a month's body and record it; returns False when the same bytes were already there.

        The manifest is updated only after the month file is in place.
        """
        game_count = count_games(data)
        digest = sha256_bytes(data)
        path = self.month_path(username, month)
        changed = self.file_sha256(username, month) != digest
        if changed:
            atomic_write(path, data)
        info = self.player_info(username)
        info.months[month] = stored_record(
            info.months.get(month),
            digest=digest,
            size=len(data),
            game_count=game_count,
            changed=changed,
            etag=etag,
            last_modified=last_modified,
            status=status,
            source=source,
            moment=iso(now or now_utc()),
        )
        self.save_player_info(username, info)
        return changed

    def record_check(
        self,
        username: str,
        month: str,
        *,
        status: MonthStatus,
        problem: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        now: datetime | None = None,
    ) -> None:
        """Note a revalidation (304) or a failed attempt without touching the month file.

        A month never stored gets a record of the attempt alone (no sha256, no file).
        """
        info = self.player_info(username)
        info.months[month] = checked_record(
            info.months.get(month),
            status=status,
            problem=problem,
            etag=etag,
            last_modified=last_modified,
            moment=iso(now or now_utc()),
        )
        self.save_player_info(username, info)

    def file_sha256(self, username: str, month: str) -> str | None:
        """sha256 of the stored month file, read in chunks, or None when there is none."""
        digest = hashlib.sha256()
        try:
            with self.month_path(username, month).open("rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
        except FileNotFoundError:
            return None
        return digest.hexdigest()

    # -- locking -------------------------------------------------------------------------
    @staticmethod
    def _remove_stale_temp_files(directory: Path) -> None:
        # A write killed between creating its temp file and the rename leaves the temp file
        # behind. Under the lock no other writer of this player is running, and the age test
        # spares a temp file of anything else in flight.
        cutoff = time.time() - STALE_TEMP_SECONDS
        for path in _temp_files(directory):
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()

    @contextlib.contextmanager
    def lock(self, username: str, timeout: float = 300.0) -> Iterator[None]:
        """Hold the player's lock file; wait up to `timeout` seconds, then raise PlayerLockedError.

        Re-entrant within one thread (a flow holds the lock around fetch + parse + publish while
        `fetch_player` takes it again): re-entry just yields and only the outermost exit unlocks.
        Another thread or process waits: flock locks belong to an open file description, so a
        second open excludes it, and the kernel releases the lock if the holder dies.
        """
        user = normalize_username(username)
        directory = self.player_dir(user)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / LOCK_NAME
        key = (os.getpid(), threading.get_ident(), str(path.resolve()))
        with _HELD_GUARD:
            depth = _HELD.get(key, 0)
            if depth:
                _HELD[key] = depth + 1
        if depth:
            try:
                yield
            finally:
                with _HELD_GUARD:
                    _HELD[key] -= 1
            return
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + timeout
            delay = 0.01
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as error:
                    if error.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                        raise
                    if time.monotonic() >= deadline:
                        holder = _read_holder(fd)
                        raise PlayerLockedError(
                            f"another refresh or import of player {user!r} is running"
                            f"{holder}; wait for it to finish, then try again."
                        ) from None
                    time.sleep(delay)
                    delay = min(delay * 2, 0.5)
            with _HELD_GUARD:
                _HELD[key] = 1
            try:
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"pid {os.getpid()} since {iso(now_utc())}\n".encode(), 0)
                self._remove_stale_temp_files(directory)
                yield
            finally:
                with _HELD_GUARD:
                    del _HELD[key]
                os.ftruncate(fd, 0)
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


# (pid, thread id, lock file path) -> how many nested `lock()` blocks hold it. The pid keeps a
# forked child from inheriting its parent's holdings.
_HELD: dict[tuple[int, int, str], int] = {}
_HELD_GUARD = threading.Lock()


def _temp_files(directory: Path) -> Iterator[Path]:
    """atomic_write's temp files in a player folder and its year folders."""
    yield from directory.glob(_TEMP_GLOB)
    for year_dir in directory.iterdir():
        if year_dir.is_dir() and _YEAR_DIR.fullmatch(year_dir.name):
            yield from year_dir.glob(_TEMP_GLOB)


def _read_holder(fd: int) -> str:
    try:
        text = os.pread(fd, 200, 0).decode(errors="replace").strip()
    except OSError:
        return ""
    return f" ({text})" if text else ""


def months_between(first: str, last: str) -> list[str]:
    """Every month from `first` to `last` inclusive, both `YYYY-MM`."""
    year, month = (int(x) for x in check_month(first).split("-"))
    end = check_month(last)
    out: list[str] = []
    while True:
        current = f"{year:04d}-{month:02d}"
        if current > end:
            return out
        out.append(current)
        month += 1
        if month == 13:
            year, month = year + 1, 1


__all__ = [
    "MonthRecord",
    "MonthSource",
    "MonthStatus",
    "PlayerInfo",
    "PlayerLockedError",
    "RawStore",
    "RawStoreError",
    "atomic_write",
    "check_month",
    "checked_record",
    "count_games",
    "is_month",
    "months_between",
    "parse_iso",
    "sha256_bytes",
    "stored_record",
]

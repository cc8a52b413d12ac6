"""The parse stage: raw monthly archives to lake partitions, only where bytes or parser changed."""

from __future__ import annotations

import hashlib
import multiprocessing
import re
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from adapters.lake import Lake
from transforms.archive import MalformedArchiveError, parse_month
from transforms.terminations import termination_issues
from transforms.usernames import normalize_username

if TYPE_CHECKING:
    # Only for annotations: worker processes import this module and need not load pydantic.
    from settings import Settings

_YEAR_RE = re.compile(r"\d{4}")
_MONTH_FILE_RE = re.compile(r"(\d{2})\.json")


@dataclass
class ParseReport:
    """What one build did. `games`, `moves`, `parse_errors` count the player's whole lake after
    the run (skipped months included); `failed_months` maps a month to why it kept its old data."""

    username: str
    months_parsed: list[str] = field(default_factory=list)
    months_skipped: list[str] = field(default_factory=list)
    games: int = 0
    moves: int = 0
    parse_errors: int = 0
    failed_months: dict[str, str] = field(default_factory=dict)
    months_removed: list[str] = field(default_factory=list)
    # "N games with an unreadable termination: '...'" and board/text disagreements, whole lake.
    termination_notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Outcome:
    month: str
    error: str | None


def raw_months(raw_dir: Path, username: str) -> dict[str, Path]:
    """`YYYY-MM` -> file, for `<raw_dir>/<user>/<YYYY>/<MM>.json` (the raw store's layout)."""
    base = raw_dir / username
    found: dict[str, Path] = {}
    if not base.is_dir():
        return found
    for year in base.iterdir():
        if not (year.is_dir() and _YEAR_RE.fullmatch(year.name)):
            continue
        for file in year.iterdir():
            match = _MONTH_FILE_RE.fullmatch(file.name)
            if match and file.is_file() and 1 <= int(match.group(1)) <= 12:
                found[f"{year.name}-{match.group(1)}"] = file
    return dict(sorted(found.items()))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def parse_one_month(lake_root: Path, username: str, month: str, path: Path) -> _Outcome:
    """Parse one raw month and write its partitions (runs in a worker process in backfills).

    The sha256 tagged on the partition is taken from the very bytes that were parsed.
    """
    try:
        body = path.read_bytes()
    except OSError as error:
        return _Outcome(month, f"cannot read {path}: {error}")
    sha = hashlib.sha256(body).hexdigest()
    try:
        parsed = parse_month(username, month, body)
    except MalformedArchiveError as error:
        return _Outcome(month, str(error))
    try:
        Lake(lake_root).write_month(username, month, parsed, sha)
    except OSError as error:
        return _Outcome(month, f"{username} {month}: cannot write the lake partition: {error}")
    return _Outcome(month, None)


def _crashed(username: str, month: str, error: Exception) -> _Outcome:
    return _Outcome(month, f"{username} {month}: parser crashed: {type(error).__name__}: {error}")


def _run(settings: Settings, username: str, todo: list[tuple[str, Path]]) -> Iterator[_Outcome]:
    lake_root = settings.lake_dir
    workers = min(settings.parse_workers, len(todo))
    if workers <= 1:
        for month, path in todo:
            try:
                yield parse_one_month(lake_root, username, month, path)
            except Exception as error:
                # Same contract as with workers: one month's crash must not stop the others.
                yield _crashed(username, month, error)
        return
    # Workers write their own partitions and return only a status, so no frame crosses processes;
    # at most 2 months per worker are in flight, which bounds memory in a long backfill.
    # "spawn", not fork: forking a process that already runs Polars' thread pool can deadlock.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: dict[Future[_Outcome], str] = {}
        queue = list(todo)
        while queue or pending:
            while queue and len(pending) < 2 * workers:
                month, path = queue[0]
                try:
                    future = pool.submit(parse_one_month, lake_root, username, month, path)
                except BrokenProcessPool as error:
                    # A worker died (e.g. killed for memory): the pool takes no more work.
                    for month, _ in queue:
                        yield _Outcome(
                            month, f"{username} {month}: not parsed, the worker pool broke: {error}"
                        )
                    queue.clear()
                    break
                queue.pop(0)
                pending[future] = month
            if not pending:
                break
            finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            future = next(iter(finished))
            month = pending.pop(future)
            try:
                yield future.result()
            except Exception as error:
                # One month's crash (even a dead worker) must not stop the others.
                yield _crashed(username, month, error)


def build_lake(settings: Settings, username: str) -> ParseReport:
    """Bring the player's lake in line with the raw store.

    Parses months whose raw bytes (sha256) or parser version changed, keeps the others, removes
    partitions of months no longer in the raw store. A malformed month keeps its old partition
    and is listed in `failed_months`.
    """
    user = normalize_username(username)
    lake = Lake(settings.lake_dir)
    report = ParseReport(username=user)
    raw = raw_months(settings.raw_dir, user)
    todo: list[tuple[str, Path]] = []
    for month, path in raw.items():
        try:
            sha = sha256_file(path)
        except OSError as error:
            report.failed_months[month] = f"cannot read {path}: {error}"
            continue
        if lake.needs_parse(user, month, sha):
            todo.append((month, path))
        else:
            report.months_skipped.append(month)
    for month in lake.months(user):
        if month not in raw:
            lake.remove_month(user, month)
            report.months_removed.append(month)
    for outcome in _run(settings, user, todo):
        if outcome.error is None:
            report.months_parsed.append(outcome.month)
        else:
            report.failed_months[outcome.month] = outcome.error
    report.months_parsed.sort()
    for month in lake.months(user):
        meta = lake.meta(user, month) or {}
        report.games += int(meta.get("games", 0))
        report.moves += int(meta.get("moves", 0))
        report.parse_errors += int(meta.get("parse_errors", 0))
    report.termination_notes = termination_notes(lake, user)
    return report


_TERMINATION_COLUMNS = ("termination", "termination_text", "termination_conflict")


def termination_notes(lake: Lake, username: str) -> list[str]:
    """Lines naming the player's games with an unreadable termination (transforms.terminations);
    partitions from a parser before these columns existed are left out."""
    frames = []
    for path in sorted(Path(lake.games_glob(username)).parent.parent.glob("month=*/*.parquet")):
        if set(_TERMINATION_COLUMNS) <= set(pl.read_parquet_schema(path)):
            frames.append(pl.read_parquet(path, columns=list(_TERMINATION_COLUMNS)))
    if not frames:
        return []
    return termination_issues(pl.concat(frames)).lines()

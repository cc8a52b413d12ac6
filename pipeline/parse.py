"""The parse stage: which raw months to (re-)parse into the lake, run in a pool of processes."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from adapters.raw_store import sha256_bytes
from pipeline.ports import Lake, RawStore
from transforms.archive import MalformedArchiveError, parse_month
from transforms.usernames import normalize_username


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


@dataclass(frozen=True)
class _Outcome:
    month: str
    error: str | None


def parse_one_month(store: RawStore, lake: Lake, username: str, month: str) -> _Outcome:
    """Parse one raw month and write its partitions (runs in a worker process in backfills).

    The sha256 tagged on the partition is taken from the very bytes that were parsed.
    """
    try:
        body = store.read_month(username, month)
    except OSError as error:
        return _Outcome(month, f"{username} {month}: cannot read the raw month: {error}")
    try:
        parsed = parse_month(username, month, body)
    except MalformedArchiveError as error:
        return _Outcome(month, str(error))
    try:
        lake.write_month(username, month, parsed, sha256_bytes(body))
    except OSError as error:
        return _Outcome(month, f"{username} {month}: cannot write the lake partition: {error}")
    return _Outcome(month, None)


def _crashed(username: str, month: str, error: Exception) -> _Outcome:
    return _Outcome(month, f"{username} {month}: parser crashed: {type(error).__name__}: {error}")


def _run(
    store: RawStore, lake: Lake, username: str, todo: list[str], workers: int
) -> Iterator[_Outcome]:
    workers = min(workers, len(todo))
    if workers <= 1:
        for month in todo:
            try:
                yield parse_one_month(store, lake, username, month)
            except Exception as error:
                # Same contract as with workers: one month's crash must not stop the others.
                yield _crashed(username, month, error)
        return
    # Workers write their own partitions and return only a status, so no frame crosses processes
    # (the store and lake go over as their root paths); at most 2 months per worker are in
    # flight, which bounds memory in a long backfill.
    # "spawn", not fork: forking a process that already runs Polars' thread pool can deadlock.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: dict[Future[_Outcome], str] = {}
        queue = list(todo)
        while queue or pending:
            while queue and len(pending) < 2 * workers:
                month = queue[0]
                try:
                    future = pool.submit(parse_one_month, store, lake, username, month)
                except BrokenProcessPool as error:
                    # A worker died (e.g. killed for memory): the pool takes no more work.
                    for month in queue:
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


def parse_player(store: RawStore, lake: Lake, username: str, *, workers: int = 1) -> ParseReport:
    """Bring the player's lake in line with the raw store.

    Parses months whose raw bytes (sha256) or parser version changed, keeps the others, removes
    partitions of months no longer in the raw store. A malformed month keeps its old partition
    and is listed in `failed_months`. With `workers` > 1 the months are parsed in that many
    processes (the store and the lake must then be picklable, as the real ones are).
    """
    user = normalize_username(username)
    report = ParseReport(username=user)
    raw = store.stored_months(user)
    todo: list[str] = []
    for month in raw:
        try:
            sha = store.file_sha256(user, month)
        except OSError as error:
            report.failed_months[month] = f"{user} {month}: cannot read the raw month: {error}"
            continue
        if sha is None:  # removed since it was listed
            continue
        if lake.needs_parse(user, month, sha):
            todo.append(month)
        else:
            report.months_skipped.append(month)
    present = set(raw)
    for month in lake.months(user):
        if month not in present:
            lake.remove_month(user, month)
            report.months_removed.append(month)
    for outcome in _run(store, lake, user, todo, workers):
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
    return report


__all__ = ["ParseReport", "parse_one_month", "parse_player"]

"""In-memory fakes of the stage ports (pipeline/ports.py), for policy tests in milliseconds.

They live under tests/ because nothing shipped uses them; other branches' tests import them
from here. The manifest records are built by the raw store's own rules (stored_record,
checked_record), so the fake cannot drift from the real store on what a record says.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from adapters.chesscom import Archives, MonthNotFoundError, MonthResponse, PlayerNotFoundError
from adapters.raw_store import (
    MonthRecord,
    MonthSource,
    MonthStatus,
    PlayerInfo,
    PlayerLockedError,
    checked_record,
    count_games,
    iso,
    sha256_bytes,
    stored_record,
)
from transforms.archive import ParsedMonth
from transforms.schema import PARSER_VERSION, SCHEMA_VERSION


@dataclass
class FixedClock:
    """A clock that says what the test tells it."""

    moment: datetime = datetime(2024, 6, 15, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


@dataclass
class Call:
    """One request the fake source answered (or refused)."""

    username: str
    month: str | None  # None: the archives list
    etag: str | None = None


@dataclass
class FakeSource:
    """Chess.com as dicts: `players[user][month] = body`; `faults[(user, month)]` raises in turn.

    `missing` months are listed but answer 404. A month's ETag is the sha256 of its body, so a
    conditional request with it answers 304.
    `renamed[old] = new` makes the archives list answer under the new name (Chess.com's 301).
    """

    players: dict[str, dict[str, bytes]] = field(default_factory=dict)
    faults: dict[tuple[str, str | None], list[Exception]] = field(default_factory=dict)
    renamed: dict[str, str] = field(default_factory=dict)
    missing: set[tuple[str, str]] = field(default_factory=set)  # listed, but answers 404
    calls: list[Call] = field(default_factory=list)

    def _fault(self, username: str, month: str | None) -> None:
        queue = self.faults.get((username, month))
        if queue:
            raise queue.pop(0)

    def archives(self, username: str) -> Archives:
        self.calls.append(Call(username, None))
        self._fault(username, None)
        name = self.renamed.get(username, username)
        if name not in self.players:
            raise PlayerNotFoundError(f"no player {name!r}", username=name)
        listed = set(self.players[name]) | {m for u, m in self.missing if u == name}
        return Archives(username=name, months=sorted(listed))

    def month(
        self,
        username: str,
        month: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> MonthResponse:
        self.calls.append(Call(username, month, etag))
        self._fault(username, month)
        body = self.players.get(username, {}).get(month)
        if body is None or (username, month) in self.missing:
            raise MonthNotFoundError(f"no month {month} for {username!r} (404)", month=month)
        tag = sha256_bytes(body)
        if etag == tag:
            return MonthResponse(month, 304, None, etag, last_modified, username)
        return MonthResponse(month, 200, body, tag, None, username)

    def asked(self) -> list[str]:
        """The months asked for, in order."""
        return [c.month for c in self.calls if c.month is not None]


@dataclass
class FakeRawStore:
    """The raw store in dicts: bodies per (user, month), one PlayerInfo per user."""

    bodies: dict[tuple[str, str], bytes] = field(default_factory=dict)
    infos: dict[str, PlayerInfo] = field(default_factory=dict)
    unreadable: set[tuple[str, str]] = field(default_factory=set)
    _locks: dict[str, threading.RLock] = field(default_factory=dict)

    @contextlib.contextmanager
    def lock(self, username: str, timeout: float = 300.0) -> Iterator[None]:
        held = self._locks.setdefault(username, threading.RLock())
        if not held.acquire(timeout=timeout):
            raise PlayerLockedError(f"another refresh or import of player {username!r} is running")
        try:
            yield
        finally:
            held.release()

    def player_info(self, username: str) -> PlayerInfo:
        info = self.infos.get(username, PlayerInfo())
        return replace(info, months=dict(info.months))  # a copy, as a read from disk is

    def save_player_info(self, username: str, info: PlayerInfo) -> None:
        self.infos[username] = replace(info, months=dict(info.months))

    def manifest(self, username: str) -> dict[str, MonthRecord]:
        return self.player_info(username).months

    def stored_months(self, username: str) -> list[str]:
        return sorted(m for u, m in self.bodies if u == username)

    def has_month(self, username: str, month: str) -> bool:
        return (username, month) in self.bodies

    def read_month(self, username: str, month: str) -> bytes:
        if (username, month) in self.unreadable:
            raise PermissionError(f"{username}/{month}: permission denied")
        try:
            return self.bodies[(username, month)]
        except KeyError:
            raise FileNotFoundError(f"{username}/{month}") from None

    def file_sha256(self, username: str, month: str) -> str | None:
        body = self.bodies.get((username, month))
        return None if body is None else sha256_bytes(body)

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
        digest = sha256_bytes(data)
        changed = self.file_sha256(username, month) != digest
        game_count = count_games(data)
        self.bodies[(username, month)] = data
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
            moment=iso(now or datetime.now(UTC)),
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
        info = self.player_info(username)
        info.months[month] = checked_record(
            info.months.get(month),
            status=status,
            problem=problem,
            etag=etag,
            last_modified=last_modified,
            moment=iso(now or datetime.now(UTC)),
        )
        self.save_player_info(username, info)


@dataclass
class FakeLake:
    """Lake partitions in a dict: (user, month) -> (parsed frames, their tags)."""

    partitions: dict[tuple[str, str], tuple[ParsedMonth, dict[str, Any]]] = field(
        default_factory=dict
    )
    summaries: dict[str, dict[str, pl.DataFrame]] = field(default_factory=dict)
    writes: list[tuple[str, str]] = field(default_factory=list)

    def needs_parse(self, username: str, month: str, raw_sha256: str) -> bool:
        meta = self.meta(username, month)
        return meta is None or not (
            meta["raw_sha256"] == raw_sha256
            and meta["parser_version"] == PARSER_VERSION
            and meta["schema_version"] == SCHEMA_VERSION
        )

    def months(self, username: str) -> list[str]:
        return sorted(m for u, m in self.partitions if u == username)

    def meta(self, username: str, month: str) -> dict[str, Any] | None:
        found = self.partitions.get((username, month))
        return None if found is None else dict(found[1])

    def write_month(self, username: str, month: str, parsed: ParsedMonth, raw_sha256: str) -> None:
        self.writes.append((username, month))
        self.partitions[(username, month)] = (
            parsed,
            {
                "raw_sha256": raw_sha256,
                "parser_version": PARSER_VERSION,
                "schema_version": SCHEMA_VERSION,
                "games": parsed.games.height,
                "moves": parsed.moves.height,
                "parse_errors": int(parsed.games["parse_error"].is_not_null().sum()),
            },
        )

    def remove_month(self, username: str, month: str) -> None:
        self.partitions.pop((username, month), None)

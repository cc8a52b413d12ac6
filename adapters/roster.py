"""The roster of tracked players (and their time zones), kept in the published database."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, inspect

from adapters.database import Database
from adapters.db import sql, utc_text
from adapters.migrations import SchemaNotCurrentError, ensure_schema
from transforms.usernames import normalize_username


@dataclass(frozen=True)
class TrackedPlayer:
    """One roster entry: `timezone` None means DEFAULT_TIMEZONE (or PLAYER_TIMEZONES)."""

    username: str
    timezone: str | None
    added_at: str


class UnknownTimezoneError(ValueError):
    """A time zone the tz database does not know."""


def check_timezone(timezone: str) -> str:
    """The IANA name as given, or a one-line error saying how to find a valid one."""
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise UnknownTimezoneError(
            f"unknown time zone {timezone!r}: use an IANA name such as 'Europe/Oslo' or "
            "'America/New_York'"
        ) from None
    return timezone


def _require_table(conn: Connection) -> None:
    if not inspect(conn).has_table("tracked_players"):
        # PostgreSQL is migrated on the direct URL by an operator, never on the spot.
        raise SchemaNotCurrentError(
            "the published database has no roster table yet: run `chess-patterns db upgrade`"
        )


def add_player(database: Database, username: str, timezone: str | None = None) -> TrackedPlayer:
    """Puts a player on the roster (or changes its time zone); returns the stored entry."""
    name = normalize_username(username)
    zone = check_timezone(timezone) if timezone is not None else None
    ensure_schema(database)
    if database.path is not None:
        database.path.parent.mkdir(parents=True, exist_ok=True)
    engine = database.engine()
    try:
        with engine.begin() as conn:
            _require_table(conn)
            conn.execute(
                sql("upsert_tracked_player"),
                {"username": name, "timezone": zone, "added_at": utc_text(datetime.now(UTC))},
            )
    finally:
        engine.dispose()
    return next(p for p in list_players(database) if p.username == name)


def remove_player(database: Database, username: str) -> bool:
    """Takes a player off the roster; False when it was not on it. Published rows stay."""
    name = normalize_username(username)
    ensure_schema(database)
    engine = database.engine()
    try:
        with engine.begin() as conn:
            _require_table(conn)
            return bool(conn.execute(sql("delete_tracked_player"), {"username": name}).rowcount)
    finally:
        engine.dispose()


def list_players(database: Database) -> list[TrackedPlayer]:
    """The roster in name order; empty when the database or the table does not exist yet."""
    if not database.exists():
        return []
    engine = database.reader().engine()
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("tracked_players"):
                return []
            return [
                TrackedPlayer(username=row[0], timezone=row[1], added_at=str(row[2]))
                for row in conn.execute(sql("select_tracked_players"))
            ]
    finally:
        engine.dispose()


def tracked_timezone(database: Database, username: str) -> str | None:
    """The time zone the roster gives a player, or None (not tracked, or no zone set)."""
    if not database.exists():
        return None
    engine = database.reader().engine()
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("tracked_players"):
                return None
            value = conn.execute(
                sql("select_tracked_timezone"), {"username": normalize_username(username)}
            ).scalar()
            return str(value) if value is not None else None
    finally:
        engine.dispose()

"""Publishes a player's summaries and games to PostgreSQL or SQLite in one transaction."""

from __future__ import annotations

import hashlib
import json
import logging
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import polars as pl
from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from adapters.db import (
    GAMES_COLUMNS,
    SQL_DIR,
    Dialect,
    SummaryColumn,
    SummaryDefinition,
    columns_json,
    dialect_of,
    fetch_definitions,
    fetch_player,
    fetch_summary_rows,
    make_engine,
    quote_ident,
    sql,
    sqlite_path,
    to_db,
    utc_text,
)
from transforms.catalogue import SUMMARIES, Summary
from transforms.usernames import normalize_username

log = logging.getLogger(__name__)

T = TypeVar("T")

# Whole-transaction retries when the server is waking up (Neon scales to zero and takes a few
# seconds to resume) or drops the connection; the last delay is about 4 s, ~7.5 s in total.
RETRY_DELAYS_SECONDS = (0.5, 1.0, 2.0, 4.0)
SNAPSHOT_ID_HEX = 20  # 80 bits of sha256: collision-free for any realistic number of snapshots
_MIGRATION_FILE = re.compile(r"(\d{4}_[a-z0-9_]+?)(?:\.(postgresql|sqlite))?\.sql")
_MIGRATION_LOCK = "chess-patterns:schema"

_PG_TYPES = {
    "text": "text",
    "integer": "bigint",
    "real": "double precision",
    "boolean": "boolean",
    "timestamp": "timestamptz",
    "date": "date",
}
_SQLITE_TYPES = {
    "text": "text",
    "integer": "integer",
    "real": "real",
    "boolean": "integer",
    "timestamp": "text",
    "date": "text",
}


class PublishError(RuntimeError):
    """A publish that did not happen; the previous snapshot is still the one served."""


class MigrationEditedError(RuntimeError):
    """An applied migration file no longer matches what was applied."""


@dataclass
class PublishReport:
    """What one publish left in the database."""

    username: str
    snapshot_id: str
    published_at: datetime
    rows: int
    bytes: int


# ---------------------------------------------------------------------------------------------
# schema


def _lock_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key (Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def _statements(body: str) -> list[str]:
    """The statements of a migration file (they hold no semicolons inside literals)."""
    code = "\n".join(line for line in body.splitlines() if not line.strip().startswith("--"))
    return [statement.strip() for statement in code.split(";") if statement.strip()]


def _migrations(dialect: Dialect) -> list[tuple[str, str]]:
    """(name, body) of each migration for this dialect, in order; 0000 is the ledger itself."""
    found: dict[str, str] = {}
    for path in sorted(SQL_DIR.glob("*.sql")):
        match = _MIGRATION_FILE.fullmatch(path.name)
        if not match or match.group(1).startswith("0000"):
            continue
        name, only = match.group(1), match.group(2)
        if only is None or only == dialect:
            found[name] = path.read_text(encoding="utf-8")
    return sorted(found.items())


def _summary_columns(summary: Summary) -> tuple[SummaryColumn, ...]:
    dims = {c.name for c in summary.dimensions}
    return tuple(
        SummaryColumn(
            c.name,
            c.type,
            c.description,
            "key" if c.name == "username" else "dimension" if c.name in dims else "metric",
        )
        for c in summary.columns
    )


def _summary_ddl(summary: Summary, dialect: Dialect) -> list[str]:
    types = _PG_TYPES if dialect == "postgresql" else _SQLITE_TYPES
    table = quote_ident(summary.table)
    cols = [
        f"{quote_ident(c.name)} {types[c.type]}{' not null' if c.name == 'username' else ''}"
        for c in summary.columns
    ]
    # ord keeps the warehouse's row order (e.g. most played first) and makes a non-null key even
    # when a dimension is null (an unknown opening variation).
    body = ", ".join([*cols, "ord integer not null", "snapshot_id text not null"])
    suffix = " without rowid" if dialect == "sqlite" else ""
    return [
        f"drop table if exists {table}",
        f"create table {table} ({body}, primary key (username, ord)){suffix}",
    ]


def _upgrade(conn: Connection, dialect: Dialect) -> list[str]:
    if dialect == "postgresql":
        conn.execute(sql("advisory_xact_lock"), {"key": _lock_key(_MIGRATION_LOCK)})
    for statement in _statements((SQL_DIR / "0000_schema_migrations.sql").read_text()):
        conn.exec_driver_sql(statement)
    applied = {row[0]: row[1] for row in conn.execute(sql("select_applied_migrations"))}
    done: list[str] = []
    for name, body in _migrations(dialect):
        checksum = hashlib.sha256(body.encode()).hexdigest()
        if name in applied:
            if applied[name] != checksum:
                raise MigrationEditedError(
                    f"migration {name} was changed after it was applied to this database; "
                    "never edit an applied migration: restore it and add a new one"
                )
            continue
        for statement in _statements(body):
            conn.exec_driver_sql(statement)
        conn.execute(
            sql("insert_migration"),
            {
                "name": name,
                "checksum": checksum,
                "applied_at": utc_text(datetime.now(UTC)),
            },
        )
        done.append(name)
    done.extend(_sync_summary_tables(conn, dialect))
    return done


def _sync_summary_tables(conn: Connection, dialect: Dialect) -> list[str]:
    """(Re)build summary_<name> tables whose version or columns changed: they are derived data."""
    recorded = fetch_definitions(conn)
    tables = set(inspect(conn).get_table_names())
    rebuilt: list[str] = []
    now = datetime.now(UTC)
    for summary in SUMMARIES:
        columns = _summary_columns(summary)
        old = recorded.get(summary.name)
        unchanged = (
            old is not None
            and old.version == summary.version
            and columns_json(old.columns) == columns_json(columns)
            and summary.table in tables
        )
        if not unchanged:
            for statement in _summary_ddl(summary, dialect):
                conn.exec_driver_sql(statement)
            rebuilt.append(f"{summary.table}@v{summary.version}")
        if (
            unchanged
            and old is not None
            and (old.title, old.definition)
            == (
                summary.title,
                summary.definition,
            )
        ):
            continue
        conn.execute(
            sql("upsert_definition"),
            {
                "name": summary.name,
                "version": summary.version,
                "title": summary.title,
                "definition": summary.definition,
                "columns": columns_json(columns),
                "table_name": summary.table,
                "updated_at": now if dialect == "postgresql" else utc_text(now),
            },
        )
    return rebuilt


def _is_transient(error: BaseException, dialect: Dialect) -> bool:
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if not isinstance(error, OperationalError):
        return False
    if dialect == "postgresql":
        return True  # connection refused/dropped, server starting up, admin shutdown
    message = str(error.orig).lower()
    return "locked" in message or "busy" in message


def _redacted(database_url: str) -> str:
    try:
        return make_url(database_url).render_as_string(hide_password=True)
    except Exception:
        return "<DATABASE_URL>"


def _with_retry(database_url: str, what: str, work: Callable[[Engine], T]) -> T:
    """Runs one whole transaction, again from the start while the failure is transient."""
    dialect = dialect_of(database_url)
    if dialect == "sqlite":
        sqlite_path(database_url).parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(database_url, read_only=False, pooled=False)
    try:
        for attempt, delay in enumerate((*RETRY_DELAYS_SECONDS, None), start=1):
            try:
                return work(engine)
            except DBAPIError as error:
                if delay is None or not _is_transient(error, dialect):
                    raise PublishError(
                        f"{what} on {_redacted(database_url)} failed after {attempt} attempt(s): "
                        f"{str(error.orig).strip() or type(error.orig).__name__}. "
                        "Nothing was changed; check that the database is reachable and retry."
                    ) from error
                log.warning("%s: transient database error, retry %d: %s", what, attempt, error)
                time.sleep(delay * (0.75 + random.random() / 2))
        raise AssertionError("unreachable")
    finally:
        engine.dispose()


def upgrade_schema(database_url: str) -> list[str]:
    """Applies pending migrations and rebuilds changed summary tables; returns what it applied."""

    def work(engine: Engine) -> list[str]:
        with engine.begin() as conn:
            return _upgrade(conn, dialect_of(database_url))

    return _with_retry(database_url, "upgrading the schema", work)


# ---------------------------------------------------------------------------------------------
# frames to rows


def _cast(frame: pl.DataFrame, name: str, kind: str, what: str) -> pl.Series:
    series = frame.get_column(name)
    dtype = series.dtype
    try:
        if kind == "timestamp":
            if dtype == pl.Date:
                series = series.cast(pl.Datetime("us"))
                dtype = series.dtype
            if not isinstance(dtype, pl.Datetime) and dtype != pl.Null:
                raise TypeError(f"expected a Datetime, got {dtype}")
            if dtype == pl.Null:
                return series.cast(pl.Datetime("us", "UTC"))
            assert isinstance(dtype, pl.Datetime)
            if dtype.time_zone is None:
                series = series.dt.replace_time_zone("UTC")
            return series.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
        if kind == "date":
            return series.cast(pl.Date, strict=True)
        target = {
            "text": pl.Utf8,
            "integer": pl.Int64,
            "real": pl.Float64,
            "boolean": pl.Boolean,
        }[kind]
        return series.cast(target, strict=True)
    except Exception as error:
        raise ValueError(
            f"{what}: column {name!r} ({dtype}) cannot be stored as {kind}: {error}"
        ) from error


def _frame_rows(
    frame: pl.DataFrame, columns: Sequence[tuple[str, str]], what: str
) -> list[tuple[Any, ...]]:
    casted = pl.DataFrame([_cast(frame, n, k, what) for n, k in columns])
    return casted.rows()


def _check_columns(frame: pl.DataFrame, wanted: Iterable[str], what: str, exact: bool) -> None:
    wanted = list(wanted)
    missing = [c for c in wanted if c not in frame.columns]
    extra = [c for c in frame.columns if c not in wanted] if exact else []
    if missing or extra:
        raise ValueError(
            f"{what} does not match its published columns: "
            + "; ".join(
                part
                for part in (
                    f"missing {missing}" if missing else "",
                    f"unexpected {extra} (add them to transforms/catalogue.py)" if extra else "",
                )
                if part
            )
        )


def _check_owner(frame: pl.DataFrame, username: str, what: str) -> None:
    others = frame.filter(pl.col("username") != username).get_column("username").unique()
    if len(others):
        raise ValueError(
            f"{what} holds rows of other players {sorted(others.to_list())[:5]}, "
            f"not only {username!r}; publish one player at a time"
        )


def _canonical(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return utc_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _digest_rows(digest: Any, label: str, rows: Iterable[Sequence[Any]]) -> None:
    digest.update(f"\x1e{label}\n".encode())
    for row in rows:
        digest.update(("\x1f".join(map(_canonical, row)) + "\n").encode())


def _row_bytes(row: Sequence[Any]) -> int:
    """A SQLite-side estimate of a row's stored size: text bytes, 8 per number, 1 per null."""
    size = 0
    for value in row:
        if value is None or isinstance(value, bool):
            size += 1
        elif isinstance(value, str):
            size += len(value.encode())
        elif isinstance(value, datetime):
            size += 27
        elif isinstance(value, date):
            size += 10
        else:
            size += 8
    return size


@dataclass
class _Prepared:
    username: str
    snapshot_id: str
    games: list[tuple[Any, ...]]  # GAMES_COLUMNS order with snapshot_id filled in
    summaries: dict[str, tuple[Summary, list[tuple[Any, ...]]]]  # columns..., ord, snapshot_id
    game_count: int
    first_game_at: datetime | None
    last_game_at: datetime | None

    @property
    def listing(self) -> list[dict[str, Any]]:
        return [
            {"name": name, "version": summary.version, "rows": len(rows)}
            for name, (summary, rows) in sorted(self.summaries.items())
        ]


def _prepare(
    username: str, summaries: Mapping[str, pl.DataFrame], games: pl.DataFrame
) -> _Prepared:
    by_name = {s.name: s for s in SUMMARIES}
    unknown = sorted(set(summaries) - set(by_name))
    if unknown:
        raise ValueError(
            f"unknown summaries {unknown}: known are {sorted(by_name)} (transforms/catalogue.py)"
        )
    game_cols = [(n, k) for n, k in GAMES_COLUMNS if n != "snapshot_id"]
    _check_columns(games, [n for n, _ in game_cols], f"the games frame of {username}", False)
    _check_owner(games, username, f"the games frame of {username}")
    # A game is keyed by its uuid: the same game twice (a month fetched twice) is published once.
    games = games.unique(subset=["game_id"], keep="last", maintain_order=True).sort("game_id")
    game_rows = _frame_rows(games, game_cols, f"the games frame of {username}")

    summary_rows: dict[str, tuple[Summary, list[tuple[Any, ...]]]] = {}
    for name in sorted(summaries):
        summary = by_name[name]
        frame = summaries[name]
        what = f"summary {name!r} of {username}"
        if "username" not in frame.columns:
            frame = frame.with_columns(pl.lit(username).alias("username"))
        _check_columns(frame, [c.name for c in summary.columns], what, True)
        _check_owner(frame, username, what)
        dims = [c.name for c in summary.dimensions]
        if dims and frame.select(dims).is_duplicated().any():
            raise ValueError(f"{what} has several rows for the same {dims}; fix its SQL")
        rows = _frame_rows(frame, [(c.name, c.type) for c in summary.columns], what)
        summary_rows[name] = (summary, rows)

    digest = hashlib.sha256()
    _digest_rows(digest, "games", game_rows)
    for name, (summary, rows) in summary_rows.items():
        _digest_rows(digest, f"{name}@v{summary.version}", rows)
    snapshot = digest.hexdigest()[:SNAPSHOT_ID_HEX]

    game_index = [n for n, _ in GAMES_COLUMNS].index("snapshot_id")
    full_games = [(*r[:game_index], snapshot, *r[game_index:]) for r in game_rows]
    full_summaries = {
        name: (summary, [(*r, i, snapshot) for i, r in enumerate(rows)])
        for name, (summary, rows) in summary_rows.items()
    }
    end_times = [t for t in games.get_column("end_time").to_list() if t is not None]
    return _Prepared(
        username=username,
        snapshot_id=snapshot,
        games=full_games,
        summaries=full_summaries,
        game_count=len(game_rows),
        first_game_at=min(end_times) if end_times else None,
        last_game_at=max(end_times) if end_times else None,
    )


# ---------------------------------------------------------------------------------------------
# the publish transaction


def _load(
    conn: Connection,
    dialect: Dialect,
    table: str,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[tuple[Any, ...]],
) -> None:
    if not rows:
        return
    names = ", ".join(quote_ident(n) for n, _ in columns)
    if dialect == "postgresql":
        driver = conn.connection.driver_connection
        assert driver is not None
        with (
            driver.cursor() as cursor,
            cursor.copy(f"copy {quote_ident(table)} ({names}) from stdin") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    kinds = [k for _, k in columns]
    encoded = [tuple(to_db(k, v, dialect) for k, v in zip(kinds, row, strict=True)) for row in rows]
    marks = ", ".join("?" for _ in columns)
    conn.exec_driver_sql(f"insert into {quote_ident(table)} ({names}) values ({marks})", encoded)


def _summary_table_columns(summary: Summary) -> list[tuple[str, str]]:
    return [(c.name, str(c.type)) for c in summary.columns] + [
        ("ord", "integer"),
        ("snapshot_id", "text"),
    ]


def _publish(conn: Connection, dialect: Dialect, prepared: _Prepared) -> PublishReport:
    username = prepared.username
    if dialect == "postgresql":
        conn.execute(sql("advisory_xact_lock"), {"key": _lock_key(f"publish:{username}")})
    definitions = fetch_definitions(conn)
    current = fetch_player(conn, username)
    total_rows = len(prepared.games) + sum(len(r) for _, r in prepared.summaries.values())
    if (
        current is not None
        and current["snapshot_id"] == prepared.snapshot_id
        and current["summaries"] == prepared.listing
        and all(
            d.version == s.version
            for d in definitions.values()
            for s, _ in prepared.summaries.values()
            if d.name == s.name
        )
        and conn.execute(
            sql("count_player_games"),
            {"username": username, "snapshot_id": prepared.snapshot_id},
        ).scalar_one()
        == prepared.game_count
    ):
        # Identical content is already the served snapshot: leave it, and its published_at, alone.
        return PublishReport(
            username,
            prepared.snapshot_id,
            current["published_at"],
            total_rows,
            current["published_bytes"],
        )

    conn.execute(sql("delete_player_games"), {"username": username})
    for definition in definitions.values():
        conn.execute(
            text(f"delete from {quote_ident(definition.table)} where username = :username"),
            {"username": username},
        )
    _load(conn, dialect, "games", GAMES_COLUMNS, prepared.games)
    for summary, rows in prepared.summaries.values():
        _load(conn, dialect, summary.table, _summary_table_columns(summary), rows)

    if dialect == "postgresql":
        size = int(conn.execute(sql("games_bytes_postgresql"), {"username": username}).scalar_one())
        for summary, _ in prepared.summaries.values():
            size += int(
                conn.execute(
                    text(
                        "select coalesce(sum(pg_column_size(t.*)), 0) "
                        f"from {quote_ident(summary.table)} as t where t.username = :username"
                    ),
                    {"username": username},
                ).scalar_one()
            )
    else:
        size = sum(map(_row_bytes, prepared.games)) + sum(
            _row_bytes(r) for _, rows in prepared.summaries.values() for r in rows
        )

    published_at = datetime.now(UTC)

    def stored(value: datetime | None) -> Any:
        if value is None or dialect == "postgresql":
            return value
        return utc_text(value)

    conn.execute(
        sql("upsert_player"),
        {
            "username": username,
            "snapshot_id": prepared.snapshot_id,
            "published_at": stored(published_at),
            "game_count": prepared.game_count,
            "first_game_at": stored(prepared.first_game_at),
            "last_game_at": stored(prepared.last_game_at),
            "summaries": json.dumps(prepared.listing, separators=(",", ":")),
            "published_bytes": size,
        },
    )
    return PublishReport(username, prepared.snapshot_id, published_at, total_rows, size)


def publish_player(
    database_url: str,
    username: str,
    summaries: Mapping[str, pl.DataFrame],
    games: pl.DataFrame,
) -> PublishReport:
    """Replaces one player's published rows in one transaction and moves the snapshot pointer.

    Readers see the previous snapshot until the commit and the new one after it; a failure
    (after bounded retries of the whole transaction) leaves the previous snapshot in place.
    """
    username = normalize_username(username)
    prepared = _prepare(username, summaries, games)
    upgrade_schema(database_url)
    dialect = dialect_of(database_url)

    def work(engine: Engine) -> PublishReport:
        with engine.begin() as conn:
            return _publish(conn, dialect, prepared)

    report = _with_retry(database_url, f"publishing {username}", work)
    log.info(
        "published %s: snapshot %s, %d rows, %d bytes",
        username,
        report.snapshot_id,
        report.rows,
        report.bytes,
    )
    return report


# ---------------------------------------------------------------------------------------------
# reading back (the `report` command)


def _reader(database_url: str) -> Engine | None:
    if dialect_of(database_url) == "sqlite" and not sqlite_path(database_url).exists():
        return None
    return make_engine(database_url, read_only=True, pooled=False)


def _has_schema(conn: Connection) -> bool:
    return bool(inspect(conn).has_table("players"))


def read_player(database_url: str, username: str) -> dict[str, Any] | None:
    """The published profile of a player (snapshot id, published at, summaries...), or None."""
    username = normalize_username(username)
    engine = _reader(database_url)
    if engine is None:
        return None
    try:
        with engine.connect() as conn:
            if not _has_schema(conn):
                return None
            return fetch_player(conn, username)
    finally:
        engine.dispose()


def read_summary_rows(database_url: str, username: str, name: str) -> list[dict[str, Any]]:
    """One player's published rows of a summary, as dicts of its columns; [] if none."""
    username = normalize_username(username)
    engine = _reader(database_url)
    if engine is None:
        return []
    try:
        with engine.connect() as conn:
            if not _has_schema(conn):
                return []
            definitions: dict[str, SummaryDefinition] = fetch_definitions(conn)
            definition = definitions.get(name)
            if definition is None:
                raise ValueError(f"no summary named {name!r}: published are {sorted(definitions)}")
            _, rows = fetch_summary_rows(conn, definition, username)
            return rows
    finally:
        engine.dispose()

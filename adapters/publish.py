"""Publishes a player's summaries and games to PostgreSQL or SQLite in one transaction."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import polars as pl
from sqlalchemy import Connection, Engine, text

from adapters.database import Database, Dialect, PublishError, lock_key
from adapters.db import (
    ENGINE_GAME_COLUMNS,
    GAMES_COLUMNS,
    fetch_definitions,
    fetch_player,
    quote_ident,
    sql,
    to_db,
    utc_text,
)
from adapters.migrations import (
    MigrationEditedError,
    Registry,
    SchemaNotCurrentError,
    ensure_schema,
    require_current_schema,
    upgrade_schema,
)
from transforms.registry import SUMMARIES, ColumnType, Summary
from transforms.schema import POLARS_TYPES
from transforms.usernames import normalize_username

__all__ = [
    "MigrationEditedError",
    "PublishError",
    "PublishReport",
    "SchemaNotCurrentError",
    "publish_player",
    "upgrade_schema",
]

log = logging.getLogger(__name__)

SNAPSHOT_ID_HEX = 20  # 80 bits of sha256: collision-free for any realistic number of snapshots
# Games become Python rows this many at a time (digest, then COPY/insert), so a publish holds one
# batch of row tuples, not the whole history's (200,000 games as tuples took ~1 GB).
GAMES_BATCH = 5_000


@dataclass
class PublishReport:
    """What one publish left in the database."""

    username: str
    snapshot_id: str
    published_at: datetime
    rows: int
    bytes: int


# ---------------------------------------------------------------------------------------------
# frames to rows


def _cast(frame: pl.DataFrame, name: str, kind: ColumnType, what: str) -> pl.Series:
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
        return series.cast(POLARS_TYPES[kind], strict=True)
    except Exception as error:
        raise ValueError(
            f"{what}: column {name!r} ({dtype}) cannot be stored as {kind}: {error}"
        ) from error


def _frame_rows(
    frame: pl.DataFrame, columns: Sequence[tuple[str, ColumnType]], what: str
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
                    f"unexpected {extra} (add them to transforms/registry.py)" if extra else "",
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
    _digest_rows_body(digest, rows)


def _digest_rows_body(digest: Any, rows: Iterable[Sequence[Any]]) -> None:
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
class _GameRows:
    """A player's games as published: one row per game_id (its last copy), in game_id order,
    produced in batches of GAMES_BATCH row tuples (GAMES_COLUMNS order, snapshot_id empty
    until `snapshot` is set)."""

    frame: pl.DataFrame
    order: pl.Series  # row positions in `frame`: the last copy of each game_id, by game_id
    what: str
    snapshot: str | None = None

    def __len__(self) -> int:
        return len(self.order)

    def batches(self) -> Iterator[list[tuple[Any, ...]]]:
        columns = [(n, k) for n, k in GAMES_COLUMNS if n != "snapshot_id"]
        at = [n for n, _ in GAMES_COLUMNS].index("snapshot_id")
        for start in range(0, len(self.order), GAMES_BATCH):
            part = self.frame.select(pl.all().gather(self.order.slice(start, GAMES_BATCH)))
            rows = _frame_rows(part, columns, self.what)
            if self.snapshot is None:
                yield rows
            else:
                yield [(*r[:at], self.snapshot, *r[at:]) for r in rows]

    def rows(self) -> Iterator[tuple[Any, ...]]:
        for batch in self.batches():
            yield from batch


@dataclass
class _Prepared:
    username: str
    snapshot_id: str
    games: _GameRows  # GAMES_COLUMNS order with snapshot_id filled in
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
    username: str, summaries: Mapping[str, pl.DataFrame], games: pl.DataFrame, registry: Registry
) -> _Prepared:
    by_name = {s.name: s for s in registry}
    unknown = sorted(set(summaries) - set(by_name))
    if unknown:
        raise ValueError(
            f"unknown summaries {unknown}: known are {sorted(by_name)} (transforms/registry.py)"
        )
    game_cols = [(n, k) for n, k in GAMES_COLUMNS if n != "snapshot_id"]
    games = games.with_columns(
        pl.lit(None, pl.Float64).alias(name) for name in ENGINE_GAME_COLUMNS if name not in games
    )
    _check_columns(games, [n for n, _ in game_cols], f"the games frame of {username}", False)
    _check_owner(games, username, f"the games frame of {username}")
    # A game is keyed by its uuid: the same game twice (a month fetched twice) is published once,
    # as its last copy; games go out in game_id order. Only the positions are computed here: the
    # rows are built batch by batch (_GameRows), never all at once.
    order = (
        games.select(pl.col("game_id"))
        .with_row_index("_at")
        .group_by("game_id")
        .agg(pl.col("_at").last())
        .sort("game_id")
        .get_column("_at")
    )
    game_rows = _GameRows(games, order, f"the games frame of {username}")

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
    digest.update(b"\x1egames\n")
    for batch in game_rows.batches():
        _digest_rows_body(digest, batch)
    for name, (summary, rows) in summary_rows.items():
        _digest_rows(digest, f"{name}@v{summary.version}", rows)
    snapshot = digest.hexdigest()[:SNAPSHOT_ID_HEX]

    game_rows.snapshot = snapshot
    full_summaries = {
        name: (summary, [(*r, i, snapshot) for i, r in enumerate(rows)])
        for name, (summary, rows) in summary_rows.items()
    }
    end_times = [t for t in games.get_column("end_time").gather(order).to_list() if t is not None]
    return _Prepared(
        username=username,
        snapshot_id=snapshot,
        games=game_rows,
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
    batches: Iterable[Sequence[tuple[Any, ...]]],
) -> None:
    """Write the rows, batch by batch, inside the caller's transaction (one COPY on PostgreSQL)."""
    names = ", ".join(quote_ident(n) for n, _ in columns)
    if dialect == "postgresql":
        driver = conn.connection.driver_connection
        assert driver is not None
        with (
            driver.cursor() as cursor,
            cursor.copy(f"copy {quote_ident(table)} ({names}) from stdin") as copy,
        ):
            for rows in batches:
                for row in rows:
                    copy.write_row(row)
        return
    kinds = [k for _, k in columns]
    marks = ", ".join("?" for _ in columns)
    for rows in batches:
        if not rows:
            continue
        encoded = [
            tuple(to_db(k, v, dialect) for k, v in zip(kinds, row, strict=True)) for row in rows
        ]
        conn.exec_driver_sql(
            f"insert into {quote_ident(table)} ({names}) values ({marks})", encoded
        )


def _summary_table_columns(summary: Summary) -> list[tuple[str, ColumnType]]:
    return [(c.name, c.type) for c in summary.columns] + [
        ("ord", "integer"),
        ("snapshot_id", "text"),
    ]


# PostgreSQL page layout: 8 kB pages with a 24-byte header; btree pages also keep 16 bytes of
# special space and fill leaves to 90 % (the default fillfactor) when keys arrive in order.
_PAGE = 8192
_HEAP_USABLE = _PAGE - 24
_BTREE_USABLE = (_PAGE - 24 - 16) * 0.90


def _postgres_bytes(conn: Connection, username: str, prepared: _Prepared) -> int:
    """The disk a player's published rows take on PostgreSQL, estimated row by row (so it does
    not depend on other players or on dead rows awaiting vacuum): each heap tuple as stored
    (header, padding, line pointer) and each index entry, scaled up by the space a page keeps
    for itself. Checked against the growth of pg_total_relation_size when an identical player
    is published (tests/adapters/test_publish.py)."""
    heap, indexes = conn.execute(sql("games_bytes_postgresql"), {"username": username}).one()
    heap, indexes = int(heap), int(indexes)
    for summary, rows in prepared.summaries.values():
        if not rows:
            continue
        table_heap, table_index = conn.execute(
            text(
                "select coalesce(sum((pg_column_size(t.*) + 7) / 8 * 8 + 4), 0), "
                # the primary key (username, ord): an 8-byte entry header, the keys, a pointer
                "coalesce(sum((8 + pg_column_size(t.username) + 4 + 7) / 8 * 8 + 4), 0) "
                f"from {quote_ident(summary.table)} as t where t.username = :username"
            ),
            {"username": username},
        ).one()
        heap, indexes = heap + int(table_heap), indexes + int(table_index)
    return round(heap * _PAGE / _HEAP_USABLE + indexes * _PAGE / _BTREE_USABLE)


def _publish(
    conn: Connection, database: Database, prepared: _Prepared, registry: Registry
) -> PublishReport:
    username = prepared.username
    dialect = database.dialect
    if dialect == "postgresql":
        conn.execute(sql("advisory_xact_lock"), {"key": lock_key(f"publish:{username}")})
    # Checked inside the transaction: a publish never rebuilds tables, it refuses a stale schema.
    require_current_schema(conn, database, registry)
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
    if len(prepared.games):
        _load(conn, dialect, "games", GAMES_COLUMNS, prepared.games.batches())
    for summary, rows in prepared.summaries.values():
        if rows:
            _load(conn, dialect, summary.table, _summary_table_columns(summary), [rows])

    if dialect == "postgresql":
        size = _postgres_bytes(conn, username, prepared)
    else:
        size = sum(map(_row_bytes, prepared.games.rows())) + sum(
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
    database: Database,
    username: str,
    summaries: Mapping[str, pl.DataFrame],
    games: pl.DataFrame,
    *,
    registry: Registry = SUMMARIES,
) -> PublishReport:
    """Replaces one player's published rows in one transaction and moves the snapshot pointer.

    Readers see the previous snapshot until the commit and the new one after it; a failure
    (after bounded retries of the whole transaction) leaves the previous snapshot in place.
    registry: the summaries there are (the real one unless a test passes its own).
    """
    username = normalize_username(username)
    prepared = _prepare(username, summaries, games, registry)
    ensure_schema(database, registry=registry)

    def work(engine: Engine) -> PublishReport:
        with engine.begin() as conn:
            return _publish(conn, database, prepared, registry)

    report = database.with_retry(f"publishing {username}", work)
    log.info(
        "published %s: snapshot %s, %d rows, %d bytes",
        username,
        report.snapshot_id,
        report.rows,
        report.bytes,
    )
    return report

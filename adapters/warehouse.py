"""The DuckDB warehouse: every registered summary, computed in memory from a player's lake."""

from __future__ import annotations

import glob as globlib
import re
import zoneinfo
from functools import cache
from pathlib import Path

import duckdb
import polars as pl

from transforms.catalogue import SUMMARIES, ColumnType, Summary
from transforms.usernames import normalize_username

SQL_DIR = Path(__file__).resolve().parents[1] / "sql" / "warehouse"

_POLARS_TYPES: dict[ColumnType, pl.DataType] = {
    "text": pl.Utf8(),
    "integer": pl.Int64(),
    "real": pl.Float64(),
    "boolean": pl.Boolean(),
    "timestamp": pl.Datetime("us", "UTC"),
    "date": pl.Date(),
}
_PARAMETER = re.compile(r"\$([a-z_]+)")


class SummarySqlError(RuntimeError):
    """A summary's SQL returned columns that differ from its registry entry."""


@cache
def _sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def _statements(text: str) -> list[str]:
    """Split a script on the semicolons that end a line (no SQL here puts one inside a string)."""
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    return [part.strip() for part in re.split(r";\s*\n", body + "\n") if part.strip()]


def _bound(sql: str, params: dict[str, object]) -> dict[str, object]:
    """Only the parameters a statement names: DuckDB rejects unused ones."""
    return {key: params[key] for key in sorted(set(_PARAMETER.findall(sql)))}


def _check_timezone(timezone: str) -> str:
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{timezone!r} is not an IANA time zone; use a name like 'Europe/Paris' or 'UTC' "
            "(PLAYER_TIMEZONES / DEFAULT_TIMEZONE)."
        ) from None
    return timezone


def _connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    # One thread makes every floating-point sum add in the same order, so a re-run publishes
    # bit-identical numbers (with several threads the last digits of means vary run to run).
    con.execute("set threads = 1")
    # Hours and days are taken in UTC unless a summary converts to the player's zone explicitly.
    con.execute("set timezone = 'UTC'")
    for statement in _statements(_sql("_schema")):
        con.execute(statement)
    return con


def _table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = con.execute(
        "select column_name from information_schema.columns where table_name = $t "
        "order by ordinal_position",
        {"t": table},
    ).fetchall()
    return [str(row[0]) for row in rows]


def _insert(
    con: duckdb.DuckDBPyConnection, table: str, source: str, available: set[str], username: str
) -> None:
    """Insert the contract columns a source carries; columns it lacks stay null."""
    wanted = [c for c in _table_columns(con, table) if c in available]
    if "username" not in available:
        raise ValueError(f"the {table} input has no `username` column; it is not a {table} frame")
    cols = ", ".join(f'"{c}"' for c in wanted)
    con.execute(
        f"insert into {table} ({cols}) select {cols} from {source} "
        "where lower(username) = $username",
        {"username": username},
    )


def _load_parquet(con: duckdb.DuckDBPyConnection, table: str, pattern: str, username: str) -> None:
    files = sorted(globlib.glob(pattern))
    if not files:
        return  # a player with no moves files (or no games yet) still gets every summary
    con.execute(
        "create or replace temp view source_files as "
        f"select * from read_parquet({_list_literal(files)}, union_by_name = true, "
        "hive_partitioning = false)"
    )
    available = {str(row[0]) for row in con.execute("describe source_files").fetchall()}
    _insert(con, table, "source_files", available, username)


def _list_literal(files: list[str]) -> str:
    # Views cannot hold bound parameters; the paths come from glob over our own lake, and single
    # quotes are doubled so any path is a valid literal.
    return "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"


def _run_all(
    con: duckdb.DuckDBPyConnection, username: str, timezone: str
) -> dict[str, pl.DataFrame]:
    params: dict[str, object] = {"username": username, "timezone": timezone}
    for statement in _statements(_sql("_base")):
        con.execute(statement, _bound(statement, params))
    return {summary.name: _run_one(con, summary, params) for summary in SUMMARIES}


def _run_one(
    con: duckdb.DuckDBPyConnection, summary: Summary, params: dict[str, object]
) -> pl.DataFrame:
    sql = _sql(summary.name)
    relation = con.sql(sql, params=_bound(sql, params))
    if relation is None:
        raise SummarySqlError(f"sql/warehouse/{summary.name}.sql must end with a select")
    frame = pl.DataFrame(pl.from_arrow(relation.to_arrow_table()))
    expected = [c.name for c in summary.columns]
    if frame.columns != expected:
        raise SummarySqlError(
            f"sql/warehouse/{summary.name}.sql returned columns {frame.columns}, but the registry "
            f"(transforms/catalogue.py) lists {expected}; make them agree."
        )
    return frame.select(
        pl.col(c.name).cast(_POLARS_TYPES[c.type], strict=True) for c in summary.columns
    )


def _prepare(username: str, timezone: str) -> tuple[duckdb.DuckDBPyConnection, str, str]:
    user = normalize_username(username)
    tz = _check_timezone(timezone)
    con = _connect()
    return con, user, tz


def compute_summaries(
    games_glob: str, moves_glob: str, username: str, timezone: str = "UTC"
) -> dict[str, pl.DataFrame]:
    """Every summary of one player, in catalogue order, from the Parquet files the globs match."""
    con, user, tz = _prepare(username, timezone)
    try:
        _load_parquet(con, "games", games_glob, user)
        _load_parquet(con, "moves", moves_glob, user)
        return _run_all(con, user, tz)
    finally:
        con.close()


def compute_summaries_from_frames(
    games: pl.DataFrame, moves: pl.DataFrame, username: str, timezone: str = "UTC"
) -> dict[str, pl.DataFrame]:
    """The same SQL over in-memory frames (tests, benchmarks)."""
    con, user, tz = _prepare(username, timezone)
    try:
        for table, frame in (("games", games), ("moves", moves)):
            if frame.width == 0:
                continue
            con.register(f"{table}_frame", frame)
            _insert(con, table, f"{table}_frame", set(frame.columns), user)
            con.unregister(f"{table}_frame")
        return _run_all(con, user, tz)
    finally:
        con.close()

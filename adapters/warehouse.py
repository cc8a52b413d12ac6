"""The DuckDB warehouse: every registered summary from a player's lake, in bounded memory."""

from __future__ import annotations

import contextlib
import glob as globlib
import re
import tempfile
import zoneinfo
from collections.abc import Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Literal

import duckdb
import polars as pl

from transforms.registry import SUMMARIES, Summary
from transforms.schema import POLARS_TYPES
from transforms.usernames import normalize_username

SQL_DIR = Path(__file__).resolve().parents[1] / "sql" / "warehouse"

_PARAMETER = re.compile(r"\$([a-z_]+)")
# DuckDB's own memory (buffer pool and operators) per computation; past it, it spills to disk.
# Not lower: under ~400 MB DuckDB already partitions opening_tree's aggregate for the largest
# fixture player (18,216 games), which adds its float sums in another order and changes the
# last digit of published numbers (measured: 192, 256, 320, 384 MB differ; 448, 512 MB do not).
MEMORY_LIMIT = "448MB"


Table = Literal["games", "moves"]
EngineTable = Literal["engine_moves", "engine_games"]


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


def _connect(workdir: Path) -> duckdb.DuckDBPyConnection:
    """A DuckDB database in a file of its own under `workdir`, with bounded memory: its tables
    (every move of the history) live in the file and are paged in as queries read them, and an
    operator that outgrows MEMORY_LIMIT spills to `workdir`, so memory does not grow with the
    history (an in-memory database held every move: 585 MB at 20,000 games, growing linearly)."""
    con = duckdb.connect(
        str(workdir / "warehouse.duckdb"),
        config={"memory_limit": MEMORY_LIMIT, "temp_directory": str(workdir / "spill")},
    )
    for statement in _statements(_sql("_schema")):
        con.execute(statement)
    return con


def _execute(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, object]) -> None:
    """Run every statement of sql/warehouse/<name>.sql with the parameters each one names."""
    for statement in _statements(_sql(name)):
        con.execute(statement, _bound(statement, params))


def _columns(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, object]) -> list[str]:
    """The result columns of the one query in sql/warehouse/<name>.sql."""
    (statement,) = _statements(_sql(name))
    cursor = con.execute(statement, _bound(statement, params))
    return [str(column[0]) for column in cursor.description or ()]


def _insert(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    source: Literal["parquet", "frame"],
    available: set[str],
    params: dict[str, object],
) -> None:
    """Insert the contract columns a source carries; columns it lacks stay null."""
    if "username" not in available:
        raise ValueError(f"the {table} input has no `username` column; it is not a {table} frame")
    (statement,) = _statements(_sql("_table_columns"))
    rows = con.execute(statement, {"table": table}).fetchall()
    columns = [str(row[0]) for row in rows]
    _execute(con, f"_load_{table}_{source}", {**params, "columns": columns})


def _load_parquet(
    con: duckdb.DuckDBPyConnection, table: Table, pattern: str, username: str
) -> None:
    files = sorted(globlib.glob(pattern))
    if not files:
        return  # a player with no moves files (or no games yet) still gets every summary
    params: dict[str, object] = {"files": files, "username": username}
    available = set(_columns(con, "_parquet_columns", params))
    _insert(con, table, "parquet", available, params)


def _load_engine(
    con: duckdb.DuckDBPyConnection,
    engine_moves: pl.DataFrame | None,
    engine_games: pl.DataFrame | None,
) -> None:
    """The engine facts of the analysed games (transforms/engine.py); none leaves them empty."""
    inputs: tuple[tuple[EngineTable, pl.DataFrame | None], ...] = (
        ("engine_moves", engine_moves),
        ("engine_games", engine_games),
    )
    for table, frame in inputs:
        if frame is None or frame.is_empty():
            continue
        (statement,) = _statements(_sql("_table_columns"))
        columns = [str(row[0]) for row in con.execute(statement, {"table": table}).fetchall()]
        con.register(f"{table}_frame", frame)
        _execute(con, f"_load_{table}_frame", {"columns": columns})
        con.unregister(f"{table}_frame")


def _run_all(
    con: duckdb.DuckDBPyConnection, username: str, timezone: str, registry: Sequence[Summary]
) -> dict[str, pl.DataFrame]:
    params: dict[str, object] = {"username": username, "timezone": timezone}
    _execute(con, "_base", params)
    return {summary.name: _run_one(con, summary, params) for summary in registry}


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
            f"(transforms/registry.py) lists {expected}; make them agree."
        )
    return frame.select(
        pl.col(c.name).cast(POLARS_TYPES[c.type], strict=True) for c in summary.columns
    )


@contextlib.contextmanager
def _session(username: str, timezone: str) -> Iterator[tuple[duckdb.DuckDBPyConnection, str, str]]:
    """(connection, username, time zone) for one computation; the database file and anything
    spilled are removed afterwards."""
    user = normalize_username(username)
    tz = _check_timezone(timezone)
    with tempfile.TemporaryDirectory(prefix="chess-patterns-duckdb-") as workdir:
        con = _connect(Path(workdir))
        try:
            yield con, user, tz
        finally:
            con.close()


def compute_summaries(
    games_glob: str,
    moves_glob: str,
    username: str,
    timezone: str = "UTC",
    *,
    registry: Sequence[Summary] = SUMMARIES,
    engine_moves: pl.DataFrame | None = None,
    engine_games: pl.DataFrame | None = None,
) -> dict[str, pl.DataFrame]:
    """Every summary of one player, in registry order, from the Parquet files the globs match.

    registry: the summaries to compute (the real one unless a test passes its own).
    `engine_moves` / `engine_games` are the engine facts of the analysed games
    (transforms.engine.move_facts / game_facts); without them the engine summaries are empty.
    """
    with _session(username, timezone) as (con, user, tz):
        _load_parquet(con, "games", games_glob, user)
        _load_parquet(con, "moves", moves_glob, user)
        _load_engine(con, engine_moves, engine_games)
        return _run_all(con, user, tz, registry)


def compute_summaries_from_frames(
    games: pl.DataFrame,
    moves: pl.DataFrame,
    username: str,
    timezone: str = "UTC",
    *,
    registry: Sequence[Summary] = SUMMARIES,
    engine_moves: pl.DataFrame | None = None,
    engine_games: pl.DataFrame | None = None,
) -> dict[str, pl.DataFrame]:
    """The same SQL over in-memory frames (tests, benchmarks)."""
    with _session(username, timezone) as (con, user, tz):
        inputs: tuple[tuple[Table, pl.DataFrame], ...] = (("games", games), ("moves", moves))
        for table, frame in inputs:
            if frame.width == 0:
                continue
            # the name sql/warehouse/_load_<table>_frame.sql reads from
            con.register(f"{table}_frame", frame)
            _insert(con, table, "frame", set(frame.columns), {"username": user})
            con.unregister(f"{table}_frame")
        _load_engine(con, engine_moves, engine_games)
        return _run_all(con, user, tz, registry)

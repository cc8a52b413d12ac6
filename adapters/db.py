"""Published-table plumbing shared by the publisher and the API: SQL files, row codecs, reads."""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adapters.database import Dialect
from transforms.games_table import PUBLISHED_GAME_COLUMNS

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from transforms.registry import ColumnType, Role

# SQLAlchemy is imported inside the functions that use it: the API's PostgreSQL path does not
# need it, and it is a third of the API's import time.

SQL_DIR = Path(__file__).resolve().parents[1] / "sql" / "serving"

# The games table, in table order (sql/serving/0001_core.*.sql): the frame contract's columns.
GAMES_COLUMNS = PUBLISHED_GAME_COLUMNS

_IDENT = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_NAME_LINE = re.compile(r"^-- name: (\w+)\s*$", re.MULTILINE)


def quote_ident(name: str) -> str:
    """A double-quoted identifier; names come from the registry, and are checked anyway."""
    if not _IDENT.fullmatch(name):
        raise ValueError(f"{name!r} is not a valid table or column name (lowercase, a-z0-9_)")
    return f'"{name}"'


@functools.cache
def queries() -> dict[str, str]:
    """The named statements of sql/serving/queries.sql."""
    body = (SQL_DIR / "queries.sql").read_text(encoding="utf-8")
    parts = _NAME_LINE.split(body)
    return {parts[i]: parts[i + 1].strip().rstrip(";") for i in range(1, len(parts), 2)}


def sql(name: str) -> Any:
    """A bound-parameter statement from queries.sql."""
    return _compiled(name)


@functools.cache
def _compiled(name: str) -> Any:
    from sqlalchemy import text

    return text(queries()[name])


def utc_text(value: datetime) -> str:
    """Fixed-width ISO 8601 UTC, so that SQLite text sorts like the timestamps it holds."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def to_db(kind: str, value: Any, dialect: Dialect) -> Any:
    """A Python value as stored in the given dialect."""
    if value is None or dialect == "postgresql":
        return value
    if kind == "timestamp" and isinstance(value, datetime):
        return utc_text(value)
    if kind == "date" and isinstance(value, date):
        return value.isoformat()
    if kind == "boolean":
        return int(bool(value))
    return value


def from_db(kind: str, value: Any) -> Any:
    """A stored value as Python: timestamps tz-aware UTC, dates, booleans, ints, floats, text."""
    if value is None:
        return None
    if kind == "timestamp":
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if isinstance(value, datetime):
            return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        return value
    if kind == "date":
        if isinstance(value, datetime):
            return value.date()
        return date.fromisoformat(value) if isinstance(value, str) else value
    if kind == "boolean":
        return bool(value)
    if kind == "integer":
        return int(value)
    if kind == "real":
        return float(value)
    return value


@dataclass(frozen=True)
class SummaryColumn:
    """One column of a published summary table, as recorded in summary_definitions: the
    registry's column (transforms.registry.Column) and its role; the API reads these, never the
    registry itself."""

    name: str
    type: ColumnType
    description: str
    role: Role


@dataclass(frozen=True)
class SummaryDefinition:
    """A summary as recorded in summary_definitions (what the API serves)."""

    name: str
    version: int
    title: str
    definition: str
    columns: tuple[SummaryColumn, ...]
    table: str

    @property
    def dimensions(self) -> tuple[SummaryColumn, ...]:
        return tuple(c for c in self.columns if c.role == "dimension")

    def column(self, name: str) -> SummaryColumn | None:
        return next((c for c in self.columns if c.name == name), None)

    @functools.cached_property
    def digest(self) -> str:
        """A short hash of everything a response shows of the definition (title, text, version,
        columns): part of the API's ETags, so a changed definition never answers 304."""
        text = "\x1f".join(
            (self.name, str(self.version), self.title, self.definition, columns_json(self.columns))
        )
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def columns_json(columns: Sequence[SummaryColumn]) -> str:
    """The stored form of a summary's columns (also what the publisher compares on upgrade)."""
    return json.dumps(
        [
            {"name": c.name, "type": c.type, "description": c.description, "role": c.role}
            for c in columns
        ],
        separators=(",", ":"),
    )


def definition_from_row(row: Any) -> SummaryDefinition:
    """A summary_definitions row (a mapping) as a SummaryDefinition."""
    columns = tuple(
        SummaryColumn(c["name"], c["type"], c.get("description", ""), c["role"])
        for c in json.loads(row["columns"])
    )
    return SummaryDefinition(
        name=row["name"],
        version=int(row["version"]),
        title=row["title"],
        definition=row["definition"],
        columns=columns,
        table=row["table_name"],
    )


def fetch_definitions(conn: Connection) -> dict[str, SummaryDefinition]:
    """Every summary definition recorded in the database, by name."""
    rows = conn.execute(sql("select_definitions")).mappings()
    return {d.name: d for d in map(definition_from_row, rows)}


_PLAYER_TYPES = {
    "published_at": "timestamp",
    "first_game_at": "timestamp",
    "last_game_at": "timestamp",
    "game_count": "integer",
    "published_bytes": "integer",
}


def fetch_player(conn: Connection, username: str) -> dict[str, Any] | None:
    """The players row of one (normalised) username, decoded; None if never published."""
    row = conn.execute(sql("select_player"), {"username": username}).mappings().first()
    if row is None:
        return None
    player = {k: from_db(_PLAYER_TYPES.get(k, "text"), v) for k, v in row.items()}
    player["summaries"] = json.loads(player["summaries"])
    return player


def summary_select(definition: SummaryDefinition) -> Any:
    """The statement reading one player's rows of a summary, in the order they were published."""
    cols = ", ".join(quote_ident(c.name) for c in definition.columns)
    from sqlalchemy import text

    return text(
        f"select snapshot_id, {cols} from {quote_ident(definition.table)} "
        "where username = :username order by ord"
    )


def fetch_summary_rows(
    conn: Connection, definition: SummaryDefinition, username: str
) -> tuple[str | None, list[dict[str, Any]]]:
    """One player's rows of a summary (one statement, so one snapshot) and their snapshot id."""
    result = conn.execute(summary_select(definition), {"username": username})
    kinds = [c.type for c in definition.columns]
    names = [c.name for c in definition.columns]
    snapshot: str | None = None
    rows: list[dict[str, Any]] = []
    for raw in result:
        snapshot = raw[0]
        rows.append({n: from_db(k, v) for n, k, v in zip(names, kinds, raw[1:], strict=True)})
    return snapshot, rows


PLAYER_COLUMNS = (
    "username",
    "snapshot_id",
    "published_at",
    "game_count",
    "first_game_at",
    "last_game_at",
    "summaries",
    "published_bytes",
)


def decode_player(values: Sequence[Any]) -> dict[str, Any]:
    """A players row (PLAYER_COLUMNS order) as Python values."""
    player = {
        k: from_db(_PLAYER_TYPES.get(k, "text"), v)
        for k, v in zip(PLAYER_COLUMNS, values, strict=True)
    }
    player["summaries"] = json.loads(player["summaries"])
    return player


def player_with_rows_sql(definition: SummaryDefinition, placeholder: str) -> str:
    """One statement (so one snapshot under any isolation level): the player row joined to its
    rows of a summary; `placeholder` is the driver's parameter marker for the username."""
    player = ", ".join(f"p.{quote_ident(c)}" for c in PLAYER_COLUMNS)
    rows = ", ".join(f"s.{quote_ident(c.name)}" for c in definition.columns)
    return (
        f"select {player}, s.snapshot_id, s.ord, {rows} "
        f"from players as p left join {quote_ident(definition.table)} as s "
        f"on s.username = p.username and s.snapshot_id = p.snapshot_id "
        f"where p.username = {placeholder} order by s.ord"
    )


def decode_player_with_rows(
    definition: SummaryDefinition, records: Sequence[Sequence[Any]], *, typed: bool = False
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The profile and rows of a player_with_rows_sql result.

    typed=True: the driver already returns Python types (psycopg does), so only timestamps are
    touched (normalised to UTC); this is the API's cold path, so it avoids per-value calls.
    """
    if not records:
        return None, []
    width = len(PLAYER_COLUMNS)
    profile = decode_player(records[0][:width])
    names = [c.name for c in definition.columns]
    present = [r for r in records if r[width + 1] is not None]  # ord null: no rows of this summary
    if not typed:
        kinds = [c.type for c in definition.columns]
        return profile, [
            {n: from_db(k, v) for n, k, v in zip(names, kinds, r[width + 2 :], strict=True)}
            for r in present
        ]
    rows = [dict(zip(names, r[width + 2 :], strict=True)) for r in present]
    stamps = [c.name for c in definition.columns if c.type == "timestamp"]
    for row in rows:
        for name in stamps:
            row[name] = from_db("timestamp", row[name])
    return profile, rows

"""Schema migrations of the published database: versioned SQL files and summary tables.

Free of Polars on purpose: `chess-patterns serve` and `db upgrade` import this, and must start fast.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, inspect

from adapters.database import Database, Dialect, PublishError, lock_key
from adapters.db import (
    SQL_DIR,
    SummaryColumn,
    columns_json,
    fetch_definitions,
    quote_ident,
    sql,
    utc_text,
)
from transforms.registry import SUMMARIES, Summary

Registry = Sequence[Summary]

log = logging.getLogger(__name__)

__all__ = [
    "MigrationEditedError",
    "PublishError",
    "SchemaNotCurrentError",
    "ensure_schema",
    "pending_changes",
    "require_current_schema",
    "upgrade_schema",
]
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


class MigrationEditedError(RuntimeError):
    """An applied migration file no longer matches what was applied."""


# ---------------------------------------------------------------------------------------------
# schema


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
    return tuple(
        SummaryColumn(c.name, c.type, c.description, summary.role(c)) for c in summary.columns
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


def _upgrade(conn: Connection, dialect: Dialect, registry: Registry) -> list[str]:
    if dialect == "postgresql":
        conn.execute(sql("advisory_xact_lock"), {"key": lock_key(_MIGRATION_LOCK)})
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
    done.extend(_sync_summary_tables(conn, dialect, registry))
    return done


def _sync_summary_tables(conn: Connection, dialect: Dialect, registry: Registry) -> list[str]:
    """(Re)build summary_<name> tables whose version or columns changed: they are derived data."""
    recorded = fetch_definitions(conn)
    tables = set(inspect(conn).get_table_names())
    rebuilt: list[str] = []
    now = datetime.now(UTC)
    for summary in registry:
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


def upgrade_schema(database: Database, *, registry: Registry = SUMMARIES) -> list[str]:
    """Applies pending migrations and rebuilds changed summary tables; returns what it applied.

    registry: the summaries to publish (the real one unless a test passes its own)."""

    def work(engine: Engine) -> list[str]:
        with engine.begin() as conn:
            return _upgrade(conn, database.dialect, registry)

    return database.with_retry("upgrading the schema", work)


class SchemaNotCurrentError(PublishError):
    """The published database needs `chess-patterns db upgrade` before a publish."""


def pending_changes(
    conn: Connection, dialect: Dialect, registry: Registry = SUMMARIES
) -> list[str]:
    """What `upgrade_schema` would apply (migrations, summary tables), read without writing."""
    names = set(inspect(conn).get_table_names())
    wanted = _migrations(dialect)
    if "schema_migrations" not in names:
        return [name for name, _ in wanted]
    applied = {row[0]: row[1] for row in conn.execute(sql("select_applied_migrations"))}
    pending = [
        name
        for name, body in wanted
        if applied.get(name) != hashlib.sha256(body.encode()).hexdigest()
    ]
    if "summary_definitions" not in names:
        return pending + [f"{s.table}@v{s.version}" for s in registry]
    recorded = fetch_definitions(conn)
    for summary in registry:
        old = recorded.get(summary.name)
        current = (
            old is not None
            and summary.table in names
            and (old.version, old.title, old.definition, columns_json(old.columns))
            == (
                summary.version,
                summary.title,
                summary.definition,
                columns_json(_summary_columns(summary)),
            )
        )
        if not current:
            pending.append(f"{summary.table}@v{summary.version}")
    return pending


def require_current_schema(
    conn: Connection, database: Database, registry: Registry = SUMMARIES
) -> None:
    """Raises SchemaNotCurrentError (one line, says what to run) unless nothing is pending."""
    pending = pending_changes(conn, database.dialect, registry)
    if pending:
        raise SchemaNotCurrentError(
            f"the published database {database} is not at the current schema "
            f"(pending: {', '.join(pending[:5])}{', ...' if len(pending) > 5 else ''}): "
            "run `chess-patterns db upgrade` with DATABASE_URL set to the direct (not pooled) "
            "URL, then publish again"
        )


def ensure_schema(database: Database, *, registry: Registry = SUMMARIES) -> list[str]:
    """Before a publish: SQLite (the embedded default, where a newcomer has no separate step) is
    upgraded on the spot when needed; PostgreSQL is left alone, as its migrations belong on the
    direct URL (`db upgrade`): the publish transaction checks it (require_current_schema)."""
    if database.dialect != "sqlite":
        return []
    if database.exists():
        engine = database.reader().engine()
        try:
            with engine.connect() as conn:
                if not pending_changes(conn, "sqlite", registry):
                    return []
        finally:
            engine.dispose()
    return upgrade_schema(database, registry=registry)

"""The no-op check: is a player's lake and summary registry what its published snapshot came from?

Light on purpose (no Polars, no DuckDB): a refresh that changed nothing must not pay their import.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from sqlalchemy import inspect

from adapters.database import Database
from adapters.db import SQL_DIR, fetch_player
from adapters.raw_store import atomic_write
from transforms.registry import SUMMARIES
from transforms.usernames import normalize_username

# Beside the lake's tables (adapters/lake.py lays out <root>/<table>/username=<u>/month=<m>/).
MARKER_DIR = "_published"
WAREHOUSE_SQL = SQL_DIR.parent / "warehouse"


def _registry_digest() -> str:
    """Every summary's name and version, and the SQL that computes them (edited SQL counts)."""
    digest = hashlib.sha256()
    for summary in SUMMARIES:
        digest.update(f"{summary.name}@{summary.version}\n".encode())
    for path in sorted(WAREHOUSE_SQL.glob("*.sql")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def source_fingerprint(lake_root: Path, username: str, timezone: str, database: Database) -> str:
    """What the summaries of a player are computed from: every lake partition (its tag and its
    files' size and mtime), the summary registry, the time zone and the publish target."""
    user = normalize_username(username)
    digest = hashlib.sha256()
    digest.update(f"{user}\0{timezone}\0{database.url}\0{_registry_digest()}\0".encode())
    for table in ("games", "moves"):
        base = Path(lake_root) / table / f"username={user}"
        for path in sorted(base.glob("month=*/*")):
            stat = path.stat()
            digest.update(f"{table}/{path.parent.name}/{path.name}:{stat.st_size}:".encode())
            digest.update(str(stat.st_mtime_ns).encode())
            if path.name.endswith(".json"):
                digest.update(path.read_bytes())
    return digest.hexdigest()


def _marker_path(lake_root: Path, username: str) -> Path:
    return Path(lake_root) / MARKER_DIR / f"{normalize_username(username)}.json"


def record_published(lake_root: Path, username: str, fingerprint: str, snapshot_id: str) -> None:
    """After a publish: the snapshot now served was computed from `fingerprint`."""
    path = _marker_path(lake_root, username)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"fingerprint": fingerprint, "snapshot_id": snapshot_id}
    atomic_write(path, json.dumps(body, sort_keys=True).encode())


def _published_snapshot(database: Database, username: str) -> str | None:
    if not database.exists():
        return None
    engine = database.reader().engine()
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("players"):
                return None
            player = fetch_player(conn, username)
    finally:
        engine.dispose()
    return None if player is None else str(player["snapshot_id"])


def unchanged_snapshot(
    lake_root: Path, username: str, fingerprint: str, database: Database
) -> str | None:
    """The published snapshot id when it was computed from this very fingerprint, else None."""
    try:
        marker = json.loads(_marker_path(lake_root, username).read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(marker, dict) or marker.get("fingerprint") != fingerprint:
        return None
    # Someone may have published another snapshot since (or dropped the player): ask the target.
    published = _published_snapshot(database, normalize_username(username))
    return published if published is not None and published == marker.get("snapshot_id") else None

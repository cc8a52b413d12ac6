"""What a refresh leaves behind, read back in a form two runs can be compared by.

The raw store by the bytes of every month file, the lake by its rows, the published database by
each player's snapshot and the rows of every table that holds the player (counted, so a duplicate
or a leftover shows).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from tests.conftest import REPO

TEST_USER_AGENT = "chess-patterns-reliability (ci@example.invalid)"


@dataclass(frozen=True)
class State:
    """A data folder's content: raw month bytes, lake rows, published rows."""

    raw: dict[str, str]
    lake: dict[str, pl.DataFrame]
    published: dict[str, object]


def cli_env(base_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a refresh subprocess: data under data_dir, the embedded SQLite."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CHESSCOM_", "PREFECT_API", "DATABASE_URL", "API_DATABASE", "REDIS"))
    }
    env.update(
        CHESSCOM_BASE_URL=base_url,
        CHESSCOM_USER_AGENT=TEST_USER_AGENT,
        CHESSCOM_RETRY_BUDGET_SECONDS="4",
        CHESSCOM_TIMEOUT_SECONDS="1",
        DATA_DIR=str(data_dir),
        PARSE_WORKERS="2",
    )
    env.update(extra)
    return env


def run_cli(
    *args: str, env: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_cli(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    """A refresh in its own process group, so a kill reaches its parse workers too."""
    return subprocess.Popen(
        [sys.executable, "-m", "cli", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def kill_group(process: subprocess.Popen[str]) -> None:
    """SIGKILL the process and every process it started."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)


def _raw(data_dir: Path) -> dict[str, str]:
    root = data_dir / "raw"
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("[0-9][0-9].json"))
    }


def _partition(path: Path) -> pl.DataFrame:
    """One lake file's rows with its partition keys (username=..., month=... in the path)."""
    frame = pl.read_parquet(path)
    keys = dict(part.split("=", 1) for part in path.parts if "=" in part)
    return frame.with_columns(
        [pl.lit(value).alias(key) for key, value in keys.items() if key not in frame.columns]
    )


def _lake(data_dir: Path) -> dict[str, pl.DataFrame]:
    tables: dict[str, pl.DataFrame] = {}
    root = data_dir / "lake"
    for table in sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        files = sorted((root / table).rglob("*.parquet"))
        if not files:
            continue
        frame = pl.concat([_partition(f) for f in files], how="diagonal_relaxed")
        tables[table] = frame.sort(frame.columns)
    return tables


def _published(data_dir: Path) -> dict[str, object]:
    database = data_dir / "patterns.sqlite"
    if not database.exists():
        return {}
    with sqlite3.connect(database) as conn:
        players = sorted(
            conn.execute("SELECT username, snapshot_id, game_count FROM players").fetchall()
        )
        out: dict[str, object] = {"players": players}
        for (table,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND (name = 'games' "
            "OR name LIKE 'summary\\_%' ESCAPE '\\') AND name != 'summary_definitions'"
        ):
            out[table] = sorted(
                conn.execute(
                    f'SELECT username, snapshot_id, count(*) FROM "{table}" GROUP BY 1, 2'
                ).fetchall()
            )
        # No game is published twice for a player.
        out["duplicate_games"] = conn.execute(
            "SELECT count(*) FROM (SELECT username, game_id FROM games "
            "GROUP BY 1, 2 HAVING count(*) > 1)"
        ).fetchone()
    return out


def read_state(data_dir: Path) -> State:
    return State(_raw(data_dir), _lake(data_dir), _published(data_dir))


def assert_same_state(got: State, want: State) -> None:
    assert got.raw == want.raw, "the raw store differs from a clean run's"
    assert got.lake.keys() == want.lake.keys()
    for table, frame in want.lake.items():
        assert got.lake[table].equals(frame), f"lake table {table} differs from a clean run's"
    assert got.published == want.published, "the published database differs from a clean run's"

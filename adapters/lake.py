"""The Parquet lake: one games and one moves partition per player and month, written atomically."""

from __future__ import annotations

import io
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from adapters.raw_store import atomic_write
from transforms.archive import ParsedMonth
from transforms.schema import (
    GAMES_SCHEMA,
    MOVES_SCHEMA,
    PARSER_VERSION,
    SCHEMA_VERSION,
    conform,
    empty_frame,
)

PART_FILE = "part.parquet"
# Written last, after both Parquet files: its presence with the right sha256 and parser version
# is what makes a month "parsed" (a crash before it only costs a re-parse).
META_FILE = "_lake.json"
# The summaries' names in the order they were computed (the catalogue's order).
ORDER_FILE = "_summaries.json"


class Lake:
    """`<root>/games/username=<user>/month=<YYYY-MM>/part.parquet`, the same under `moves/`, and
    `<root>/summaries/username=<user>/<summary>.parquet`, the summarise stage's output."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _partition(self, table: str, username: str, month: str) -> Path:
        return self.root / table / f"username={username.lower()}" / f"month={month}"

    def games_glob(self, username: str) -> str:
        return str(self.root / "games" / f"username={username.lower()}" / "*" / "*.parquet")

    def moves_glob(self, username: str) -> str:
        return str(self.root / "moves" / f"username={username.lower()}" / "*" / "*.parquet")

    def write_month(self, username: str, month: str, parsed: ParsedMonth, raw_sha256: str) -> None:
        """Replace the month's partitions; each file appears whole or not at all."""
        games = conform(parsed.games, GAMES_SCHEMA)
        moves = conform(parsed.moves, MOVES_SCHEMA)
        meta: dict[str, Any] = {
            "raw_sha256": raw_sha256,
            "parser_version": PARSER_VERSION,
            "schema_version": SCHEMA_VERSION,
            "games": games.height,
            "moves": moves.height,
            "parse_errors": int(games["parse_error"].is_not_null().sum()),
            "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        kv = {key: str(value) for key, value in meta.items()}
        games_dir = self._partition("games", username, month)
        moves_dir = self._partition("moves", username, month)
        _atomic_parquet(moves, moves_dir / PART_FILE, kv)
        _atomic_parquet(games, games_dir / PART_FILE, kv)
        atomic_write(
            games_dir / META_FILE, json.dumps(meta, indent=1, sort_keys=True).encode("utf-8")
        )

    def meta(self, username: str, month: str) -> dict[str, Any] | None:
        """The tags of a month's partitions (sha256, parser version, counts), or None."""
        path = self._partition("games", username, month) / META_FILE
        try:
            data = json.loads(path.read_bytes())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def needs_parse(self, username: str, month: str, raw_sha256: str) -> bool:
        """True unless the month was parsed from these exact bytes by this parser version."""
        meta = self.meta(username, month)
        if meta is None:
            return True
        if not (self._partition("moves", username, month) / PART_FILE).is_file():
            return True
        if not (self._partition("games", username, month) / PART_FILE).is_file():
            return True
        return not (
            meta.get("raw_sha256") == raw_sha256
            and meta.get("parser_version") == PARSER_VERSION
            and meta.get("schema_version") == SCHEMA_VERSION
        )

    def months(self, username: str) -> list[str]:
        """Months with a partition in either table, sorted."""
        found: set[str] = set()
        for table in ("games", "moves"):
            base = self.root / table / f"username={username.lower()}"
            if base.is_dir():
                found.update(
                    p.name.removeprefix("month=")
                    for p in base.iterdir()
                    if p.is_dir() and p.name.startswith("month=")
                )
        return sorted(found)

    def remove_month(self, username: str, month: str) -> None:
        """Delete the month's partitions (games first, so a half-removed month is re-parsed)."""
        for table in ("games", "moves"):
            shutil.rmtree(self._partition(table, username, month), ignore_errors=True)

    def _summaries_dir(self, username: str) -> Path:
        return self.root / "summaries" / f"username={username.lower()}"

    def write_summaries(self, username: str, summaries: dict[str, pl.DataFrame]) -> None:
        """Replace the player's summaries, one Parquet file each, so publish can read them by key.

        Files of summaries no longer computed are removed, so a read sees this set only.
        """
        directory = self._summaries_dir(username)
        for name, frame in summaries.items():
            _atomic_parquet(frame, directory / f"{name}.parquet", {})
        wanted = {f"{name}.parquet" for name in summaries}
        for path in directory.glob("*.parquet"):
            if path.name not in wanted:
                path.unlink(missing_ok=True)
        atomic_write(directory / ORDER_FILE, json.dumps(list(summaries)).encode("utf-8"))

    def read_summaries(self, username: str) -> dict[str, pl.DataFrame]:
        """The summaries of the last `write_summaries`, in the order they were written."""
        directory = self._summaries_dir(username)
        try:
            names = json.loads((directory / ORDER_FILE).read_bytes())
        except FileNotFoundError:
            return {}
        return {name: pl.read_parquet(directory / f"{name}.parquet") for name in names}

    def read_games(self, username: str) -> pl.DataFrame:
        """All of a player's games (every month), or an empty frame with the contract schema."""
        return self._read(self.games_glob(username), GAMES_SCHEMA)

    def read_moves(self, username: str) -> pl.DataFrame:
        """All of a player's moves (every month), or an empty frame with the contract schema."""
        return self._read(self.moves_glob(username), MOVES_SCHEMA)

    @staticmethod
    def _read(pattern: str, schema: pl.Schema) -> pl.DataFrame:
        files = sorted(Path(pattern).parent.parent.glob("month=*/*.parquet"))
        if not files:
            return empty_frame(schema)
        frame = pl.read_parquet([str(f) for f in files], hive_partitioning=False)
        return conform(frame, schema)


def _atomic_parquet(frame: pl.DataFrame, path: Path, metadata: dict[str, str]) -> None:
    """Write the partition through the one atomic writer (temp file, fsync, rename, dir fsync).

    The Parquet bytes are built in memory first (a month's partition is a few MB), so the
    durability rules live in `raw_store.atomic_write` alone.
    """
    buffer = io.BytesIO()
    frame.write_parquet(buffer, compression="zstd", statistics=True, metadata=metadata)
    atomic_write(path, buffer.getvalue())

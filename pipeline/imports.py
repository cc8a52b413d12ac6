"""The import stage: check every file first, then merge its games into the raw store's months."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters.raw_store import MonthSource, MonthStatus
from pipeline.ports import RawStore
from transforms.imports import (
    ImportFormatError,
    games_from_bytes,
    merge_month,
    month_body,
    month_of_epoch,
    players,
)
from transforms.usernames import normalize_username


@dataclass
class ImportReport:
    """What one `import` did."""

    username: str
    months_written: list[str] = field(default_factory=list)
    games_added: int = 0
    games_already_present: int = 0
    games_read: int = 0


def read_import_file(path: Path) -> list[dict[str, Any]]:
    """Game objects from a monthly JSON body (or a JSON list of games) or a PGN file."""
    path = Path(path)
    if not path.is_file():
        raise ImportFormatError(f"{path}: no such file")
    return games_from_bytes(str(path), path.read_bytes())


def import_games(
    store: RawStore, username: str, files: Sequence[tuple[str, list[dict[str, Any]]]]
) -> ImportReport:
    """Merge already-read files (name, games) into the store, each game once.

    Every file is checked before anything is written (ImportFormatError otherwise). Games land
    in the month of their UTC end time, merged with what that month already holds, sorted by
    end time. A month later fetched from Chess.com replaces the imported file.
    """
    user = normalize_username(username)
    incoming: dict[str, list[dict[str, Any]]] = {}
    report = ImportReport(username=user)
    for name, games in files:
        if games and not any(user in players(g) for g in games):
            raise ImportFormatError(
                f"{name}: none of its {len(games)} games has {user!r} as White or Black; "
                "check the username"
            )
        report.games_read += len(games)
        for game in games:
            incoming.setdefault(month_of_epoch(game["end_time"]), []).append(game)
    with store.lock(user):
        for month in sorted(incoming):
            stored = (
                json.loads(store.read_month(user, month))["games"]
                if store.has_month(user, month)
                else []
            )
            merged, added, present = merge_month(stored, incoming[month])
            report.games_added += added
            report.games_already_present += present
            if merged is None:
                continue
            store.write_month(
                user,
                month,
                month_body(merged),
                source=MonthSource.IMPORT,
                status=MonthStatus.IMPORTED,
            )
            report.months_written.append(month)
    return report


def import_files(store: RawStore, username: str, files: Sequence[Path]) -> ImportReport:
    """Import monthly JSON bodies and PGN exports into the raw store (see `import_games`).

    Every file is read and checked before anything is written: a bad file loses nothing.
    """
    return import_games(store, username, [(str(p), read_import_file(p)) for p in files])


__all__ = ["ImportFormatError", "ImportReport", "import_files", "import_games", "read_import_file"]

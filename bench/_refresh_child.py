"""One refresh of one player, run by bench_backfill.py in its own process, announcing its stages.

Usage: python bench/_refresh_child.py DATA_DIR DATABASE_URL BASE_URL PLAYER MARKS_FILE WORKERS

Runs the real `pipeline.refresh.refresh_player` (what `chess-patterns refresh` runs without a
Prefect server); the stage functions it calls are wrapped only to append
{"stage", "event", "at"} lines (time.monotonic) to MARKS_FILE, so the parent can attribute its
memory samples to stages. Prints the outcome as one JSON line.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def main() -> None:
    data_dir, database_url, base_url, player, marks_path, workers = sys.argv[1:7]
    marks = open(marks_path, "a", buffering=1)  # noqa: SIM115 - open for the whole run

    def emit(stage: str, event: str) -> None:
        marks.write(json.dumps({"stage": stage, "event": event, "at": time.monotonic()}) + "\n")

    emit("startup", "start")
    from pipeline import refresh as stages
    from settings import Settings

    def wrap(stage: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            emit(stage, "start")
            try:
                return function(*args, **kwargs)
            finally:
                emit(stage, "end")

        return wrapped

    # The stage functions run_player looks up in its module at call time.
    for attribute, stage in (
        ("fetch_player", "ingest"),
        ("parse_player", "parse"),
        ("summarise_player", "summaries"),
        ("publish_player", "publish"),
    ):
        setattr(stages, attribute, wrap(stage, getattr(stages, attribute)))

    settings = Settings(
        _env_file=None,
        data_dir=Path(data_dir),
        database_url=database_url,
        chesscom_base_url=base_url,
        parse_workers=int(workers),
    )
    emit("startup", "end")
    start = time.perf_counter()
    outcome = stages.refresh_player(settings, player)
    wall = time.perf_counter() - start
    emit("refresh", "end")
    marks.close()
    parse = outcome.parse
    ingest = outcome.fetch
    print(
        json.dumps(
            {
                "wall_s": wall,
                "ok": outcome.ok,
                "error": outcome.error,
                "warnings": outcome.warnings[:5],
                "games": parse.games if parse else None,
                "moves": parse.moves if parse else None,
                "months_parsed": len(parse.months_parsed) if parse else None,
                "months_skipped": len(parse.months_skipped) if parse else None,
                "ingest": repr(ingest)[:300] if ingest else None,
                "published_rows": outcome.publish.rows if outcome.publish else None,
                # A no-op refresh publishes nothing and names the snapshot it left in place.
                "snapshot_id": (
                    outcome.publish.snapshot_id if outcome.publish else outcome.unchanged
                ),
                "unchanged": outcome.unchanged is not None,
            }
        )
    )


if __name__ == "__main__":
    main()

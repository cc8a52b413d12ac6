"""Shared test helpers for the ingestion tests: a Settings builder, stages over real adapters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from adapters.chesscom import ChessComClient
from adapters.lake import Lake
from adapters.raw_store import RawStore, now_utc
from pipeline import fetch, imports, parse
from settings import Settings

TEST_USER_AGENT = "chess-patterns-tests/1.0 (tests@example.com)"
# Port 9 (discard) on loopback: nothing answers, so a test that forgets the mirror fails fast.
UNREACHABLE_BASE_URL = "http://127.0.0.1:9/pub"


def make_settings(
    tmp_path: Path, base_url: str = UNREACHABLE_BASE_URL, **overrides: object
) -> Settings:
    """Settings for one test: data under `tmp_path`, a contact User-Agent, short budgets."""
    values: dict[str, object] = {
        "chesscom_base_url": base_url,
        "chesscom_user_agent": TEST_USER_AGENT,
        "data_dir": tmp_path / "data",
        "chesscom_retry_budget_seconds": 3.0,
        "chesscom_timeout_seconds": 2.0,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def fetch_player(
    settings: Settings,
    username: str,
    *,
    full: bool = False,
    client: ChessComClient | None = None,
    now: datetime | None = None,
    lock_timeout: float = 300.0,
) -> fetch.FetchReport:
    """The fetch stage over the real client (the mirror) and a raw store under `settings`."""
    own = client is None
    source = client if client is not None else ChessComClient(settings)
    try:
        return fetch.fetch_player(
            source,
            RawStore(settings.raw_dir),
            username,
            full=full,
            now=now or now_utc(),
            revalidate_after_days=settings.revalidate_after_days,
            lock_timeout=lock_timeout,
        )
    finally:
        if own:
            source.close()


def import_files(settings: Settings, username: str, files: Sequence[Path]) -> imports.ImportReport:
    """The import stage into the raw store under `settings`."""
    return imports.import_files(RawStore(settings.raw_dir), username, files)


def build_lake(settings: Settings, username: str) -> parse.ParseReport:
    """The parse stage from the raw store to the lake under `settings`."""
    return parse.parse_player(
        RawStore(settings.raw_dir),
        Lake(settings.lake_dir),
        username,
        workers=settings.parse_workers,
    )

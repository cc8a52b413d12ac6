"""The one settings object, read from the environment (or `.env`) at the entry points."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

VERSION = "0.1.0"
DEFAULT_USER_AGENT = (
    f"chess-patterns/{VERSION} (Chess Pattern Analyzer; operator: set CHESSCOM_USER_AGENT)"
)


class Settings(BaseSettings):
    """Every setting of the analyzer; field names map to upper-case environment variables."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    chesscom_base_url: str = Field(
        "https://api.chess.com/pub",
        description="PubAPI root; point it at a local mirror to run offline.",
    )
    chesscom_user_agent: str = Field(
        DEFAULT_USER_AGENT,
        description="Sent on every request; Chess.com blocks anonymous clients: add a contact.",
    )
    chesscom_min_interval_seconds: float = Field(
        0.0, ge=0, description="Minimum pause between two requests to Chess.com."
    )
    chesscom_timeout_seconds: float = Field(
        30.0, gt=0, description="Connect/read timeout of one request to Chess.com."
    )
    chesscom_retry_budget_seconds: float = Field(
        120.0,
        ge=0,
        description="Total time one request may spend retrying 429, 5xx and network faults.",
    )
    revalidate_after_days: int = Field(
        30,
        ge=0,
        description="Stored months older than the current and previous one are asked again only "
        "after this many days (or with --full).",
    )
    data_dir: Path = Field(Path("./data"), description="Raw store, lake and local databases.")
    database_url: str | None = Field(
        None,
        description="Where summaries are published; default sqlite:///<DATA_DIR>/patterns.sqlite. "
        "A postgresql:// URL (Neon) in production.",
    )
    api_database_url: str | None = Field(
        None,
        description="The API's own connection: in production a role that may only SELECT. "
        "Default: DATABASE_URL, opened read-only.",
    )
    redis_url: str | None = Field(
        None, description="Optional shared cache for the API; without it, an in-process cache."
    )
    player_timezones: dict[str, str] = Field(
        default_factory=dict,
        description='Time zone per player for time_of_day, as JSON: {"hikaru": "Europe/Oslo"}.',
    )
    default_timezone: str = Field("UTC", description="Time zone of players not listed.")
    parse_workers: int = Field(
        default_factory=lambda: max(1, min(2, os.cpu_count() or 1)),
        ge=1,
        description="Worker processes that parse months in a backfill.",
    )
    stockfish_path: str | None = Field(
        None,
        description="The UCI engine binary; default: `stockfish` on PATH, else "
        "/usr/games/stockfish "
        "(Debian's package).",
    )
    engine_nodes: int = Field(
        20_000,
        ge=1,
        description="Nodes the engine searches per position: a fixed node limit (not time), so "
        "the same game gets the same evaluations on every run and machine.",
    )
    engine_hash_mb: int = Field(16, ge=1, description="Hash table of each engine process, in MB.")
    engine_budget_games: int = Field(
        100,
        ge=0,
        description="Games analysed per refresh, newest first (0: no engine analysis); the rest "
        "wait for later refreshes.",
    )
    engine_workers: int = Field(
        default_factory=lambda: max(1, min(2, os.cpu_count() or 1)),
        ge=1,
        description="Engine processes analysing side by side (one thread each).",
    )
    engine_batch_games: int = Field(
        10, ge=1, description="Games per engine batch (one task on the Dask cluster)."
    )
    dask_scheduler_address: str | None = Field(
        None,
        description="An existing Dask scheduler (tcp://host:8786) for the engine flow; default: a "
        "local cluster of ENGINE_WORKERS processes.",
    )
    api_cache_max_age_seconds: int = Field(
        30, ge=0, description="Cache-Control max-age of API responses."
    )
    api_rate_limit_per_minute: int = Field(
        6000, ge=1, description="Requests per minute one client address may make to the API."
    )

    @property
    def resolved_database_url(self) -> str:
        """The publish target, defaulting to the embedded SQLite file under DATA_DIR."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'patterns.sqlite').resolve()}"

    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "raw" / "chesscom"

    @property
    def lake_dir(self) -> Path:
        return self.data_dir / "lake"

    def timezone_for(self, username: str) -> str:
        return self.player_timezones.get(username.lower(), self.default_timezone)

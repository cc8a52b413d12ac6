"""Shared test helpers for the ingestion tests: one Settings builder."""

from __future__ import annotations

from pathlib import Path

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

"""The Prefect flow runs the same stages as the direct path and publishes the same numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.database import Database
from adapters.reads import read_player, read_summary_rows
from mirror import running_mirror


def test_flow_refreshes_a_player_and_reports_an_unknown_one(
    prefect_harness: None, fixtures_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.refresh import refresh_flow

    database_url = f"sqlite:///{tmp_path / 'published.sqlite'}"
    with running_mirror(fixtures_dir) as mirror:
        monkeypatch.setenv("CHESSCOM_BASE_URL", mirror.base_url)
        monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
        monkeypatch.setenv("DATABASE_URL", database_url)
        outcomes = refresh_flow(["wizardchiken", "nosuchplayer404"])

    by_name = {outcome.username: outcome for outcome in outcomes}
    assert by_name["wizardchiken"].error is None
    assert by_name["nosuchplayer404"].error is not None
    assert "nosuchplayer404" in by_name["nosuchplayer404"].error

    player = read_player(Database.from_url(database_url), "wizardchiken")
    assert player is not None
    assert player["game_count"] == 15  # fixtures README: wizardchiken 2023/01 has 15 games
    overall = [
        row
        for row in read_summary_rows(Database.from_url(database_url), "wizardchiken", "results")
        if row["time_class"] == "all" and row["color"] == "all"
    ]
    assert [row["games"] for row in overall] == [15]
    assert read_player(Database.from_url(database_url), "nosuchplayer404") is None

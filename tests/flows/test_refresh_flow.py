"""The Prefect flows: a task per stage, a run per player, honest Failed states, artifacts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.database import Database
from adapters.reads import read_player, read_summary_rows
from adapters.roster import add_player
from mirror import running_mirror
from settings import Settings


def _settings(tmp_path: Path, base_url: str) -> Settings:
    return Settings(
        chesscom_base_url=base_url,
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'published.sqlite'}",
        chesscom_retry_budget_seconds=2,
    )


def _flow_runs(flow_name: str) -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName

    with get_client(sync_client=True) as client:
        return client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])), limit=200
        )


def _artifact(key: str) -> list[dict[str, str]]:
    import json

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key]))
        )
    assert found, f"no artifact {key}"
    data = found[0].data
    rows = json.loads(data) if isinstance(data, str) else data
    assert isinstance(rows, list)
    return rows


def test_roster_run_fails_naming_the_player_and_refreshes_the_other(
    prefect_harness: None, fixtures_dir: Path, tmp_path: Path
) -> None:
    from flows.refresh import refresh_players, using_settings

    with running_mirror(fixtures_dir) as mirror:
        settings = _settings(tmp_path, mirror.base_url)
        with using_settings(settings):
            state = refresh_players(["wizardchiken", "nosuchplayer404"], return_state=True)

    # The parent is Failed, and says who and why; the good player was published anyway.
    assert state.is_failed()
    assert state.message is not None
    assert "nosuchplayer404" in state.message
    assert "404" in state.message
    assert "wizardchiken" not in state.message.split(":")[0]
    database = Database.from_settings(settings)
    player = read_player(database, "wizardchiken")
    assert player is not None
    assert player["game_count"] == 15  # fixtures README: wizardchiken 2023/01 has 15 games
    overall = [
        row
        for row in read_summary_rows(database, "wizardchiken", "results")
        if row["time_class"] == "all" and row["color"] == "all"
    ]
    assert [row["games"] for row in overall] == [15]
    assert read_player(database, "nosuchplayer404") is None

    # Each player is its own flow run, named for what ran, and its state tells the truth.
    today = f"{datetime.now(UTC):%Y-%m-%d}"
    runs = {run.name: run for run in _flow_runs("refresh-player")}
    assert runs[f"refresh-wizardchiken-{today}"].state.is_completed()
    assert runs[f"refresh-nosuchplayer404-{today}"].state.is_failed()

    table = {row["item"]: row["value"] for row in _artifact("refresh-wizardchiken")}
    assert table["games parsed"] == "15"
    assert table["months fetched"] == table["months listed"]
    assert table["snapshot id"] == player["snapshot_id"]
    assert {"seconds fetch", "seconds parse", "seconds summarise", "seconds publish"} <= set(table)
    overview = {row["player"]: row for row in _artifact("refresh-roster")}
    assert overview["wizardchiken"]["state"] == "refreshed"
    assert overview["nosuchplayer404"]["state"] == "FAILED"


def test_unreachable_chesscom_fails_the_player_run(
    prefect_harness: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    from flows.refresh import refresh_player, using_settings

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = _settings(tmp_path, f"http://127.0.0.1:{port}/pub")
    with using_settings(settings):
        state = refresh_player("shaunchess123", return_state=True)
    assert state.is_failed()
    assert state.message is not None
    assert "shaunchess123" in state.message
    assert "cannot connect" in state.message
    assert read_player(Database.from_settings(settings), "shaunchess123") is None


def test_roster_flow_refreshes_tracked_players_in_their_time_zone(
    prefect_harness: None, fixtures_dir: Path, tmp_path: Path
) -> None:
    from flows.refresh import refresh_players, using_settings

    with running_mirror(fixtures_dir) as mirror:
        settings = _settings(tmp_path, mirror.base_url)
        add_player(Database.from_settings(settings), "wizardchiken", "Pacific/Kiritimati")
        with using_settings(settings):
            outcomes = refresh_players()
    assert [o.username for o in outcomes] == ["wizardchiken"]
    rows = read_summary_rows(Database.from_settings(settings), "wizardchiken", "time_of_day")
    assert rows, "time_of_day published"
    # The roster's zone, not DEFAULT_TIMEZONE (UTC): the `local` rows are in Kiritimati.
    assert {row["timezone"] for row in rows if row["zone"] == "local"} == {"Pacific/Kiritimati"}


def test_a_month_that_failed_fails_the_run_after_publishing_the_rest(
    prefect_harness: None, fixtures_dir: Path, tmp_path: Path
) -> None:
    from flows.refresh import refresh_player, using_settings
    from mirror import Fault

    faults = {"/pub/player/shaunchess123/games/2023/07": [Fault.http(404, times=None)]}
    with running_mirror(fixtures_dir, faults=faults) as mirror:
        settings = _settings(tmp_path, mirror.base_url)
        with using_settings(settings):
            state = refresh_player("shaunchess123", return_state=True)
    assert state.is_failed()
    assert state.message is not None
    assert "2023-07" in state.message
    # The other months were published: every game of the fixture but July 2023's.
    import json

    month_dir = fixtures_dir / "shaunchess123"
    total = sum(len(json.loads(p.read_bytes())["games"]) for p in month_dir.glob("*/*.json"))
    july = len(json.loads((month_dir / "2023" / "07.json").read_bytes())["games"])
    player = read_player(Database.from_settings(settings), "shaunchess123")
    assert player is not None
    assert player["game_count"] == total - july


def test_the_flow_publishes_the_engine_numbers_the_lake_holds(
    prefect_harness: None, fixtures_dir: Path, tmp_path: Path
) -> None:
    """Evaluations made by a direct refresh (2 games, a tiny node limit) are published by the
    flow's own run too: it reads the engine's tag, so its summaries join the evaluations."""
    import shutil

    from flows.refresh import refresh_player, using_settings
    from pipeline.refresh import refresh_player as direct_refresh

    if shutil.which("stockfish") is None and not Path("/usr/games/stockfish").exists():
        pytest.fail("stockfish is not installed (.ci/run installs it)")
    with running_mirror(fixtures_dir) as mirror:
        settings = _settings(tmp_path, mirror.base_url).model_copy(
            update={"engine_budget_games": 2, "engine_nodes": 500, "engine_workers": 1}
        )
        direct = direct_refresh(settings, "wizardchiken")
        assert direct.ok, direct.error or direct.warnings
        assert direct.analyse is not None
        assert len(direct.analyse.analysed_now) == 2
        # The flow must publish afresh (nothing served any more), not find its snapshot there.
        (tmp_path / "published.sqlite").unlink()
        with using_settings(settings.model_copy(update={"engine_budget_games": 0})):
            state = refresh_player("wizardchiken", full=True, return_state=True)
    assert state.is_completed(), state.message
    rows = read_summary_rows(Database.from_settings(settings), "wizardchiken", "engine_accuracy")
    assert rows, "no engine_accuracy rows published by the flow"
    assert max(int(row["analysed_games"]) for row in rows) == 2

"""The roster commands: track add, list, remove, on SQLite and on a migrated PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.database import Database
from adapters.migrations import upgrade_schema
from adapters.roster import list_players, tracked_timezone
from cli import app

runner = CliRunner()


def _track(url: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["track", *args], env={"DATABASE_URL": url, "COLUMNS": "200"})
    return result.exit_code, result.output


def _roster_round_trip(url: str) -> None:
    assert _track(url, "add", "Hikaru", "--timezone", "America/New_York")[0] == 0
    assert _track(url, "add", "magnuscarlsen")[0] == 0
    code, output = _track(url, "list")
    assert code == 0
    assert output.split() == ["hikaru", "America/New_York", "magnuscarlsen", "UTC", "(default)"]
    assert tracked_timezone(Database.from_url(url), "hikaru") == "America/New_York"
    # Adding again without a zone keeps the one set; with a zone, changes it.
    assert _track(url, "add", "hikaru")[0] == 0
    assert tracked_timezone(Database.from_url(url), "hikaru") == "America/New_York"
    assert _track(url, "add", "hikaru", "--timezone", "Europe/Oslo")[0] == 0
    assert tracked_timezone(Database.from_url(url), "hikaru") == "Europe/Oslo"

    code, output = _track(url, "add", "someone", "--timezone", "Mars/Olympus")
    assert code == 1
    assert "unknown time zone 'Mars/Olympus'" in output
    code, output = _track(url, "add", "../etc")
    assert code == 1
    assert "username" in output

    assert _track(url, "remove", "hikaru")[0] == 0
    assert [p.username for p in list_players(Database.from_url(url))] == ["magnuscarlsen"]
    code, output = _track(url, "remove", "hikaru")
    assert code == 1
    assert "not on the roster" in output


def test_roster_on_the_embedded_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'published.sqlite'}"
    assert (
        list_players(Database.from_url(url)) == []
    )  # no database yet: an empty roster, not an error
    _roster_round_trip(url)


@pytest.mark.postgres
def test_roster_on_postgresql_after_db_upgrade(postgres_url: str) -> None:
    code, output = _track(postgres_url, "add", "hikaru")
    assert code == 1
    assert "chess-patterns db upgrade" in output
    upgrade_schema(Database.from_url(postgres_url))
    _roster_round_trip(postgres_url)

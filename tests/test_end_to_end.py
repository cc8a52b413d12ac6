"""End to end: the mirror serves real fixtures, `refresh` publishes them, the API reads them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapters.database import Database
from adapters.publish import upgrade_schema
from api.app import create_app
from mirror import MirrorServer, running_mirror
from settings import Settings

REPO = Path(__file__).resolve().parents[1]
PLAYERS = ("shaunchess123", "fabianocaruana")
DRAW_CODES = {"agreed", "repetition", "stalemate", "insufficient", "timevsinsufficient", "50move"}


def expected_results(fixtures: Path, username: str) -> dict[tuple[str, str], Counter[str]]:
    """Count wins, draws and losses straight from the fixture JSON, with `all` roll-ups."""
    counts: dict[tuple[str, str], Counter[str]] = {}
    for month_file in sorted(fixtures.glob(f"{username}/[0-9]*/*.json")):
        for game in json.loads(month_file.read_bytes())["games"]:
            color = "white" if game["white"]["username"].lower() == username else "black"
            code = game[color]["result"]
            outcome = "wins" if code == "win" else "draws" if code in DRAW_CODES else "losses"
            for key in [
                (game["time_class"], color),
                (game["time_class"], "all"),
                ("all", color),
                ("all", "all"),
            ]:
                counts.setdefault(key, Counter())[outcome] += 1
    return counts


def fixture_game_count(fixtures: Path, username: str) -> int:
    return sum(
        len(json.loads(path.read_bytes())["games"])
        for path in fixtures.glob(f"{username}/[0-9]*/*.json")
    )


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def mirror(fixtures_dir: Path) -> Iterator[MirrorServer]:
    with running_mirror(fixtures_dir) as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'published.sqlite'}"
    url: str = request.getfixturevalue("postgres_url")
    upgrade_schema(
        Database.from_url(url)
    )  # the operator's `chess-patterns db upgrade`: a publish never migrates PG
    return url


def cli_env(mirror: MirrorServer, data_dir: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHESSCOM_", "PREFECT_API"))}
    env.update(
        CHESSCOM_BASE_URL=mirror.base_url,
        CHESSCOM_USER_AGENT="chess-patterns-tests (ci@example.invalid)",
        DATA_DIR=str(data_dir),
        DATABASE_URL=database_url,
    )
    env.pop("REDIS_URL", None)
    return env


def read_results(client: TestClient, username: str) -> list[dict[str, Any]]:
    response = client.get(f"/v1/players/{username}/summaries/results")
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["rows"]
    return rows


def test_refresh_publishes_what_the_fixtures_say(
    mirror: MirrorServer, fixtures_dir: Path, database_url: str, tmp_path: Path
) -> None:
    env = cli_env(mirror, tmp_path / "data", database_url)
    first = run_cli("refresh", *PLAYERS, env=env)
    assert first.returncode == 0, first.stderr

    client = TestClient(create_app(Settings(database_url=database_url, data_dir=tmp_path)))
    published_first = {}
    for username in PLAYERS:
        expected = expected_results(fixtures_dir, username)
        rows = read_results(client, username)
        got = {
            (row["time_class"], row["color"]): Counter(
                wins=row["wins"], draws=row["draws"], losses=row["losses"]
            )
            for row in rows
        }
        assert got == expected
        for row in rows:
            assert row["games"] == row["wins"] + row["draws"] + row["losses"]
            assert row["score"] == pytest.approx((row["wins"] + row["draws"] / 2) / row["games"])
        player = client.get(f"/v1/players/{username}").json()
        assert player["game_count"] == fixture_game_count(fixtures_dir, username)
        published_first[username] = (rows, player["snapshot_id"])

    second = run_cli("refresh", *PLAYERS, env=env)
    assert second.returncode == 0, second.stderr
    for username in PLAYERS:
        player = client.get(f"/v1/players/{username}").json()
        assert (read_results(client, username), player["snapshot_id"]) == published_first[username]
        assert player["game_count"] == fixture_game_count(fixtures_dir, username)


def test_unknown_player_fails_in_one_line_and_publishes_nothing(
    mirror: MirrorServer, tmp_path: Path
) -> None:
    database_url = f"sqlite:///{tmp_path / 'published.sqlite'}"
    result = run_cli("refresh", "nosuchplayer404", env=cli_env(mirror, tmp_path, database_url))
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "nosuchplayer404" in lines[0]
    assert "Traceback" not in result.stderr

    assert not (tmp_path / "published.sqlite").exists()
    upgrade_schema(
        Database.from_url(database_url)
    )  # as `chess-patterns serve` does for the embedded database
    client = TestClient(create_app(Settings(database_url=database_url, data_dir=tmp_path)))
    response = client.get("/v1/players/nosuchplayer404")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


def test_unreachable_chesscom_fails_in_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update(
        CHESSCOM_BASE_URL="http://127.0.0.1:9/pub",
        CHESSCOM_RETRY_BUDGET_SECONDS="2",
        DATA_DIR=str(tmp_path),
    )
    result = run_cli("refresh", "hikaru", env=env)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "hikaru" in lines[0]


def test_api_rejects_an_invalid_username(tmp_path: Path) -> None:
    client = TestClient(create_app(Settings(data_dir=tmp_path)))
    for bad in ["bad name", "x" * 51, "semi;colon", "dot.name", "%C3%A9l%C3%A8ve"]:
        response = client.get(f"/v1/players/{bad}")
        assert response.status_code == 422, bad
        assert response.headers["content-type"].startswith("application/problem+json")


def test_biskupstunga_imports_and_refreshes_offline_in_full(
    fixtures_dir: Path, tmp_path: Path
) -> None:
    pgn_files = sorted((fixtures_dir / "biskupstunga" / "pgn").glob("*.pgn"))
    # Counted from the files themselves: every game starts with an [Event header at a line start.
    expected_games = sum(
        sum(1 for line in path.read_text().splitlines() if line.startswith("[Event "))
        for path in pgn_files
    )
    assert expected_games == 18_216  # the fixtures README's figure
    database_url = f"sqlite:///{tmp_path / 'published.sqlite'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHESSCOM_", "PREFECT_API"))}
    # Nothing may be asked of Chess.com: a base URL where nothing listens would fail the refresh.
    env.update(
        CHESSCOM_BASE_URL="http://127.0.0.1:9/pub",
        DATA_DIR=str(tmp_path / "data"),
        DATABASE_URL=database_url,
    )
    imported = run_cli("import", "biskupstunga", *map(str, pgn_files), env=env)
    assert imported.returncode == 0, imported.stderr
    refreshed = run_cli("refresh", "biskupstunga", "--offline", env=env)
    assert refreshed.returncode == 0, refreshed.stderr

    client = TestClient(create_app(Settings(database_url=database_url, data_dir=tmp_path)))
    player = client.get("/v1/players/biskupstunga").json()
    assert player["game_count"] == expected_games
    overall = [
        row
        for row in read_results(client, "biskupstunga")
        if (row["time_class"], row["color"]) == ("all", "all")
    ]
    assert [row["games"] for row in overall] == [expected_games]


def test_offline_refresh_of_a_player_never_stored_says_what_to_do(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update(DATA_DIR=str(tmp_path))
    result = run_cli("refresh", "nobodyhere", "--offline", env=env)
    assert result.returncode == 1
    assert "no stored archives for 'nobodyhere'" in result.stderr
    assert "chess-patterns import" in result.stderr

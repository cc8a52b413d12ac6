"""Concurrency: eight players refreshed in parallel (and one of them twice at once) while the API
serves reads: no torn read, no duplicate game, at most one request in flight to Chess.com."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from mirror import MirrorServer, running_mirror
from tests.reliability.state import cli_env, read_state, run_cli, start_cli
from tests.reliability.test_services import serving

JSON_PLAYERS = ["shaunchess123", "fabianocaruana", "magnuscarlsen", "wizardchiken", "afgano29"]
PGN_PLAYERS = ["bmar", "endlesstrax", "hikaru"]


@pytest.fixture(scope="module")
def eight_players(fixtures_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A mirror folder of eight real players: five as recorded, three imported from their PGN."""
    root = tmp_path_factory.mktemp("mirror")
    for player in JSON_PLAYERS:
        # Without archives.json the mirror lists the months it holds (afgano29's recorded list
        # names a month whose body was not recorded).
        ignore = shutil.ignore_patterns("pgn", "archives.json")
        shutil.copytree(fixtures_dir / player, root / player, ignore=ignore)
    staging = tmp_path_factory.mktemp("import")
    env = cli_env("http://127.0.0.1:9/pub", staging)
    for player in PGN_PLAYERS:
        files = sorted(str(p) for p in (fixtures_dir / player / "pgn").glob("*.pgn"))
        result = run_cli("import", player, *files, env=env)
        assert result.returncode == 0, result.stderr
        stored = next(staging.rglob(f"raw/**/{player}"))
        shutil.copytree(stored, root / player, ignore=shutil.ignore_patterns("manifest.json", ".*"))
    return root


def _consistent(body: dict[str, Any]) -> bool:
    """One snapshot's results: the all/all row counts exactly the games of its time classes."""
    rows = body["rows"]
    if not rows:
        return True  # a player with no game yet (afgano29's only archive is empty)
    total = [r["games"] for r in rows if (r["time_class"], r["color"]) == ("all", "all")]
    parts = [r["games"] for r in rows if r["time_class"] != "all" and r["color"] == "all"]
    return len(total) == 1 and total[0] == sum(parts)


def test_parallel_refreshes_while_the_api_reads(eight_players: Path, tmp_path: Path) -> None:
    with running_mirror(eight_players) as mirror_server:
        mirror: MirrorServer = mirror_server
        data_dir = tmp_path / "data"
        # The readers loop as fast as the API answers: past the default per-address limit.
        env = cli_env(mirror.base_url, data_dir, API_RATE_LIMIT_PER_MINUTE="10000000")
        # A first publish of one player, so the API has something to read from the start.
        assert run_cli("refresh", "wizardchiken", env=env).returncode == 0
        mirror.clear_log()
        torn: list[str] = []
        stop = threading.Event()
        reads = 0

        def reader(base: str) -> None:
            nonlocal reads
            with httpx.Client(base_url=base, timeout=30) as client:
                while not stop.is_set():
                    for player in [*JSON_PLAYERS, *PGN_PLAYERS]:
                        response = client.get(f"/v1/players/{player}/summaries/results")
                        if response.status_code == 200:
                            reads += 1
                            if not _consistent(response.json()):
                                torn.append(player)
                        elif response.status_code != 404:
                            torn.append(f"{player}: {response.status_code} {response.text}")

        with serving(env) as (base, _pid):
            thread = threading.Thread(target=reader, args=(base,), daemon=True)
            thread.start()
            everyone = start_cli("refresh", *JSON_PLAYERS, *PGN_PLAYERS, env=env)
            # The same player again from another process, at the same time.
            again = start_cli("refresh", "shaunchess123", env=env)
            outputs = [everyone.communicate(timeout=900), again.communicate(timeout=900)]
            stop.set()
            thread.join(timeout=60)
        assert everyone.returncode == 0, outputs[0]
        assert again.returncode == 0, outputs[1]
        assert reads > 0
        assert torn == []
        assert mirror.max_in_flight == 1, "Chess.com saw more than one request at once"
    published = read_state(data_dir).published
    players = published["players"]
    assert isinstance(players, list)
    assert sorted(p[0] for p in players) == sorted([*JSON_PLAYERS, *PGN_PLAYERS])
    assert published["duplicate_games"] == (0,)

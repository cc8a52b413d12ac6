"""Redis budget: the in-process cache in front of Redis keeps a free tier's 10,000 commands a day.

A private redis-server (its own port, nothing else talks to it) counts every command the API sends
(`INFO commandstats`) while two API processes' worth of apps answer 10,000 requests spread over 20
published players, the way a day's readers would: mostly profiles and the popular summaries, some
filtered, some drill-downs.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from adapters.database import Database
from adapters.publish import publish_player
from api.app import create_app
from tests.api.conftest import make_settings
from tests.api.sample import ALICE_GAMES, ALICE_RESULTS, games_frame, results_frame
from tests.conftest import free_port

PLAYERS = [f"reader{i:02d}" for i in range(20)]
REQUESTS = 10_000
DAILY_COMMAND_BUDGET = 10_000


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[str]:
    """A redis-server of this test's own, so the command counts are this test's alone."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(binary).exists():
        pytest.fail("redis-server is not installed (.ci/run installs it)")
    port = free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield url
    finally:
        client.close()
        server.terminate()
        server.wait(timeout=10)


def _commands(url: str) -> dict[str, int]:
    client = redis.Redis.from_url(url)
    try:
        stats = client.info("commandstats")
    finally:
        client.close()
    return {name.removeprefix("cmdstat_"): int(value["calls"]) for name, value in stats.items()}


def _paths(rng: random.Random) -> Iterator[str]:
    """A reader's day: players by popularity (a few are read far more), mostly the top routes."""
    weights = [1.0 / (rank + 1) for rank in range(len(PLAYERS))]
    for _ in range(REQUESTS):
        player = rng.choices(PLAYERS, weights)[0]
        kind = rng.random()
        if kind < 0.3:
            yield f"/v1/players/{player}"
        elif kind < 0.8:
            yield f"/v1/players/{player}/summaries/results"
        elif kind < 0.95:
            time_class = rng.choice(["blitz", "rapid"])
            yield f"/v1/players/{player}/summaries/results?time_class={time_class}"
        else:
            yield f"/v1/players/{player}/games?result=win"


def test_ten_thousand_requests_stay_inside_a_day_of_free_redis(
    tmp_path: Path, private_redis: str
) -> None:
    database_url = f"sqlite:///{tmp_path / 'serving.sqlite'}"
    for player in PLAYERS:
        publish_player(
            Database.from_url(database_url),
            player,
            {"results": results_frame(player, ALICE_RESULTS)},
            games_frame(player, ALICE_GAMES),
        )
    settings = make_settings(database_url, tmp_path, redis_url=private_redis)
    before = _commands(private_redis)
    rng = random.Random(20261201)
    paths = list(_paths(rng))
    # Two API processes share one Redis: each has its own in-process cache in front of it.
    apps = [create_app(settings), create_app(settings)]
    statuses: dict[int, int] = {}
    with TestClient(apps[0]) as first, TestClient(apps[1]) as second:
        for i, path in enumerate(paths):
            response = (first, second)[i % 2].get(path)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    assert statuses == {200: REQUESTS}, statuses
    after = _commands(private_redis)
    sent = {name: after.get(name, 0) - before.get(name, 0) for name in after}
    data_commands = {k: v for k, v in sent.items() if k not in {"info", "ping", "hello", "client"}}
    total = sum(data_commands.values())
    print(f"redis commands for {REQUESTS} requests: {total} ({total / REQUESTS:.3f} per request)")
    # Something reached Redis (the shared cache is in use), and a day's reads fit the budget.
    assert total > 0
    assert total <= DAILY_COMMAND_BUDGET

"""Kill -9 at random instants of a refresh: the next clean refresh always ends as a clean run.

Twenty instants from a fixed seed, spread over the whole length of a clean refresh (fetch, parse,
summaries, publish), half of them into a first refresh of an empty folder and half into a
`--full` refresh over a complete one. The kill takes the whole process group (parse workers too),
leaving whatever a crash leaves: half-written files, a lock file, an open transaction.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from mirror import MirrorServer
from tests.reliability.conftest import Reference, copy_data
from tests.reliability.state import (
    assert_same_state,
    cli_env,
    kill_group,
    read_state,
    run_cli,
    start_cli,
)

PLAYER = "magnuscarlsen"
KILLS = 20
# One fixed sequence: instant i is the i-th draw, as a fraction of a clean refresh's length.
FRACTIONS = [random.Random(20261201).random() for _ in range(KILLS)]


@pytest.fixture(scope="module")
def refresh_seconds(mirror: MirrorServer, tmp_path_factory: pytest.TempPathFactory) -> float:
    """How long a clean refresh takes here, so the instants cover all of it on any machine."""
    started = time.monotonic()
    timed = run_cli(
        "refresh", PLAYER, env=cli_env(mirror.base_url, tmp_path_factory.mktemp("timed"))
    )
    assert timed.returncode == 0, timed.stderr
    return time.monotonic() - started


@pytest.mark.parametrize("trial", range(KILLS))
def test_a_killed_refresh_leaves_nothing_a_clean_refresh_cannot_finish(
    mirror: MirrorServer,
    reference: Reference,
    refresh_seconds: float,
    tmp_path: Path,
    trial: int,
) -> None:
    clean_dir, clean = reference(PLAYER)
    instant = FRACTIONS[trial] * refresh_seconds
    if trial % 2:
        data_dir = copy_data(clean_dir, tmp_path / "data")
        args: tuple[str, ...] = ("refresh", PLAYER, "--full")
    else:
        data_dir = tmp_path / "data"
        args = ("refresh", PLAYER)
    env = cli_env(mirror.base_url, data_dir)
    process = start_cli(*args, env=env)
    time.sleep(instant)
    kill_group(process)
    again = run_cli("refresh", PLAYER, env=env)
    assert again.returncode == 0, f"killed at {instant:.2f} s: {again.stderr}"
    assert_same_state(read_state(data_dir), clean)

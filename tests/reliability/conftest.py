"""Fixtures of the reliability suite: the mirror over the real fixtures, clean reference runs."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mirror import MirrorServer, running_mirror
from tests.reliability.state import State, cli_env, read_state, run_cli

Reference = Callable[[str], tuple[Path, State]]


@pytest.fixture(scope="module")
def mirror(fixtures_dir: Path) -> Iterator[MirrorServer]:
    with running_mirror(fixtures_dir) as server:
        yield server


@pytest.fixture(scope="module")
def reference(mirror: MirrorServer, tmp_path_factory: pytest.TempPathFactory) -> Reference:
    """A clean refresh of a player (made once per module): its data folder and what it holds."""
    made: dict[str, tuple[Path, State]] = {}

    def clean(username: str) -> tuple[Path, State]:
        if username not in made:
            data_dir = tmp_path_factory.mktemp(f"clean-{username}")
            mirror.set_faults(None)
            result = run_cli("refresh", username, env=cli_env(mirror.base_url, data_dir))
            assert result.returncode == 0, result.stderr
            made[username] = (data_dir, read_state(data_dir))
        return made[username]

    return clean


def copy_data(source: Path, target: Path) -> Path:
    """A copy of a data folder (raw store, lake, embedded database), lock files left behind."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".lock"))
    return target

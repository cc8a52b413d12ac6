"""Bad input: hostile usernames, corrupt archives and a disk that fills up during a refresh."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from api.app import create_app
from cli import app
from mirror import MirrorServer, running_mirror
from settings import Settings
from tests.conftest import IN_CI
from tests.reliability.conftest import Reference
from tests.reliability.state import assert_same_state, cli_env, read_state, run_cli

HOSTILE_USERNAMES = [
    "../../etc/passwd",
    "a/b",
    "a\\b",
    "o'brien",
    '"quoted"',
    "x'; DROP TABLE players; --",
    "élève",
    "名人",
    "a" * 200,
    "",
    " ",
    "..",
    "%2e%2e",
    "name with spaces",
    "a" * 51,
]


@pytest.mark.parametrize("username", HOSTILE_USERNAMES)
def test_hostile_usernames_are_refused_by_every_command_before_any_file_or_query(
    tmp_path: Path, username: str
) -> None:
    data_dir = tmp_path / "data"
    env = cli_env("http://127.0.0.1:9/pub", data_dir)
    pgn = tmp_path / "games.pgn"
    pgn.write_text('[Event "x"]\n\n1. e4 *\n', encoding="utf-8")
    runner = CliRunner()
    for args in (["refresh", username], ["report", username], ["import", username, str(pgn)]):
        # "--" so a name that looks like an option is still read as the name.
        command = [args[0], "--", *args[1:]]
        result = runner.invoke(app, command, env=env)
        assert result.exit_code == 1, (command, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.output
        assert "username" in lines[0].lower(), lines[0]
    # Nothing was written anywhere under the data folder, and nothing outside it.
    written = sorted(p for p in data_dir.rglob("*") if p.is_file()) if data_dir.exists() else []
    assert [p for p in written if p.suffix != ".sqlite"] == []
    assert not (tmp_path / "etc").exists()


def test_hostile_usernames_get_a_problem_from_every_route(tmp_path: Path) -> None:
    client = TestClient(create_app(Settings(_env_file=None, data_dir=tmp_path)))
    for username in [*HOSTILE_USERNAMES, "nul\x00byte"]:
        if not username.strip() or "/" in username or username == "..":
            continue  # not one path segment: no route matches at all (404), tested below
        segment = quote(username, safe="")
        for route in ("", "/summaries/results", "/games"):
            response = client.get(f"/v1/players/{segment}{route}")
            assert response.status_code == 422, (username, route, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
    for path in ("/v1/players/a/b", "/v1/players/%2e%2e/summaries/results"):
        assert client.get(path).status_code in {404, 422}


def _corrupt(body: bytes, data: st.DataObject) -> bytes:
    """One of the ways a month body can arrive broken: cut, bytes flipped, JSON reshaped."""
    how = data.draw(st.sampled_from(["cut", "flip", "reshape", "garbage"]))
    if how == "cut":
        return body[: data.draw(st.integers(0, len(body) - 1))]
    if how == "flip":
        at = data.draw(st.integers(0, len(body) - 1))
        return body[:at] + bytes([body[at] ^ data.draw(st.integers(1, 255))]) + body[at + 1 :]
    if how == "reshape":
        document = json.loads(body)
        game = document["games"][data.draw(st.integers(0, len(document["games"]) - 1))]
        key = data.draw(st.sampled_from(sorted(game)))
        game[key] = data.draw(
            st.none() | st.integers() | st.text(max_size=20) | st.lists(st.none())
        )
        return json.dumps(document).encode()
    return data.draw(st.binary(max_size=200))


@pytest.fixture
def mutable_mirror(fixtures_dir: Path, tmp_path: Path) -> Iterator[tuple[MirrorServer, Path]]:
    """A mirror over a copy of one player's months, which a test may edit."""
    root = tmp_path / "mirror"
    shutil.copytree(fixtures_dir / "wizardchiken", root / "wizardchiken")
    (root / "wizardchiken" / "archives.json").unlink()  # the mirror lists what is there
    with running_mirror(root) as server:
        yield server, root


@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_a_corrupt_month_is_reported_and_the_stored_copy_kept(
    mutable_mirror: tuple[MirrorServer, Path],
    tmp_path_factory: pytest.TempPathFactory,
    data: st.DataObject,
) -> None:
    mirror, root = mutable_mirror
    month = root / "wizardchiken" / "2023" / "01.json"
    original = month.read_bytes()
    data_dir = tmp_path_factory.mktemp("data")
    env = cli_env(mirror.base_url, data_dir, CHESSCOM_RETRY_BUDGET_SECONDS="1")
    assert run_cli("refresh", "wizardchiken", env=env).returncode == 0
    stored = read_state(data_dir)
    try:
        month.write_bytes(_corrupt(original, data))
        result = run_cli("refresh", "wizardchiken", "--full", env=env)
    finally:
        month.write_bytes(original)
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    if result.returncode != 0:
        assert "wizardchiken" in output
        assert "2023" in output, output
        # Refused: the good copy stored before is untouched.
        assert_same_state(read_state(data_dir), stored)


def _mount_tmpfs(path: Path, size: int) -> None:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        check=True,
        capture_output=True,
    )


def _resize_tmpfs(path: Path, size: int) -> None:
    subprocess.run(
        ["mount", "-o", f"remount,size={size}", str(path)], check=True, capture_output=True
    )


def test_a_disk_that_fills_during_a_refresh_keeps_the_previous_months_and_snapshot(
    fixtures_dir: Path, reference: Reference, tmp_path: Path
) -> None:
    if os.geteuid() != 0:
        if IN_CI:
            pytest.fail("CI runs as root: a small tmpfs is how the full disk is made")
        pytest.skip("mounting a small tmpfs (the full disk) needs root")
    player = "shaunchess123"
    _, clean = reference(player)
    months = sorted((fixtures_dir / player).glob("[0-9]*/*.json"))
    old, new = months[:30], months[30:]
    root = tmp_path / "mirror"
    for path in old:
        target = root / player / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    disk = tmp_path / "disk"
    _mount_tmpfs(disk, 64 * 1024 * 1024)
    try:
        with running_mirror(root) as mirror:
            env = cli_env(mirror.base_url, disk / "data")
            assert run_cli("refresh", player, env=env).returncode == 0
            before = read_state(disk / "data")
            used = shutil.disk_usage(disk).used
            for path in new:
                target = root / player / path.parent.name / path.name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
            # Room for a little more than nothing: the new months cannot all be stored.
            _resize_tmpfs(disk, used + 48 * 1024)
            full = run_cli("refresh", player, env=env)
            output = full.stdout + full.stderr
            assert full.returncode == 1, output
            assert "Traceback" not in output, output
            assert player in output
            after = read_state(disk / "data")
            for key, digest in before.raw.items():
                assert after.raw.get(key) == digest, f"{key} was lost or changed"
            assert after.published == before.published, "the published snapshot changed"
            for table in ("games", "moves"):
                frame = before.lake[table]
                kept = after.lake[table].filter(
                    after.lake[table]["month"].is_in(frame["month"].unique().to_list())
                )
                assert kept.sort(kept.columns).equals(frame), f"lake {table} lost old months"
            # With room again, the next refresh ends as a clean run of every month.
            _resize_tmpfs(disk, 64 * 1024 * 1024)
            again = run_cli("refresh", player, env=env)
            assert again.returncode == 0, again.stdout + again.stderr
            assert_same_state(read_state(disk / "data"), clean)
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False, capture_output=True)

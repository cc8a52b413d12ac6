"""The README's operator commands, as written: a Prefect server, a pool, deploy, a worker, runs.

Slow (a real `prefect server start` and a process worker); it also checks that two flow runs of
different players, in two worker subprocesses, never put two requests to Chess.com in flight.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from adapters.database import Database
from adapters.reads import read_player
from mirror import Fault, running_mirror

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PLAYERS = ("shaunchess123", "wizardchiken")  # small fixture players (201 and 15 games)

pytestmark = pytest.mark.flows


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _background(
    args: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            args, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield process
    finally:
        # The server and the worker start children of their own: end the whole group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_readme_commands_deploy_and_run_a_player(fixtures_dir: Path, tmp_path: Path) -> None:
    port = _free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    # Slow answers for the archives lists: two unserialised runs would surely overlap there.
    faults = {f"/pub/player/{p}/games/archives": [Fault.slow(0.3, times=None)] for p in PLAYERS}
    with running_mirror(fixtures_dir, faults=faults) as mirror:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PREFECT_", "CHESSCOM_", "DATABASE_URL", "DATA_DIR"))
        }
        env.update(
            PREFECT_HOME=tempfile.mkdtemp(prefix="prefect-home-", dir=tmp_path),
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
            PREFECT_API_URL=api_url,
            PREFECT_WORKER_QUERY_SECONDS="2",
            CHESSCOM_BASE_URL=mirror.base_url,
            DATA_DIR=str(tmp_path / "data"),
        )
        database = Database.from_url(f"sqlite:///{tmp_path / 'data' / 'patterns.sqlite'}")
        prefect, cli = str(BIN / "prefect"), str(BIN / "chess-patterns")
        server = [prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)]
        with _background(server, env, tmp_path / "server.log"):
            deadline = time.monotonic() + 180
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{api_url}/health", timeout=2).status_code == 200:
                        break
                assert time.monotonic() < deadline, (tmp_path / "server.log").read_text()
                time.sleep(1)
            _run([prefect, "work-pool", "create", "chess-patterns", "--type", "process"], env)
            _run([prefect, "--no-prompt", "deploy", "--all"], env)
            worker = [prefect, "worker", "start", "--pool", "chess-patterns"]
            with _background(worker, env, tmp_path / "worker.log"):
                for player in PLAYERS:
                    _run([cli, "track", "add", player], env)
                assert _run([cli, "track", "list"], env).split() == [
                    "shaunchess123",
                    "UTC",
                    "(default)",
                    "wizardchiken",
                    "UTC",
                    "(default)",
                ]
                mirror.clear_log()
                runs = [
                    subprocess.Popen(
                        [
                            prefect,
                            "deployment",
                            "run",
                            "refresh-player/adhoc-refresh",
                            "--param",
                            f"username={player}",
                            "--watch",
                        ],
                        cwd=REPO,
                        env=env,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT,
                        text=True,
                    )
                    for player in PLAYERS
                ]
                outputs = [run.communicate(timeout=400)[0] for run in runs]
                worker_log = (tmp_path / "worker.log").read_text()
                for run, output in zip(runs, outputs, strict=True):
                    assert run.returncode == 0, f"{output}\n--- worker:\n{worker_log}"
                    assert "Completed" in output

    # Both players published from their own flow runs, and Chess.com (the mirror) saw each
    # archives list and never two requests at once although the two runs overlapped.
    assert read_player(database, "shaunchess123")["game_count"] == 201  # type: ignore[index]
    assert read_player(database, "wizardchiken")["game_count"] == 15  # type: ignore[index]
    paths = [record.path for record in mirror.log()]
    assert all(any(p in path for path in paths) for p in PLAYERS)
    assert max(record.in_flight for record in mirror.log()) == 1
    assert mirror.max_in_flight == 1

"""The Dockerfile's environment, built the way the Dockerfile builds it, serves the API.

No Docker engine runs here, so this test runs the image's own `uv sync` command (read from the
Dockerfile, so the two cannot drift) into a fresh environment outside the work tree, starts the
API from that environment alone, and checks the health route and the container's memory bound.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO, free_port

DOCKERFILE = (REPO / "Dockerfile").read_text(encoding="utf-8")
RAILWAY = json.loads((REPO / "railway.json").read_text(encoding="utf-8"))
CONTAINER_MEMORY_BYTES = 512 * 1024 * 1024


def _run_lines() -> list[str]:
    """The Dockerfile's RUN instructions, continuation lines joined."""
    joined = DOCKERFILE.replace("\\\n", " ")
    return [line[4:].strip() for line in joined.splitlines() if line.startswith("RUN ")]


def _final_install_command() -> list[str]:
    """The image's last `uv sync`: the one that installs the project with its dependencies."""
    syncs = [line for line in _run_lines() if " uv sync " in f" {line} "]
    assert syncs, "the Dockerfile installs nothing with uv sync"
    words = shlex.split(syncs[-1])
    # Drop the leading VAR=value assignments; the test chooses where the environment goes.
    while "=" in words[0]:
        words.pop(0)
    return words


def _rss_bytes(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    assert match, status
    return int(match.group(1)) * 1024


def test_start_command_and_health_check_agree_with_the_platform_file() -> None:
    cmd = re.search(r"^CMD (.+)$", DOCKERFILE, re.MULTILINE)
    assert cmd, "the Dockerfile has no default command"
    assert json.loads(cmd.group(1)) == shlex.split(RAILWAY["deploy"]["startCommand"])
    assert RAILWAY["deploy"]["healthcheckPath"] in DOCKERFILE.split("HEALTHCHECK", 1)[1]
    non_root = re.search(r"^USER (?!root)\w+", DOCKERFILE, re.MULTILINE)
    assert non_root, "the image must not run as root"
    assert _final_install_command()[:3] == ["uv", "sync", "--frozen"], "install from the lock file"


def test_the_image_environment_serves_the_api(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "PYTHONPATH"))
    }
    env["UV_PROJECT_ENVIRONMENT"] = str(venv)
    subprocess.run(_final_install_command(), cwd=REPO, env=env, check=True, capture_output=True)
    executable = venv / "bin" / "chess-patterns"
    assert executable.exists()

    port = free_port()
    # Run from an empty folder: nothing may be imported from the work tree.
    workdir = tmp_path / "run"
    workdir.mkdir()
    serve_env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "DATA_DIR": str(tmp_path / "data")}
    server = subprocess.Popen(
        [str(executable), "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=workdir,
        env=serve_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    output = server.stdout.read().decode() if server.stdout else ""
                    pytest.fail(f"the API did not start from the image environment:\n{output}")
                time.sleep(0.2)
        assert health.status_code == 200
        assert health.json() == {"status": "ok"}
        # The packaged SQL migrations are there: an unknown player is a 404, not a 503.
        missing = httpx.get(f"{base}/v1/players/nobody-published", timeout=5)
        assert missing.status_code == 404, missing.text
        assert _rss_bytes(server.pid) < CONTAINER_MEMORY_BYTES
    finally:
        server.terminate()
        server.wait(timeout=20)

"""Cost of a no-op `refresh_player` flow run beside an empty flow run, under a running server.

Run:  uv run python bench/bench_noop_prefect.py [--repeat 5] [--player wizardchiken]

Uses the server at PREFECT_API_URL, or starts `prefect server start` on a free loopback port with a
temporary PREFECT_HOME. Serves the fixtures through the project's mirror, refreshes the player
once, then alternates an empty flow run (the baseline: what any flow run costs with these settings)
and a no-op refresh_player run (nothing changed upstream: fetch and parse look, nothing is
summarised or published), and prints both medians and their difference (target: <= 0.5 s).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
FIXTURES = Path(
    os.environ.get("CHESS_FIXTURES_DIR", REPO.parent / "shared" / "fixtures" / "chesscom")
)


@contextlib.contextmanager
def _server() -> Iterator[None]:
    if os.environ.get("PREFECT_API_URL"):
        yield
        return
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="bench-prefect-")
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    api = f"http://127.0.0.1:{port}/api"
    prefect = str(Path(sys.executable).parent / "prefect")
    server = subprocess.Popen(
        [prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        import httpx

        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                    break
            time.sleep(1)
        os.environ["PREFECT_API_URL"] = api
        yield
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--player", default="wizardchiken")
    args = parser.parse_args()
    with _server():
        from prefect import flow

        from flows.refresh import refresh_player, using_settings
        from mirror import running_mirror
        from settings import Settings

        @flow(name="empty")
        def empty() -> None:
            """The baseline: a flow run that does nothing."""

        data = Path(tempfile.mkdtemp(prefix="bench-noop-prefect-"))
        with running_mirror(FIXTURES) as mirror:
            settings = Settings(chesscom_base_url=mirror.base_url, data_dir=data)
            with using_settings(settings):
                first = refresh_player(args.player)
                assert first.publish is not None
                empties: list[float] = []
                noops: list[float] = []
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    empty()
                    empties.append(time.perf_counter() - start)
                    start = time.perf_counter()
                    outcome = refresh_player(args.player)
                    noops.append(time.perf_counter() - start)
                    assert outcome.unchanged == first.publish.snapshot_id, outcome
    e, n = statistics.median(empties), statistics.median(noops)
    print(f"empty flow run, median of {args.repeat}: {e:.2f} s")
    print(f"no-op refresh_player({args.player}) flow run, median of {args.repeat}: {n:.2f} s")
    print(f"difference: {n - e:+.2f} s (target <= +0.50 s)")
    print(
        "runs (empty, no-op):",
        ", ".join(f"({a:.2f}, {b:.2f})" for a, b in zip(empties, noops, strict=True)),
    )


if __name__ == "__main__":
    main()

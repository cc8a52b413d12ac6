"""One request in flight to Chess.com across processes: the machine-wide lock of the client."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from adapters.chesscom import machine_lock_path
from mirror import Fault, MirrorServer, running_mirror

REPO = Path(__file__).resolve().parents[2]
PLAYERS = ("shaunchess123", "wizardchiken")

# Each process waits for the go file, then asks for its player's archives list three times.
_CLIENT = """
import contextlib, sys, time
from pathlib import Path
from adapters.chesscom import ChessComClient
from settings import Settings

base_url, player, go, gated = sys.argv[1:5]
settings = Settings(chesscom_base_url=base_url)
gate = None if gated == "yes" else contextlib.nullcontext
Path(go + "." + player).touch()
while not Path(go).exists():
    time.sleep(0.01)
with ChessComClient(settings, request_gate=gate) as client:
    for _ in range(3):
        client.archives(player)
"""


def _two_processes(mirror: MirrorServer, tmp_path: Path, *, gated: bool) -> None:
    go = str(tmp_path / f"go-{gated}")
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _CLIENT, mirror.base_url, player, go, "yes" if gated else "no"],
            cwd=REPO,
        )
        for player in PLAYERS
    ]
    deadline = time.monotonic() + 120
    while not all(Path(f"{go}.{p}").exists() for p in PLAYERS):
        assert time.monotonic() < deadline, "client processes did not start"
        time.sleep(0.05)
    Path(go).touch()
    for process in processes:
        assert process.wait(timeout=120) == 0


def test_two_processes_never_have_two_requests_in_flight(
    fixtures_dir: Path, tmp_path: Path
) -> None:
    # A slow answer keeps each request open long enough that two free processes would overlap.
    faults = {f"/pub/player/{p}/games/archives": [Fault.slow(0.3, times=None)] for p in PLAYERS}
    with running_mirror(fixtures_dir, faults=faults) as mirror:
        _two_processes(mirror, tmp_path, gated=True)
        gated = mirror.log()
        assert len(gated) == 6
        assert mirror.max_in_flight == 1
        assert machine_lock_path(mirror.base_url).exists()

        # Control: without the gate the same two processes do overlap, so the check can fail.
        mirror.clear_log()
        _two_processes(mirror, tmp_path, gated=False)
        assert len(mirror.log()) == 6
        assert mirror.max_in_flight == 2

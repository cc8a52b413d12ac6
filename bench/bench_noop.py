"""Wall time of a no-op refresh from the command line, beside the same refresh made to summarise
and publish again (the behaviour before the no-op check), measured in the same run.

Run:  uv run python bench/bench_noop.py [--repeat 5] [--players a,b,...]

It serves the fixtures through the project's mirror on loopback, refreshes the four JSON fixture
players once into a temporary DATA_DIR (embedded SQLite), then times `chess-patterns refresh` of
all of them: nothing changed upstream, so each player is "unchanged" (the figure). The baseline
removes the lake's published markers before each run, so every player is summarised and
published again as before (publish itself still skips writing identical rows). Each figure is
the wall time of the whole command, Python's start and imports included.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mirror import running_mirror  # noqa: E402

FIXTURES = Path(
    os.environ.get("CHESS_FIXTURES_DIR", REPO.parent / "shared" / "fixtures" / "chesscom")
)
PLAYERS = ("fabianocaruana", "magnuscarlsen", "shaunchess123", "wizardchiken")
CLI = str(Path(sys.executable).parent / "chess-patterns")


def _refresh(env: dict[str, str], players: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(
        [CLI, "refresh", *players], env=env, cwd=REPO, capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"refresh failed:\n{done.stdout}\n{done.stderr}")
    return wall, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--players", default=",".join(PLAYERS))
    args = parser.parse_args()
    players = args.players.split(",")
    data = Path(tempfile.mkdtemp(prefix="bench-noop-"))
    try:
        with running_mirror(FIXTURES) as mirror:
            env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API_URL")}
            env.update(DATA_DIR=str(data), CHESSCOM_BASE_URL=mirror.base_url, DATABASE_URL="")
            env.pop("DATABASE_URL")
            cold, _ = _refresh(env, players)
            noop: list[float] = []
            baseline: list[float] = []
            for _ in range(args.repeat):
                wall, out = _refresh(env, players)
                assert out.count("unchanged, snapshot") == len(players), out
                noop.append(wall)
                shutil.rmtree(data / "lake" / "_published", ignore_errors=True)
                wall, out = _refresh(env, players)
                assert "unchanged, snapshot" not in out, out
                baseline.append(wall)
    finally:
        shutil.rmtree(data, ignore_errors=True)
    print(f"players: {', '.join(players)}; first refresh {cold:.2f} s")
    print(f"no-op refresh, median of {args.repeat}: {statistics.median(noop):.2f} s wall")
    print(
        f"baseline (summarise + publish again), median of {args.repeat}: "
        f"{statistics.median(baseline):.2f} s wall"
    )
    print(f"ratio no-op / baseline: {statistics.median(noop) / statistics.median(baseline):.2f}")


if __name__ == "__main__":
    main()

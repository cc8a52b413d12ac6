"""Engine benchmark: throughput vs Stockfish's own bench, 1 vs 2 workers, Chess.com anchor r.

Run from the repository root: `uv run python bench/bench_engine.py [--nodes N] [--games N]
[--throughput-games N] [--reviewed-per-player N]`.

1. Throughput: the positions of the newest `--throughput-games` real fixture games, evaluated by
   the project's adapter (python-chess' UCI driver, one engine process per worker, ucinewgame per
   game) with 1 and 2 workers, in positions per second. The baseline, measured in the same run on
   the same positions at the same node limit, Threads=1 and Hash: Stockfish's own `bench`
   command over a FEN file of those positions (its "Total time", no Python at all). Targets:
   >= 0.9x Stockfish's speed with one worker, >= 1.8x one worker's throughput with two. A control
   beside it: pure CPU work in 2 processes over 1, which shows when the machine (2 shared cores),
   not the code, caps the speed-up.
2. Wall time of analysing `--games` real fixture games (default 1,000: every fixture player,
   newest first) with ENGINE_WORKERS=2, and the arithmetic for N machines: games per hour of one
   machine, times N, since batches of games are independent Dask tasks.
3. Chess.com's accuracy as an outside anchor: for each fixture player with reviewed games (JSON
   archives carry `accuracies`), the engine's Lichess-method game accuracy of the player's side
   against Chess.com's, Pearson r over the reviewed games (at most `--reviewed-per-player`,
   newest first).
"""

from __future__ import annotations

import argparse
import multiprocessing
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import chess
import polars as pl

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from adapters.engine import Engine, EngineConfig, GameJob, evaluate_in_pool, find_engine  # noqa: E402
from pipeline.analyse import game_jobs  # noqa: E402
from tests.conftest import FIXTURES  # noqa: E402
from tests.warehouse.real import fixture_players, parse_player  # noqa: E402
from transforms.engine import game_facts  # noqa: E402

# JSON archives first (they carry Chess.com's accuracies), then PGN exports, smallest first.
ORDER = ("magnuscarlsen", "shaunchess123", "fabianocaruana", "wizardchiken")


class _Players:
    """Fixture players parsed on first use (the largest hold tens of thousands of games)."""

    def __init__(self) -> None:
        self._frames: dict[str, tuple[pl.DataFrame, pl.DataFrame]] = {}

    def frames(self, user: str) -> tuple[pl.DataFrame, pl.DataFrame]:
        if user not in self._frames:
            self._frames[user] = parse_player(FIXTURES / user)
        return self._frames[user]

    def jobs(self, user: str) -> list[GameJob]:
        return game_jobs(user, *self.frames(user))

    def first_games(self, count: int) -> list[GameJob]:
        """`count` real games: the JSON players' newest first, then PGN players by size."""
        others = sorted(
            (u for u in fixture_players(FIXTURES) if u not in ORDER),
            key=lambda u: sum(p.stat().st_size for p in (FIXTURES / u).rglob("*.pgn")),
        )
        jobs: list[GameJob] = []
        for user in (*ORDER, *others):
            if len(jobs) >= count:
                break
            jobs += self.jobs(user)
        return jobs[:count]


def _searched_fens(jobs: list[GameJob]) -> list[str]:
    """The positions the adapter sends to the engine (it skips checkmates and stalemates)."""
    fens = []
    for job in jobs:
        board = chess.Board(job.initial_fen or chess.STARTING_FEN, chess960=job.chess960)
        for ply in range(len(job.moves) + 1):
            if ply:
                board.push_uci(job.moves[ply - 1])
            if not (board.is_checkmate() or board.is_stalemate()):
                fens.append(board.fen())
    return fens


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the engines, once they quit)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def _stockfish_bench(config: EngineConfig, fens: list[str]) -> float:
    """Seconds Stockfish's own `bench` spends on the positions (its Total time)."""
    with tempfile.NamedTemporaryFile("w", suffix=".fen", delete=False) as handle:
        handle.write("\n".join(fens) + "\n")
    command = [config.path, "bench", str(config.hash_mb), "1", str(config.nodes), handle.name]
    done = subprocess.run([*command, "nodes"], capture_output=True, text=True, check=True)
    match = re.search(r"Total time \(ms\)\s*:\s*(\d+)", done.stderr + done.stdout)
    if not match:
        raise RuntimeError(f"no 'Total time' in stockfish bench output: {done.stderr[-300:]}")
    return int(match.group(1)) / 1000


def _timed(config: EngineConfig, jobs: list[GameJob], workers: int, batch: int) -> float:
    batches = [jobs[i : i + batch] for i in range(0, len(jobs), batch)]
    start = time.perf_counter()
    for _ in evaluate_in_pool(config, batches, workers):
        pass
    return time.perf_counter() - start


def _spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def _cpu_control() -> float:
    """Pure CPU work: 2 processes over 1 (1.0 = no parallelism left on this machine)."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        list(pool.map(_spin, [10_000] * 2))  # start the workers before timing
        start = time.perf_counter()
        list(pool.map(_spin, [4_000_000]))
        one = time.perf_counter() - start
        start = time.perf_counter()
        list(pool.map(_spin, [4_000_000] * 2))
        two = time.perf_counter() - start
    return 2 * one / two


def _pearson(xs: list[float], ys: list[float]) -> float:
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    return float(sxy / (sxx * syy) ** 0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=20_000)
    parser.add_argument("--games", type=int, default=1_000)
    parser.add_argument("--throughput-games", type=int, default=20)
    parser.add_argument("--reviewed-per-player", type=int, default=1_000)
    parser.add_argument("--skip", nargs="*", default=[], choices=["throughput", "wall", "anchor"])
    args = parser.parse_args()
    config = EngineConfig(path=find_engine(None), nodes=args.nodes)
    print(f"engine {config.path}, {config.limit}")
    players = _Players()

    if "throughput" not in args.skip:
        jobs = players.jobs("magnuscarlsen")[: args.throughput_games]
        n = len(_searched_fens(jobs))
        # Interleaved game by game (baseline, then adapter, on the same game), so a change in
        # the machine's load during the run hits both sides alike.
        # Both sides without their start-up (Stockfish's Total time excludes its own): the
        # adapter's engine stays open, and its CPU is read once it quits.
        own = one = own_cpu = 0.0
        cpu_start = _cpu()
        with Engine(config) as engine:
            for job in jobs:
                before = _cpu()
                own += _stockfish_bench(config, _searched_fens([job]))
                own_cpu += _cpu() - before
                start = time.perf_counter()
                engine.evaluate_games([job])
                one += time.perf_counter() - start
        one_cpu = _cpu() - cpu_start - own_cpu
        two = _timed(config, jobs, 2, batch=max(1, len(jobs) // 4))
        one_again = _timed(config, jobs, 1, batch=max(1, len(jobs) // 4))
        control = _cpu_control()
        print(f"\n1. throughput over {len(jobs)} games, {n} searched positions")
        print(f"   stockfish bench (baseline) {n / own:8.1f} positions/s")
        print(f"   adapter, 1 worker          {n / one:8.1f} positions/s  = {own / one:.2f}x")
        print(
            f"   CPU per position: stockfish bench {1000 * own_cpu / n:.1f} ms, adapter "
            f"{1000 * one_cpu / n:.1f} ms (engine + Python) = {own_cpu / one_cpu:.2f}x"
        )
        print(
            f"   adapter, 2 workers         {n / two:8.1f} positions/s  = "
            f"{one_again / two:.2f}x 1 worker ({n / one_again:.1f}/s, measured next to it)"
        )
        print(f"   control: CPU work 2 procs over 1 = {control:.2f}x")

    if "wall" not in args.skip:
        jobs = players.first_games(args.games)
        positions = sum(len(j.moves) + 1 for j in jobs)
        wall = _timed(config, jobs, 2, batch=10)
        per_hour = len(jobs) / wall * 3600
        print(f"\n2. wall time, {len(jobs)} real fixture games ({positions} positions), 2 workers")
        print(f"   {wall:.1f} s = {per_hour:,.0f} games/hour on this machine")
        for machines in (1, 4, 16):
            hours = 50_000 / (per_hour * machines)
            print(f"   50,000 games on {machines:2d} such machine(s): {hours:6.1f} h")

    if "anchor" not in args.skip:
        print(f"\n3. engine game accuracy vs Chess.com accuracy (Pearson r, {config.limit})")
        for user in ORDER:
            games, moves = players.frames(user)
            reviewed = games.filter(pl.col("accuracy").is_not_null())
            if reviewed.height < 3:
                continue
            ids = set(reviewed["game_id"].to_list())
            jobs = [j for j in players.jobs(user) if j.game_id in ids][: args.reviewed_per_player]
            batches = [jobs[i : i + 5] for i in range(0, len(jobs), 5)]
            evals = pl.concat(list(evaluate_in_pool(config, batches, 2)))
            facts = game_facts(moves, evals)
            both = reviewed.join(facts, on=["game_id", "color"], how="inner").drop_nulls(
                ["accuracy", "engine_accuracy"]
            )
            r = _pearson(both["engine_accuracy"].to_list(), both["accuracy"].to_list())
            print(f"   {user:16s} n={both.height:4d}  r={r:.3f}  (target >= 0.7)")


if __name__ == "__main__":
    main()

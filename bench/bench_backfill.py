"""End-to-end backfill: mirror over loopback HTTP -> raw store -> lake -> DuckDB -> PostgreSQL.

Run: `uv run python bench/bench_backfill.py [--sizes 5000 20000 50000 200000] [--months 96]`.
Needs the local PostgreSQL on 127.0.0.1:5432 (TEST_POSTGRES_URL overrides the admin URL).

For each size a corpus of real games (bench/corpus.py) is served by `chess-patterns mirror` in
its own process; a fresh PostgreSQL database gets `chess-patterns db upgrade`; then one refresh
(bench/_refresh_child.py: the real stages, 2 parse workers by default) runs in a child process
while bench/proctree.py samples the memory of its whole process tree (pool workers included)
every 50 ms. Reported per size: wall time and peak RSS per stage (ingest, parse, summaries,
publish) and per process, then a second, no-op refresh of the same player (nothing changed:
conditional requests, no parse, identical snapshot), and the baseline measured in the same run:
a bare single-process `chess.pgn.read_game` loop over the same PGNs (only the loop is timed).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import chess.pgn

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.corpus import Corpus, SourceGame, build_corpus, source_games  # noqa: E402
from bench.proctree import TreeSampler  # noqa: E402

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
CHILD = REPO / "bench" / "_refresh_child.py"
STAGES = ("startup", "ingest", "parse", "summaries", "publish")


def _cli() -> str:
    return str(Path(sys.executable).with_name("chess-patterns"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def mirror(root: Path, player: str) -> Iterator[str]:
    """`chess-patterns mirror root` on a free port, in its own process; yields the base URL."""
    port = _free_port()
    process = subprocess.Popen(
        [_cli(), "mirror", str(root), "--port", str(port)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", f"/pub/player/{player}/games/archives")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("the mirror did not start")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/pub"
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database, upgraded (`chess-patterns db upgrade`), dropped afterwards."""
    import psycopg

    name = f"cp_bench_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    try:
        env = {**os.environ, "DATABASE_URL": url}
        subprocess.run(
            [_cli(), "db", "upgrade"], cwd=REPO, env=env, check=True, capture_output=True
        )
        yield url
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')


def _stage_windows(marks: list[dict[str, Any]]) -> dict[str, tuple[float, float]]:
    """Consecutive windows: each stage runs from the previous one's end to its own end (so the
    time between two wrapped calls, e.g. reading the games frame for publish, is counted)."""
    ends = {m["stage"]: m["at"] for m in marks if m["event"] == "end"}
    starts = {m["stage"]: m["at"] for m in marks if m["event"] == "start"}
    windows: dict[str, tuple[float, float]] = {}
    previous = starts.get("startup", 0.0)
    for stage in STAGES:
        if stage in ends:
            begin = previous if stage != "startup" else starts["startup"]
            windows[stage] = (begin, ends[stage])
            previous = ends[stage]
    return windows


def run_refresh(
    data_dir: Path, database_url: str, base_url: str, player: str, workers: int
) -> dict[str, Any]:
    """One refresh in a child process, its tree sampled; times and peaks per stage and process."""
    marks_path = data_dir / f"marks-{secrets.token_hex(3)}.jsonl"
    started = time.monotonic()
    child = subprocess.Popen(
        [
            sys.executable,
            str(CHILD),
            str(data_dir),
            database_url,
            base_url,
            player,
            str(marks_path),
            str(workers),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"},
    )
    with TreeSampler(child.pid) as sampler:
        stdout, stderr = child.communicate()
    process_wall = time.monotonic() - started
    if child.returncode != 0:
        raise RuntimeError(f"the refresh child failed:\n{stderr[-3000:]}")
    result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    if not result["ok"]:
        raise RuntimeError(f"the refresh did not succeed: {result}")
    marks = [json.loads(line) for line in marks_path.read_text().splitlines()]
    marks_path.unlink()
    stages: dict[str, Any] = {}
    for stage, (begin, end) in _stage_windows(marks).items():
        peaks = sampler.peaks(sampler.window(begin, end + sampler.interval))
        stages[stage] = {"wall_s": round(end - begin, 3), **_rounded(peaks)}
    result["process_wall_s"] = process_wall
    result["stages"] = stages
    result.update(_rounded(sampler.peaks(sampler.samples)))
    result["per_process"] = sampler.per_process(sampler.samples)[:8]
    return result


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 1) for k, v in values.items()}


def bare_read(corpus: Corpus, cap: int | None) -> dict[str, Any]:
    """Baseline: `chess.pgn.read_game` over the corpus' PGNs, month by month, one process; only
    the loop is timed. With `cap`, the first `cap` games are read and the rate scaled."""
    games = 0
    elapsed = 0.0
    for pgns in corpus.pgns():
        if cap is not None:
            pgns = pgns[: max(0, cap - games)]
            if not pgns:
                break
        start = time.perf_counter()
        for pgn in pgns:
            chess.pgn.read_game(io.StringIO(pgn))
        elapsed += time.perf_counter() - start
        games += len(pgns)
    return {
        "games_read": games,
        "seconds_read": elapsed,
        "seconds": elapsed * corpus.games / games,
        "scaled": games < corpus.games,
    }


def bench_size(
    games: int,
    months: int,
    *,
    workers: int = 2,
    baseline_cap: int | None = None,
    sources: list[SourceGame] | None = None,
    player: str = "benchplayer",
) -> dict[str, Any]:
    """Backfill then no-op refresh of a `games`-game corpus, beside the bare read of its PGNs."""
    with tempfile.TemporaryDirectory(prefix="bench-backfill-") as tmp:
        root = Path(tmp)
        built = time.perf_counter()
        corpus = build_corpus(root / "mirror", games, months, player=player, sources=sources)
        corpus_s = time.perf_counter() - built
        data_dir = root / "data"
        data_dir.mkdir()
        with mirror(corpus.root, player) as base_url, postgres_database() as database_url:
            backfill = run_refresh(data_dir, database_url, base_url, player, workers)
            noop = run_refresh(data_dir, database_url, base_url, player, workers)
        baseline = bare_read(corpus, baseline_cap)
        lake_mb = sum(p.stat().st_size for p in (data_dir / "lake").rglob("*.parquet")) / 2**20
        shutil.rmtree(data_dir, ignore_errors=True)
    if backfill["games"] != games:
        raise RuntimeError(f"the backfill counted {backfill['games']} games, not {games}")
    if (
        noop["snapshot_id"] != backfill["snapshot_id"]
        or noop["months_parsed"]
        or not noop["unchanged"]
    ):
        raise RuntimeError(f"the no-op refresh changed something: {noop}")
    return {
        "games": games,
        "months": len(corpus.months),
        "moves": backfill["moves"],
        "corpus_build_s": round(corpus_s, 2),
        "lake_mb": round(lake_mb, 1),
        "parse_workers": workers,
        "baseline": baseline,
        "backfill": backfill,
        "noop": noop,
        "ratio_backfill_to_baseline": backfill["wall_s"] / baseline["seconds"],
        "ratio_noop_to_backfill": noop["wall_s"] / backfill["wall_s"],
    }


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        f"{'games':>8} {'stage':<10} {'wall s':>8} {'tree MB':>8} {'max proc MB':>12}",
    ]
    for r in results:
        for stage in (*STAGES, "total", "no-op"):
            if stage == "total":
                b = r["backfill"]
                row = (b["wall_s"], b["tree_peak_mb"], b["process_peak_mb"])
            elif stage == "no-op":
                n = r["noop"]
                row = (n["wall_s"], n["tree_peak_mb"], n["process_peak_mb"])
            elif stage in r["backfill"]["stages"]:
                s = r["backfill"]["stages"][stage]
                row = (s["wall_s"], s["tree_peak_mb"], s["process_peak_mb"])
            else:
                continue
            lines.append(
                f"{r['games']:>8,} {stage:<10} {row[0]:>8.1f} {row[1]:>8.0f} {row[2]:>12.0f}"
            )
        base = r["baseline"]
        scaled = f"  (rate over {base['games_read']:,} games, scaled)" if base["scaled"] else ""
        lines.append(f"{r['games']:>8,} {'bare read':<10} {base['seconds']:>8.1f}{scaled}")
        lines.append(
            f"{'':>8} ratio backfill / bare read: {r['ratio_backfill_to_baseline']:.2f} "
            "(target <= 0.50); no-op / backfill: "
            f"{r['ratio_noop_to_backfill']:.3f}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5_000, 20_000, 50_000, 200_000])
    parser.add_argument("--months", type=int, default=96)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--baseline-cap", type=int, default=None, help="read at most N games for the baseline"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    sources = source_games()
    results = []
    for size in args.sizes:
        results.append(
            bench_size(
                size,
                args.months,
                workers=args.workers,
                baseline_cap=args.baseline_cap,
                sources=sources,
            )
        )
        print(table(results[-1:]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    print(f"CPUs: {os.cpu_count()}, load average now: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

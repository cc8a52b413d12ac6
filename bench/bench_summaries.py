"""Benchmark: all summaries for real games replicated to 5k/20k/50k vs a bare PGN-reading baseline.

Run: uv run python bench/bench_summaries.py [--sizes 5000 20000 50000] [--full-baseline]

Games come from the largest fixture player (biskupstunga, 18,216 real games) parsed by the
project's parser; copies get new ids, urls and times shifted by whole weeks, real moves. The
summaries run exactly as in a refresh: compute_summaries over a Parquet lake (one file per month).
The baseline, measured in the same run, is python-chess' bare `chess.pgn.read_game` loop over the
same games' PGN text: by default over the first size's games, its per-game rate scaled to the other
sizes (reading 50k games takes minutes); --full-baseline reads every size in full.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import chess.pgn
import polars as pl

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from adapters.warehouse import compute_summaries  # noqa: E402
from tests.conftest import FIXTURES  # noqa: E402
from tests.warehouse.real import parse_player  # noqa: E402
from transforms.pgn import split_pgn_games  # noqa: E402

PLAYER = "biskupstunga"


def source_pgns() -> list[str]:
    texts: list[str] = []
    for path in sorted((FIXTURES / PLAYER / "pgn").glob("*.pgn")):
        texts.extend(split_pgn_games(path.read_text(encoding="utf-8", errors="replace")))
    return texts


def replicate(
    games: pl.DataFrame, moves: pl.DataFrame, size: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`size` games: whole copies of the source then a part, each copy shifted by whole weeks."""
    span = games["end_time"].max() - games["end_time"].min()  # type: ignore[operator]
    weeks = int(span / timedelta(weeks=1)) + 1  # type: ignore[operator]
    game_parts, move_parts = [], []
    remaining, copy = size, 0
    while remaining > 0:
        part = games.head(remaining)
        shift = timedelta(weeks=weeks * copy)
        suffix = f"-r{copy}"
        game_parts.append(
            part.with_columns(
                pl.col("game_id") + suffix,
                pl.col("url") + suffix,
                pl.col("end_time") + shift,
                pl.col("start_time") + shift,
                (pl.col("end_time") + shift).dt.strftime("%Y-%m").alias("month"),
            )
        )
        ids = part["game_id"]
        move_parts.append(
            moves.filter(pl.col("game_id").is_in(ids.implode())).with_columns(
                pl.col("game_id") + suffix
            )
        )
        remaining -= part.height
        copy += 1
    return pl.concat(game_parts), pl.concat(move_parts)


def write_lake(root: Path, games: pl.DataFrame, moves: pl.DataFrame) -> tuple[str, str]:
    for kind, frame in (("games", games), ("moves", moves)):
        months = games.select("game_id", "month") if kind == "moves" else None
        data = frame if months is None else frame.join(months, on="game_id")
        for (month,), part in data.group_by(["month"]):
            folder = root / kind / f"username={PLAYER}" / f"month={month}"
            folder.mkdir(parents=True, exist_ok=True)
            part.drop("month" if kind == "moves" else []).write_parquet(folder / "part.parquet")
    return (
        str(root / "games" / f"username={PLAYER}" / "*" / "*.parquet"),
        str(root / "moves" / f"username={PLAYER}" / "*" / "*.parquet"),
    )


def read_game_seconds(pgns: list[str], count: int) -> float:
    """The bare python-chess reading loop over `count` games (the source repeated as needed)."""
    started = time.perf_counter()
    for i in range(count):
        chess.pgn.read_game(io.StringIO(pgns[i % len(pgns)]))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5_000, 20_000, 50_000])
    parser.add_argument("--full-baseline", action="store_true")
    args = parser.parse_args()

    started = time.perf_counter()
    games, moves = parse_player(FIXTURES / PLAYER)
    print(
        f"source: {PLAYER}, {games.height:,} games, {moves.height:,} moves "
        f"(project parser: {time.perf_counter() - started:.1f} s)"
    )
    pgns = source_pgns()
    first = args.sizes[0]
    per_game = read_game_seconds(pgns, first) / first
    print(f"baseline: chess.pgn.read_game {per_game * 1000:.2f} ms/game over {first:,} games")

    rows = []
    for size in args.sizes:
        big_games, big_moves = replicate(games, moves, size)
        with tempfile.TemporaryDirectory() as tmp:
            games_glob, moves_glob = write_lake(Path(tmp), big_games, big_moves)
            started = time.perf_counter()
            out = compute_summaries(games_glob, moves_glob, PLAYER, "Atlantic/Reykjavik")
            seconds = time.perf_counter() - started
        assert out["overview"].filter(pl.col("time_class") == "all")["games"].max() == size
        measured = args.full_baseline or size == first
        baseline = read_game_seconds(pgns, size) if args.full_baseline else per_game * size
        rows.append((size, big_moves.height, seconds, baseline, measured))

    print()
    print(
        f"{'games':>7} {'moves':>10} {'summaries s':>12} {'ms/1k games':>12} "
        f"{'read_game s':>12} {'ratio':>7}  (target ratio <= 10 %)"
    )
    for size, move_count, seconds, baseline, measured in rows:
        mark = "" if measured else " (rate x games)"
        print(
            f"{size:>7,} {move_count:>10,} {seconds:>12.2f} {seconds / size * 1e6:>12.1f} "
            f"{baseline:>12.1f} {seconds / baseline:>7.1%}{mark}"
        )
    (small, _, small_s, _, _), (large, _, large_s, _, _) = rows[0], rows[-1]
    print(
        f"\nlinearity: {large / small:.1f}x the games took {large_s / small_s:.1f}x the time "
        f"({large_s / large * 1e6:.0f} vs {small_s / small * 1e6:.0f} ms per 1k games)"
    )
    if len(rows) >= 2:
        # least squares seconds = fixed + per_game * games: a fixed start-up cost plus a
        # straight line is what "grows linearly" means here; the residuals show any curvature
        xs = [float(r[0]) for r in rows]
        ys = [r[2] for r in rows]
        mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
        slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum(
            (x - mean_x) ** 2 for x in xs
        )
        fixed = mean_y - slope * mean_x
        fits = ", ".join(
            f"{int(x):,}: {y - (fixed + slope * x):+.2f} s" for x, y in zip(xs, ys, strict=True)
        )
        print(f"fit: {fixed:.2f} s fixed + {slope * 1e6:.1f} ms per 1k games; residuals {fits}")


if __name__ == "__main__":
    main()

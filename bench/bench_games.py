"""Latency of the games drill-down on PostgreSQL for the biggest fixture player, with and without
its indexes, measured in the same run.

Run:  uv run python bench/bench_games.py [--repeat 30] [--others 4] [--games 'GLOB.parquet']
Needs the local PostgreSQL on 127.0.0.1:5432 (TEST_POSTGRES_URL overrides the admin URL).

It publishes biskupstunga (18,216 games, parsed from the fixture's PGN files, or read from a
lake's games partitions with --games) into a fresh database, plus --others copies of those games
under other usernames so that the games table holds several players as a shared database does.
Then each query below runs --repeat times through the API's own PostgresStore (the cold path:
one read-only round trip per page, no cache) and the median and p90 wall times are printed:
first with the migrations' games_drilldown and games_opponent indexes, then (the baseline)
with both dropped (the primary key on (username, game_id) remains).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import time
from datetime import date
from pathlib import Path

from adapters.database import Database
from api.games import GamesQuery
from api.store import PostgresStore

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(
    os.environ.get("CHESS_FIXTURES_DIR", REPO.parent / "shared" / "fixtures" / "chesscom")
)

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PLAYER = "biskupstunga"


def _games_from_pgn() -> object:
    import polars as pl

    from pipeline.imports import read_import_file
    from transforms.archive import parse_month

    by_month: dict[str, list[dict[str, object]]] = {}
    for path in sorted((FIXTURES / PLAYER / "pgn").glob("*.pgn")):
        for game in read_import_file(path):
            month = time.strftime("%Y-%m", time.gmtime(int(str(game["end_time"]))))
            by_month.setdefault(month, []).append(game)
    frames = [
        parse_month(PLAYER, month, json.dumps({"games": games}).encode()).games
        for month, games in sorted(by_month.items())
    ]
    return pl.concat(frames)


def _cases(opponent: str, eco: str, family: str) -> list[tuple[str, dict[str, object]]]:
    return [
        ("first page, no filter", {}),
        ("blitz + white + loss", {"time_class": "blitz", "color": "white", "result": "loss"}),
        ("one opponent", {"opponent": opponent}),
        ("eco", {"eco": eco}),
        ("opening family", {"opening_family": family}),
        ("one quarter (since/until)", {"since": date(2021, 1, 1), "until": date(2021, 3, 31)}),
        ("page 100 (offset 4950)", {"offset": 4950}),
        ("last page (limit 500)", {"offset": 18000, "limit": 500}),
    ]


async def _measure(
    store: PostgresStore, cases: list[tuple[str, GamesQuery]], repeat: int
) -> list[tuple[float, float, int]]:
    out = []
    for _name, query in cases:
        times = []
        total = 0
        for _ in range(repeat):
            start = time.perf_counter()
            _profile, total, _rows = await store.games_page(PLAYER, query)
            times.append((time.perf_counter() - start) * 1000)
        times.sort()
        out.append((statistics.median(times), times[int(len(times) * 0.9) - 1], total))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30, help="runs of each query")
    parser.add_argument("--others", type=int, default=4, help="other players sharing the table")
    parser.add_argument("--games", help="parquet glob of the player's games (skips parsing)")
    args = parser.parse_args()

    import polars as pl
    import psycopg

    from adapters.migrations import upgrade_schema
    from adapters.publish import publish_player

    start = time.perf_counter()
    games = pl.read_parquet(args.games) if args.games else _games_from_pgn()
    assert isinstance(games, pl.DataFrame)
    print(f"{PLAYER}: {games.height} games ready in {time.perf_counter() - start:.1f} s")

    name = f"cp_bench_games_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    try:
        upgrade_schema(
            Database.from_url(url)
        )  # `chess-patterns db upgrade`: a publish never migrates PostgreSQL
        publish_player(Database.from_url(url), PLAYER, {}, games)
        for i in range(args.others):
            other = f"other{i}"
            copy = games.with_columns(
                username=pl.lit(other), game_id=pl.col("game_id") + f"-{other}"
            )
            publish_player(Database.from_url(url), other, {}, copy)
        with psycopg.connect(url, autocommit=True) as conn:
            rows = conn.execute("select count(*) from games").fetchone()
            conn.execute("vacuum analyze games")
        print(f"games table: {rows[0] if rows else 0} rows, {1 + args.others} players")

        opponent = games.group_by(pl.col("opponent").str.to_lowercase()).len().sort("len")[-1, 0]
        eco = games.group_by("eco").len().drop_nulls().sort("len")[-1, 0]
        family = games.group_by("opening_family").len().drop_nulls().sort("len")[-3, 0]
        cases = _cases(opponent, eco, family)
        queries = [(label, GamesQuery(**params)) for label, params in cases]  # type: ignore[arg-type]

        store = PostgresStore(Database.from_url(url), pool_size=1)

        async def both() -> tuple[list[tuple[float, float, int]], list[tuple[float, float, int]]]:
            await store.games_page(PLAYER, GamesQuery())  # connect outside the measurement
            indexed = await _measure(store, queries, args.repeat)
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("drop index games_drilldown")
                conn.execute("drop index games_opponent")
                conn.execute("analyze games")
            baseline = await _measure(store, queries, args.repeat)
            await store.close()
            return indexed, baseline

        indexed, baseline = asyncio.run(both())
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')

    print()
    print(f"{'query':<28}{'games':>7}{'index p50':>11}{'p90':>8}{'no index p50':>14}{'p90':>8}")
    for (label, _), (p50, p90, total), (b50, b90, _t) in zip(cases, indexed, baseline, strict=True):
        print(f"{label:<28}{total:>7}{p50:>9.2f}ms{p90:>7.2f}{b50:>12.2f}ms{b90:>7.2f}")
    print()
    print("times: one read of pointer + count + page through PostgresStore (ms, wall clock)")


if __name__ == "__main__":
    main()

"""Load benchmark of the summary API against a bare FastAPI route, both measured here with wrk.

Run:  uv run python bench/bench_api.py [--duration 6] [--rounds 3] [--player shaunchess123]
Needs `wrk` (Debian/Ubuntu: `apt-get install -y wrk`) and the local PostgreSQL on 127.0.0.1:5432
(TEST_POSTGRES_URL overrides the admin URL). It publishes a real fixture player into a fresh
database, then serves, one uvicorn worker each, on the same settings:

  bare   a FastAPI route returning a constant body as large as the real answer (the baseline)
  warm   the real API with its caches warm (also: a 50-game page of the games drill-down)
  cold   the real API with its caches off: every request reads PostgreSQL

and prints requests/s, p50 and p99 for each, the ratios to the bare route, and the API's
cold-start time (process start to the first 200 of the summary route, via `chess-patterns serve`).
Targets: warm >= 60 % of bare at 32 connections; p99 <= 10 ms at 4; cold >= 25 % of bare.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from adapters.database import Database

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(
    os.environ.get("CHESS_FIXTURES_DIR", REPO.parent / "shared" / "fixtures" / "chesscom")
)
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

SERVER = """
import sys
import uvicorn
from fastapi import FastAPI
from starlette.responses import Response

kind, port, database_url, body_path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
if kind == "bare":
    body = open(body_path, "rb").read()
    app = FastAPI()

    @app.get("/bare")
    async def bare() -> Response:
        return Response(body, media_type="application/json")
else:
    from api.app import create_app
    from settings import Settings

    settings = Settings(_env_file=None, database_url=database_url,
                        api_rate_limit_per_minute=10**9)
    if kind == "cold":
        app = create_app(settings, cache_entries=0, snapshot_ttl_seconds=0)
    else:
        app = create_app(settings)
uvicorn.run(app, host="127.0.0.1", port=port, workers=1, access_log=False, log_level="warning")
"""


@dataclass
class Result:
    label: str
    connections: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _wait_ok(port: int, path: str, timeout: float = 30.0) -> float:
    """Seconds until `path` answers 200."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        try:
            if _get(port, path)[0] == 200:
                return time.perf_counter() - start
        except OSError:
            pass
        time.sleep(0.01)
    raise SystemExit(f"the server on port {port} did not answer 200 on {path} in {timeout} s")


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _wrk(label: str, url: str, connections: int, duration: int) -> Result:
    done = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    )
    out = done.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    pct = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.MULTILINE))
    p50 = re.fullmatch(r"([\d.]+)(us|ms|s)", pct["50"])
    p99 = re.fullmatch(r"([\d.]+)(us|ms|s)", pct["99"])
    if p50 is None or p99 is None:
        raise SystemExit(f"cannot read wrk's latency distribution:\n{out}")
    errors = " ".join(re.findall(r"(Non-2xx or 3xx responses: \d+|Socket errors:.*)", out))
    return Result(label, connections, rps, _ms(*p50.groups()), _ms(*p99.groups()), errors or "none")


class Server:
    def __init__(self, kind: str, database_url: str, body_path: Path) -> None:
        self.port = _free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVER, kind, str(self.port), database_url, str(body_path)],
            cwd=REPO,
        )

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def _publish(database_url: str, player: str) -> None:
    import polars as pl

    from adapters.migrations import upgrade_schema
    from adapters.publish import publish_player
    from adapters.warehouse import compute_summaries_from_frames
    from transforms.archive import parse_month

    months = sorted((FIXTURES / player).glob("[0-9]*/[0-9]*.json"))
    if not months:
        raise SystemExit(f"no monthly JSON for {player} under {FIXTURES}")
    parsed = [parse_month(player, f"{p.parent.name}-{p.stem}", p.read_bytes()) for p in months]
    games = pl.concat([p.games for p in parsed])
    moves = pl.concat([p.moves for p in parsed])
    upgrade_schema(
        Database.from_url(database_url)
    )  # `chess-patterns db upgrade`: a publish never migrates PostgreSQL
    report = publish_player(
        Database.from_url(database_url),
        player,
        compute_summaries_from_frames(games, moves, player),
        games,
    )
    print(f"published {player}: {games.height} games, {report.rows} rows, {report.bytes} bytes")


def _cold_start(database_url: str, path: str) -> float:
    """`chess-patterns serve` from process start to the first 200 of `path` (median of 3)."""
    cli = Path(sys.executable).with_name("chess-patterns")
    times = []
    for _ in range(3):
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        env["DATABASE_URL"] = database_url
        start = time.perf_counter()
        process = subprocess.Popen(
            [str(cli), "serve", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_ok(port, path)
            times.append(time.perf_counter() - start)
        finally:
            process.terminate()
            process.wait(timeout=10)
    return sorted(times)[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=6, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median kept)")
    parser.add_argument("--player", default="shaunchess123", help="fixture player to publish")
    parser.add_argument("--summary", default="results", help="summary to request")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk (Debian/Ubuntu)")

    import psycopg

    name = f"cp_bench_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    database_url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    tmp = Path(tempfile.mkdtemp(prefix="bench_api_"))
    servers: list[Server] = []
    try:
        _publish(database_url, args.player)
        path = f"/v1/players/{args.player}/summaries/{args.summary}"

        api = Server("warm", database_url, tmp / "unused")
        servers.append(api)
        _wait_ok(api.port, path)
        games_path = f"/v1/players/{args.player}/games?time_class=blitz"
        _wait_ok(api.port, games_path)
        _status, body = _get(api.port, path)
        body_path = tmp / "body.json"
        body_path.write_bytes(body)
        print(f"summary {args.summary}: {len(body)} bytes per answer")

        bare = Server("bare", database_url, body_path)
        servers.append(bare)
        _wait_ok(bare.port, "/bare")
        cold = Server("cold", database_url, body_path)
        servers.append(cold)
        _wait_ok(cold.port, path)

        def url(server: Server, route: str) -> str:
            return f"http://127.0.0.1:{server.port}{route}"

        # Warm both once briefly so the first measured second is not the JIT-less start.
        _wrk("warmup", url(api, path), 4, 2)
        _wrk("warmup", url(bare, "/bare"), 4, 2)
        runs = [
            ("bare", bare, "/bare", 32),
            ("api warm", api, path, 32),
            ("api cold (PostgreSQL)", cold, path, 32),
            ("bare", bare, "/bare", 4),
            ("api warm", api, path, 4),
            # Beside the summary: a drill-down page (50 rows, a larger body than the bare one).
            ("api warm games page", api, games_path, 32),
            ("api warm games page", api, games_path, 4),
        ]
        # The machine is shared: interleave the runs over several rounds and keep the median of
        # each, so that a burst of someone else's load does not land on one side only.
        rounds: list[list[Result]] = [[] for _ in runs]
        for _ in range(args.rounds):
            for i, (label, server, route, conns) in enumerate(runs):
                rounds[i].append(_wrk(label, url(server, route), conns, args.duration))
        results = [sorted(r, key=lambda x: x.rps)[len(r) // 2] for r in rounds]
        for server in servers:
            server.stop()
        servers.clear()
        cold_start = _cold_start(database_url, path)
    finally:
        for server in servers:
            server.stop()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')
        shutil.rmtree(tmp, ignore_errors=True)

    print()
    print(f"{'run':<24}{'conns':>6}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}  errors")
    for r in results:
        print(
            f"{r.label:<24}{r.connections:>6}{r.rps:>10.0f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}"
            f"  {r.errors}"
        )
    bare32, warm32, cold32, _bare4, warm4, _games32, games4 = results
    print()
    print(f"warm / bare at 32 connections: {warm32.rps / bare32.rps:.0%}  (target >= 60 %)")
    print(f"cold / bare at 32 connections: {cold32.rps / bare32.rps:.0%}  (target >= 25 %)")
    print(f"p99 of the warm API at 4 connections: {warm4.p99_ms:.2f} ms  (target <= 10 ms)")
    print(f"p99 of a warm games page at 4 connections: {games4.p99_ms:.2f} ms")
    print(f"cold start, `chess-patterns serve` to first 200: {cold_start:.2f} s  (target < 2 s)")


if __name__ == "__main__":
    main()

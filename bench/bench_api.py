"""Load benchmark of the summary API against uvicorn's own floor and a bare FastAPI route (wrk).

Run:  uv run python bench/bench_api.py [--duration 6] [--rounds 3] [--player shaunchess123]
Needs `wrk` (Debian/Ubuntu: `apt-get install -y wrk`) and the local PostgreSQL on 127.0.0.1:5432
(TEST_POSTGRES_URL overrides the admin URL). It publishes a real fixture player into a fresh
database, then serves, one uvicorn worker each, on the same settings:

  raw    a bare ASGI callable answering the real answer's exact bytes (status, headers, body):
         uvicorn's own floor, the baseline
  bare   a FastAPI route returning the same body
  warm   the real API with its caches warm (also: a 50-game page of the games drill-down)
  cold   the real API with its caches off: every request reads PostgreSQL

and prints requests/s, p50 and p99 for each, the ratios to the floor, and the API's cold-start
time (process start to the first 200 of the summary route, via `chess-patterns serve`).
Targets: warm >= 80 % of the raw floor at 32 connections; p99 <= 5 ms at 4 connections.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

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
if kind == "raw":
    import json

    body = open(body_path, "rb").read()
    headers = [(k.encode(), v.encode()) for k, v in json.load(open(body_path + ".headers"))]
    start = {"type": "http.response.start", "status": 200, "headers": headers}
    message = {"type": "http.response.body", "body": body}

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                event = await receive()
                if event["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await send(start)
        await send(message)
elif kind == "bare":
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
    status, _headers, body = _get_full(port, path)
    return status, body


def _get_full(port: int, path: str) -> tuple[int, list[tuple[str, str]], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read()
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


def run(
    duration: int = 6,
    rounds: int = 3,
    player: str = "shaunchess123",
    summary: str = "results",
    cold_start: bool = True,
) -> dict[str, Any]:
    """Every run of the module docstring; the medians, ratios to the floor and the targets."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk (Debian/Ubuntu)")

    import psycopg

    name = f"cp_bench_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    database_url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    tmp = Path(tempfile.mkdtemp(prefix="bench_api_"))
    servers: list[Server] = []
    started = 0.0
    try:
        _publish(database_url, player)
        path = f"/v1/players/{player}/summaries/{summary}"

        api = Server("warm", database_url, tmp / "unused")
        servers.append(api)
        _wait_ok(api.port, path)
        games_path = f"/v1/players/{player}/games?time_class=blitz"
        _wait_ok(api.port, games_path)
        _status, headers, body = _get_full(api.port, path)
        body_path = tmp / "body.json"
        body_path.write_bytes(body)
        # The floor answers the API's exact bytes: its headers (uvicorn adds date and server
        # to both alike) and its body.
        kept = [(k, v) for k, v in headers if k.lower() not in ("date", "server")]
        Path(f"{body_path}.headers").write_text(json.dumps(kept))
        print(f"summary {summary}: {len(body)} bytes per answer")

        raw = Server("raw", database_url, body_path)
        servers.append(raw)
        _wait_ok(raw.port, "/raw")
        bare = Server("bare", database_url, body_path)
        servers.append(bare)
        _wait_ok(bare.port, "/bare")
        cold = Server("cold", database_url, body_path)
        servers.append(cold)
        _wait_ok(cold.port, path)
        raw_body = _get_full(raw.port, "/raw")[2]
        if raw_body != body:
            raise SystemExit("the raw floor does not answer the API's bytes")

        def url(server: Server, route: str) -> str:
            return f"http://127.0.0.1:{server.port}{route}"

        # Warm each once briefly so the first measured second is not the JIT-less start.
        for server, route in ((api, path), (raw, "/raw"), (bare, "/bare")):
            _wrk("warmup", url(server, route), 4, min(2, duration))
        runs = [
            ("raw ASGI floor", raw, "/raw", 32),
            ("bare FastAPI", bare, "/bare", 32),
            ("api warm", api, path, 32),
            ("api cold (PostgreSQL)", cold, path, 32),
            ("raw ASGI floor", raw, "/raw", 4),
            ("bare FastAPI", bare, "/bare", 4),
            ("api warm", api, path, 4),
            # Beside the summary: a drill-down page (50 rows, a larger body than the summary).
            ("api warm games page", api, games_path, 32),
            ("api warm games page", api, games_path, 4),
        ]
        # The machine is shared: interleave the runs over several rounds and keep the median of
        # each, so that a burst of someone else's load does not land on one side only.
        measured: list[list[Result]] = [[] for _ in runs]
        for _ in range(rounds):
            for i, (label, server, route, conns) in enumerate(runs):
                measured[i].append(_wrk(label, url(server, route), conns, duration))
        results = [sorted(r, key=lambda x: x.rps)[len(r) // 2] for r in measured]
        for server in servers:
            server.stop()
        servers.clear()
        started = _cold_start(database_url, path) if cold_start else float("nan")
    finally:
        for server in servers:
            server.stop()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')
        shutil.rmtree(tmp, ignore_errors=True)

    raw32, bare32, warm32, cold32, _raw4, _bare4, warm4, _games32, games4 = results
    return {
        "body_bytes": len(body),
        "duration_s": duration,
        "rounds": rounds,
        "runs": [asdict(r) for r in results],
        "warm_to_floor_32": warm32.rps / raw32.rps,
        "bare_fastapi_to_floor_32": bare32.rps / raw32.rps,
        "warm_to_bare_fastapi_32": warm32.rps / bare32.rps,
        "cold_to_floor_32": cold32.rps / raw32.rps,
        "warm_p99_ms_4": warm4.p99_ms,
        "games_page_p99_ms_4": games4.p99_ms,
        "cold_start_s": started,
        "targets": {"warm_to_floor_32": ">= 0.8", "warm_p99_ms_4": "<= 5"},
        "met": {
            "warm_to_floor_32": warm32.rps / raw32.rps >= 0.8,
            "warm_p99_ms_4": warm4.p99_ms <= 5,
        },
    }


def table(report: dict[str, Any]) -> str:
    lines = [f"{'run':<24}{'conns':>6}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}  errors"]
    for r in report["runs"]:
        lines.append(
            f"{r['label']:<24}{r['connections']:>6}{r['rps']:>10.0f}{r['p50_ms']:>9.2f}"
            f"{r['p99_ms']:>9.2f}  {r['errors']}"
        )
    lines += [
        f"warm API / raw ASGI floor at 32 connections: {report['warm_to_floor_32']:.2f}"
        "  (target >= 0.80)",
        f"bare FastAPI / raw ASGI floor at 32: {report['bare_fastapi_to_floor_32']:.2f}; "
        f"warm API / bare FastAPI: {report['warm_to_bare_fastapi_32']:.2f}",
        f"cold API / raw ASGI floor at 32: {report['cold_to_floor_32']:.2f}",
        f"p99 of the warm API at 4 connections: {report['warm_p99_ms_4']:.2f} ms  (target <= 5 ms)",
        f"p99 of a warm games page at 4 connections: {report['games_page_p99_ms_4']:.2f} ms",
        f"cold start, `chess-patterns serve` to first 200: {report['cold_start_s']:.2f} s",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=6, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median kept)")
    parser.add_argument("--player", default="shaunchess123", help="fixture player to publish")
    parser.add_argument("--summary", default="results", help="summary to request")
    args = parser.parse_args()
    report = run(args.duration, args.rounds, args.player, args.summary)
    print()
    print(table(report))


if __name__ == "__main__":
    main()

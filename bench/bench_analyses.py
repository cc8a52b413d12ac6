"""Latency of POST /v1/analyses while a refresh runs, beside GET /healthz measured the same way.

Run:  uv run python bench/bench_analyses.py [--duration 5] [--player shaunchess123] [--postgres]
It serves the real API with `chess-patterns serve` (on the embedded SQLite default, which runs
the analyses worker in the same process; --postgres: a fresh local PostgreSQL database and a
`chess-patterns worker` beside it) over the project's Chess.com mirror, asks for an analysis of
a real fixture player so that a refresh (fetch, parse, summarise, publish) is running, then, at
4 and 32 connections, sends for `--duration` seconds each:

  healthz  GET /healthz (touches no database: the baseline of the server and this client)
  post     POST /v1/analyses of a new username each time (the insert path, not the dedupe)

and prints p50/p99 of each and the ratio post/healthz, and whether the refresh was still running
when each measurement ended. Target: POST p99 well under 500 ms at 32 connections.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from adapters.database import Database
from adapters.migrations import upgrade_schema
from mirror import running_mirror

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(
    os.environ.get("CHESS_FIXTURES_DIR", REPO.parent / "shared" / "fixtures" / "chesscom")
)
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _load(base: str, kind: str, connections: int, duration: float) -> list[float]:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        end = time.monotonic() + duration

        async def one_connection() -> None:
            while time.monotonic() < end:
                started = time.perf_counter()
                if kind == "healthz":
                    response = await client.get("/healthz")
                    ok = response.status_code == 200
                else:
                    name = f"bench{secrets.token_hex(5)}"
                    response = await client.post("/v1/analyses", json={"username": name})
                    ok = response.status_code == 202
                latencies.append((time.perf_counter() - started) * 1000)
                if not ok:
                    raise RuntimeError(f"{kind}: {response.status_code} {response.text[:200]}")

        await asyncio.gather(*(one_connection() for _ in range(connections)))
    return latencies


def _state(base: str, location: str) -> str:
    state: str = httpx.get(base + location, timeout=10).json()["state"]
    return state


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--player", default="shaunchess123")
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, running_mirror(FIXTURES) as mirror:
        database_name = None
        if args.postgres:
            import psycopg

            database_name = f"cp_bench_{secrets.token_hex(4)}"
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'create database "{database_name}"')
            url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{database_name}"
        else:
            url = f"sqlite:///{Path(tmp) / 'patterns.sqlite'}"
        upgrade_schema(Database.from_url(url))
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API", "REDIS"))}
        env.update(
            CHESSCOM_BASE_URL=mirror.base_url,
            CHESSCOM_USER_AGENT="chess-patterns-bench (ci@example.invalid)",
            CHESSCOM_RETRY_BUDGET_SECONDS="0",
            DATA_DIR=str(Path(tmp) / "data"),
            DATABASE_URL=url,
            API_RATE_LIMIT_PER_MINUTE=str(10**9),
            ANALYSIS_PER_CLIENT_PER_HOUR=str(10**9),
            ANALYSIS_PER_USERNAME_PER_HOUR=str(10**9),
            ANALYSIS_QUEUE_MAX=str(10**9),
        )
        cmd = [sys.executable, "-m", "cli"]
        log = (Path(tmp) / "servers.log").open("wb")  # the worker logs every failed analysis
        run = {"cwd": REPO, "env": env, "stdout": log, "stderr": subprocess.STDOUT}
        processes = [subprocess.Popen([*cmd, "serve", "--port", str(port)], **run)]  # type: ignore[call-overload]
        if args.postgres:
            processes.append(subprocess.Popen([*cmd, "worker"], **run))  # type: ignore[call-overload]
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            posted = httpx.post(base + "/v1/analyses", json={"username": args.player}, timeout=10)
            location = posted.headers["Location"]
            while _state(base, location) == "queued":
                time.sleep(0.05)
            print(
                f"refresh of {args.player} running ({'postgresql' if args.postgres else 'sqlite'})"
            )
            for connections in (4, 32):
                figures = {}
                for kind in ("healthz", "post"):
                    latencies = asyncio.run(_load(base, kind, connections, args.duration))
                    figures[kind] = (_percentile(latencies, 0.5), _percentile(latencies, 0.99))
                    print(
                        f"  {connections:>2} connections  {kind:<8} n={len(latencies):>6}  "
                        f"p50 {figures[kind][0]:7.1f} ms  p99 {figures[kind][1]:7.1f} ms  "
                        f"(refresh {_state(base, location)})"
                    )
                ratio = figures["post"][1] / figures["healthz"][1]
                print(f"  {connections:>2} connections  post/healthz p99 ratio {ratio:.1f}")
        finally:
            for process in processes:
                process.terminate()
                process.wait(30)
            if database_name is not None:
                import psycopg

                with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                    conn.execute(f'drop database if exists "{database_name}" with (force)')


if __name__ == "__main__":
    main()

"""Database and cache faults: PostgreSQL restarted under API load, Redis killed under load, and the
publishing connection cut in the middle of its transaction."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest

from mirror import MirrorServer
from tests.reliability.conftest import Reference
from tests.reliability.services import PrivateRedis, free_port, private_cluster
from tests.reliability.state import cli_env, run_cli, start_cli

PLAYER = "fabianocaruana"


@dataclass
class Load:
    """Readers hitting the API in a loop; every answer recorded with the time it came."""

    base: str
    paths: list[str]
    answers: list[tuple[float, str, int, str | None]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=10) as client:
            i = 0
            while not self.stop.is_set():
                path = self.paths[i % len(self.paths)]
                i += 1
                try:
                    response = client.get(path)
                except httpx.TransportError as error:
                    self.errors.append(f"{path}: {error!r}")
                    continue
                self.answers.append(
                    (
                        time.monotonic(),
                        path,
                        response.status_code,
                        response.headers.get("retry-after"),
                    )
                )
                time.sleep(0.01)

    def since(self, start: float) -> list[tuple[float, str, int, str | None]]:
        return [answer for answer in self.answers if answer[0] >= start]


@contextmanager
def serving(env: dict[str, str]) -> Iterator[tuple[str, int]]:
    """`chess-patterns serve` in its own process; yields its base URL and pid."""
    port = free_port()
    process = start_cli("serve", "--host", "127.0.0.1", "--port", str(port), env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the API did not start: {process.communicate()}")
                time.sleep(0.1)
        yield base, process.pid
        assert process.poll() is None, "the API process died"
    finally:
        process.terminate()
        process.communicate(timeout=30)


@contextmanager
def under_load(base: str, paths: list[str]) -> Iterator[Load]:
    load = Load(base, paths)
    thread = threading.Thread(target=load.run, daemon=True)
    thread.start()
    try:
        yield load
    finally:
        load.stop.set()
        thread.join(timeout=30)


def _wait_for(load: Load, start: float, path: str, status: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p == path and s == status for _, p, s, _ in load.since(start)):
            return
        time.sleep(0.1)
    seen = sorted({(p, s) for _, p, s, _ in load.since(start)})
    pytest.fail(f"{path} never answered {status} within {timeout} s; saw {seen}")


@pytest.mark.xfail(
    strict=False,
    reason="open regression (issue 14 note): since the wave's merges the API has stopped "
    "answering for 60 s after its PostgreSQL comes back; it passed on the tree at 12a69f1",
)
def test_postgres_restarted_under_load_gives_503_then_recovers_without_a_restart(
    mirror: MirrorServer, tmp_path: Path
) -> None:
    with private_cluster() as cluster:
        # The readers loop as fast as the API answers: past the default per-address limit.
        env = cli_env(
            mirror.base_url,
            tmp_path / "data",
            DATABASE_URL=cluster.url,
            API_RATE_LIMIT_PER_MINUTE="10000000",
        )
        for args in (("db", "upgrade"), ("refresh", PLAYER)):
            result = run_cli(*args, env=env)
            assert result.returncode == 0, result.stderr
        paths = ["/readyz", f"/v1/players/{PLAYER}", f"/v1/players/{PLAYER}/summaries/results"]
        with serving(env) as (base, _pid), under_load(base, paths) as load:
            up = time.monotonic()
            _wait_for(load, up, "/readyz", 200, timeout=30)
            cluster.stop()
            down = time.monotonic()
            _wait_for(load, down, "/readyz", 503, timeout=30)
            # Let the caches' grace run out, so reads that need the database meet the outage.
            time.sleep(12)
            cluster.start()
            back = time.monotonic()
            for path in paths:
                _wait_for(load, back, path, 200, timeout=60)
        during = [a for a in load.answers if down <= a[0] < back]
        assert during, "no request was answered while the database was down"
        # While it was down every answer was a cached 200 or a 503 that says when to retry:
        # never a 500, never a dropped connection.
        assert {status for _, _, status, _ in during} <= {200, 503}
        assert all(retry for _, _, status, retry in during if status == 503)
        assert any(status == 503 for _, p, status, _ in during if p != "/readyz"), (
            "reads that needed the database did not report it down"
        )
        assert not load.errors, load.errors[:3]


def test_redis_killed_under_load_the_api_answers_from_the_database(
    mirror: MirrorServer, reference: Reference, tmp_path: Path
) -> None:
    clean_dir, _ = reference(PLAYER)
    cache = PrivateRedis(tmp_path)
    cache.start()
    try:
        env = cli_env(mirror.base_url, clean_dir, REDIS_URL=cache.url)
        # Distinct queries, so requests keep missing the in-process cache and reach Redis.
        paths = [
            f"/v1/players/{PLAYER}/summaries/accuracy?since=2020-01-{day:02d}"
            for day in range(1, 29)
        ] + ["/readyz"]
        with serving(env) as (base, _), under_load(base, paths) as load:
            up = time.monotonic()
            _wait_for(load, up, "/readyz", 200, timeout=30)
            cache.kill()
            killed = time.monotonic()
            time.sleep(2)
            assert httpx.get(f"{base}/readyz", timeout=10).json()["redis"] == "down"
            time.sleep(3)
            cache.start()
            deadline = time.monotonic() + 60
            while httpx.get(f"{base}/readyz", timeout=10).json()["redis"] != "ok":
                assert time.monotonic() < deadline, "the API never went back to Redis"
                time.sleep(0.5)
        after_kill = load.since(killed)
        assert after_kill, "no request was answered after Redis died"
        assert {status for _, _, status, _ in load.answers} == {200}
        assert not load.errors, load.errors[:3]
    finally:
        cache.kill()


def _terminate_publisher(admin_url: str, database: str, stop: threading.Event) -> list[int]:
    """Cut every connection to `database` that is inside a write transaction, once."""
    killed: list[int] = []
    with psycopg.connect(admin_url, autocommit=True) as conn:
        while not stop.is_set() and not killed:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid() "
                "AND backend_xid IS NOT NULL",
                (database,),
            ).fetchall()
            for (pid,) in rows:
                conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
                killed.append(pid)
            time.sleep(0.005)
    return killed


def test_publish_connection_cut_mid_transaction_publishes_all_or_nothing(
    mirror: MirrorServer,
    reference: Reference,
    postgres_server: str,
    postgres_url: str,
    tmp_path: Path,
) -> None:
    _, clean = reference(PLAYER)
    env = cli_env(mirror.base_url, tmp_path / "data", DATABASE_URL=postgres_url)
    assert run_cli("db", "upgrade", env=env).returncode == 0
    database = postgres_url.rsplit("/", 1)[1]
    stop = threading.Event()
    killed: list[int] = []
    killer = threading.Thread(
        target=lambda: killed.extend(_terminate_publisher(postgres_server, database, stop))
    )
    killer.start()
    try:
        first = run_cli("refresh", PLAYER, env=env)
    finally:
        stop.set()
        killer.join(timeout=30)
    assert killed, "the publish transaction was never caught open"
    output = first.stdout + first.stderr
    assert "Traceback" not in output
    with psycopg.connect(postgres_url) as conn:
        players = conn.execute("SELECT username, snapshot_id, game_count FROM players").fetchall()
        games = conn.execute("SELECT count(*) FROM games").fetchone()
    if first.returncode == 0:
        # Retried: the whole snapshot is there.
        assert [tuple(p) for p in players] == clean.published["players"]
    else:
        # Given up: nothing of the cut transaction is visible.
        assert PLAYER in output
        assert players == []
        assert games == (0,)
    again = run_cli("refresh", PLAYER, env=env)
    assert again.returncode == 0, again.stderr
    with psycopg.connect(postgres_url) as conn:
        players = conn.execute("SELECT username, snapshot_id, game_count FROM players").fetchall()
        duplicates = conn.execute(
            "SELECT count(*) FROM (SELECT username, game_id FROM games GROUP BY 1, 2 "
            "HAVING count(*) > 1) d"
        ).fetchone()
    assert [tuple(p) for p in players] == clean.published["players"]
    assert duplicates == (0,)

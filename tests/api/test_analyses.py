"""On-demand analyses end to end: POST /v1/analyses queues, a worker refreshes over the mirror,
GET follows; dedupe, freshness, a restart, limits and API keys, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from adapters.analyses import AnalysisQueue
from adapters.database import Database
from adapters.migrations import upgrade_schema
from api.app import create_app
from mirror import Fault, MirrorServer, running_mirror
from pipeline.analyses import run_worker
from settings import Settings
from tests.test_end_to_end import expected_results, fixture_game_count

PLAYER = "fabianocaruana"  # one recorded month of JSON
OTHER = "wizardchiken"
UNKNOWN = "nosuchplayer404"


@pytest.fixture(scope="module")
def mirror(fixtures_dir: Path) -> Iterator[MirrorServer]:
    with running_mirror(fixtures_dir) as server:
        yield server


@pytest.fixture
def migrated(database_url: str) -> str:
    """The published database at the current schema (`serve` does this for SQLite)."""
    upgrade_schema(Database.from_url(database_url))
    return database_url


def settings_for(url: str, mirror: MirrorServer, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "database_url": url,
        "chesscom_base_url": mirror.base_url,
        "chesscom_user_agent": "chess-patterns-tests (ci@example.invalid)",
        "chesscom_retry_budget_seconds": 0,
        "api_rate_limit_per_minute": 1_000_000,
        "analysis_per_client_per_hour": 1000,
        "analysis_per_username_per_hour": 1000,
        "analysis_worker_poll_seconds": 0.05,
        **overrides,
    }
    return Settings(_env_file=None, **values)


@contextmanager
def client_for(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


@contextmanager
def worker(settings: Settings) -> Iterator[None]:
    """A worker in a thread, as `chess-patterns serve` runs one, stopped at the end."""
    stop = threading.Event()
    thread = threading.Thread(target=run_worker, args=(settings,), kwargs={"stop": stop})
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(120)


def follow(client: TestClient, location: str) -> dict[str, Any]:
    """Polls the analysis until it ends (bounded by a generous deadline, never asserted on)."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        response = client.get(location)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["state"] in {"succeeded", "failed"}:
            assert "Retry-After" not in response.headers
            return body
        assert body["state"] in {"queued", "running"}
        assert response.headers["Retry-After"].isdigit()
        time.sleep(0.1)
    raise AssertionError(f"{location} did not finish")


def rows(url: str) -> list[tuple[Any, ...]]:
    engine = Database.from_url(url).engine()
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text("select username, state from analyses"))]
    finally:
        engine.dispose()


def test_post_queues_and_the_worker_publishes_what_the_fixtures_say(
    migrated: str, mirror: MirrorServer, fixtures_dir: Path, tmp_path: Path
) -> None:
    settings = settings_for(migrated, mirror, tmp_path)
    mirror.clear_log()
    with client_for(settings) as client:
        posted = client.post("/v1/analyses", json={"username": "FabianoCaruana", "game_count": 50})
        assert posted.status_code == 202, posted.text
        body = posted.json()
        assert posted.headers["Location"] == f"/v1/analyses/{body['id']}"
        assert int(posted.headers["Retry-After"]) >= 1
        assert body["username"] == PLAYER
        assert body["state"] == "queued"
        assert body["game_count"] == 50
        assert body["scope"] == "all"
        assert body["created_at"]
        assert body["started_at"] is None
        assert body["finished_at"] is None
        assert not [r for r in mirror.log() if PLAYER in r.path]  # Chess.com not asked yet

        with worker(settings):
            done = follow(client, posted.headers["Location"])
        assert done["state"] == "succeeded", done
        assert done["reason"] is None
        assert done["started_at"]
        assert done["finished_at"]

        profile = client.get(done["links"]["profile"]).json()
        assert profile["snapshot_id"] == done["snapshot_id"]
        assert profile["game_count"] == fixture_game_count(fixtures_dir, PLAYER)
        results = client.get(done["links"]["summaries"]["results"])
        assert results.status_code == 200
        got = {
            (r["time_class"], r["color"]): Counter(
                wins=r["wins"], draws=r["draws"], losses=r["losses"]
            )
            for r in results.json()["rows"]
        }
        assert got == expected_results(fixtures_dir, PLAYER)

        # Just published: a new request gets the current snapshot and queues nothing.
        again = client.post("/v1/analyses", json={"username": PLAYER})
        assert again.status_code == 200, again.text
        assert again.json()["snapshot_id"] == done["snapshot_id"]
        assert again.json()["links"]["profile"] == f"/v1/players/{PLAYER}"
    assert rows(migrated) == [(PLAYER, "succeeded")]


def test_unknown_and_blocked_players_fail_with_reasons_a_player_understands(
    fixtures_dir: Path, sqlite_url: str, tmp_path: Path
) -> None:
    faults = {f"/player/{OTHER}/games/archives": [Fault.blocked_html(times=None)]}
    with running_mirror(fixtures_dir, faults=faults) as mirror:
        settings = settings_for(sqlite_url, mirror, tmp_path)
        upgrade_schema(Database.from_url(sqlite_url))
        with client_for(settings) as client:
            unknown = client.post("/v1/analyses", json={"username": UNKNOWN})
            blocked = client.post("/v1/analyses", json={"username": OTHER})
            assert unknown.status_code == blocked.status_code == 202
            with worker(settings):
                failed_unknown = follow(client, unknown.headers["Location"])
                failed_blocked = follow(client, blocked.headers["Location"])
            assert failed_unknown["state"] == "failed"
            assert failed_unknown["reason"] == "no such Chess.com player"
            assert failed_blocked["state"] == "failed"
            assert failed_blocked["reason"] == "Chess.com is blocking us, try later"
            assert failed_unknown["links"] is None
            assert failed_unknown["snapshot_id"] is None
            assert client.get(f"/v1/players/{UNKNOWN}").status_code == 404


def test_twenty_concurrent_posts_for_one_player_are_one_analysis(
    migrated: str, mirror: MirrorServer, tmp_path: Path
) -> None:
    # A limit of one run per player: the nineteen that join the first are not new runs.
    app = create_app(settings_for(migrated, mirror, tmp_path, analysis_per_username_per_hour=1))

    async def twenty() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await asyncio.gather(
                *[client.post("/v1/analyses", json={"username": OTHER}) for _ in range(20)]
            )

    responses = asyncio.run(twenty())
    assert {r.status_code for r in responses} == {202}
    assert len({r.json()["id"] for r in responses}) == 1
    assert rows(migrated) == [(OTHER, "queued")]


def test_concurrent_requests_from_threads_share_one_row(migrated: str) -> None:
    """The queue itself, without the API: twenty threads on twenty connections."""
    queue = AnalysisQueue(Database.from_url(migrated), pool_size=20)
    ids: list[str] = []
    barrier = threading.Barrier(20)

    def ask() -> None:
        barrier.wait()
        requested = queue.request(
            OTHER,
            game_count=None,
            client="t",
            now=datetime.now(UTC),
            fresh_seconds=0,
            max_queued=100,
        )
        assert requested.analysis is not None
        ids.append(requested.analysis.id)

    threads = [threading.Thread(target=ask) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    queue.close()
    assert len(ids) == 20
    assert len(set(ids)) == 1


def test_the_queue_survives_a_restart_of_the_api_and_the_worker(
    migrated: str, mirror: MirrorServer, fixtures_dir: Path, tmp_path: Path
) -> None:
    settings = settings_for(migrated, mirror, tmp_path, analysis_stale_seconds=0.001)
    with client_for(settings) as first:
        queued = first.post("/v1/analyses", json={"username": OTHER})
        left_running = first.post("/v1/analyses", json={"username": PLAYER})
    assert queued.status_code == left_running.status_code == 202
    # A worker claimed the second and stopped (crashed) before finishing it.
    crashed = AnalysisQueue(Database.from_url(migrated))
    claimed = crashed.claim(datetime.now(UTC))
    crashed.close()
    assert claimed is not None
    assert claimed.id == queued.json()["id"]
    time.sleep(0.01)  # older than analysis_stale_seconds
    with client_for(settings) as second, worker(settings):
        done = [follow(second, r.headers["Location"]) for r in (queued, left_running)]
    assert [d["state"] for d in done] == ["succeeded", "succeeded"]
    assert sorted(rows(migrated)) == [(PLAYER, "succeeded"), (OTHER, "succeeded")]


def test_invalid_requests_are_422_and_queue_nothing(
    sqlite_url: str, mirror: MirrorServer, tmp_path: Path
) -> None:
    upgrade_schema(Database.from_url(sqlite_url))
    with client_for(settings_for(sqlite_url, mirror, tmp_path)) as client:
        for body in [
            {"username": "no spaces"},
            {"username": ""},
            {"username": "x" * 51},
            {"username": PLAYER, "game_count": 0},
            {"username": PLAYER, "game_count": 501},
            {"username": PLAYER, "game_count": "many"},
            {"username": PLAYER, "extra": 1},
            {},
            [],
        ]:
            response = client.post("/v1/analyses", json=body)
            assert response.status_code == 422, (body, response.text)
            assert response.headers["content-type"] == "application/problem+json"
        assert client.post("/v1/analyses", content=b"{not json").status_code == 422
        assert client.get("/v1/analyses/" + "0" * 32).status_code == 404
        assert client.get("/v1/analyses/../players").status_code == 404
    assert rows(sqlite_url) == []


def test_limits_answer_429_and_a_full_queue_503_with_retry_after(
    sqlite_url: str, mirror: MirrorServer, tmp_path: Path
) -> None:
    upgrade_schema(Database.from_url(sqlite_url))
    per_player = settings_for(sqlite_url, mirror, tmp_path, analysis_per_username_per_hour=1)
    with client_for(per_player) as client:
        first = client.post("/v1/analyses", json={"username": OTHER})
        assert first.status_code == 202
        # Joining the queued analysis is not a new run: it does not count against the limit.
        joined = client.post("/v1/analyses", json={"username": "WizardChiken"})
        assert joined.status_code == 202
        assert joined.json()["id"] == first.json()["id"]
        queue = AnalysisQueue(Database.from_url(sqlite_url))
        claimed = queue.claim(datetime.now(UTC))
        assert claimed is not None
        queue.finish(claimed.id, state="failed", now=datetime.now(UTC), reason="test")
        queue.close()
        limited = client.post("/v1/analyses", json={"username": OTHER})  # a second new run
        assert limited.status_code == 429, limited.text
        assert int(limited.headers["Retry-After"]) >= 1
        assert limited.headers["content-type"] == "application/problem+json"
        # Another player is not limited by this one's requests.
        assert client.post("/v1/analyses", json={"username": PLAYER}).status_code == 202
    # The failed one is out of the queue; PLAYER is queued.
    queue = AnalysisQueue(Database.from_url(sqlite_url))
    claimed = queue.claim(datetime.now(UTC))
    assert claimed is not None
    assert claimed.username == PLAYER
    queue.finish(claimed.id, state="failed", now=datetime.now(UTC), reason="test")
    queue.close()

    per_client = settings_for(sqlite_url, mirror, tmp_path, analysis_per_client_per_hour=1)
    with client_for(per_client) as client:
        assert client.post("/v1/analyses", json={"username": OTHER}).status_code == 202
        limited = client.post("/v1/analyses", json={"username": "magnuscarlsen"})
        assert limited.status_code == 429
        assert int(limited.headers["Retry-After"]) >= 1
        assert client.get("/v1/analyses/" + "0" * 32).status_code == 404  # reads stay open

    full = settings_for(sqlite_url, mirror, tmp_path, analysis_queue_max=2)
    with client_for(full) as client:
        assert client.post("/v1/analyses", json={"username": PLAYER}).status_code == 202
        # OTHER and PLAYER are queued: the queue is full
        refused = client.post("/v1/analyses", json={"username": "magnuscarlsen"})
        assert refused.status_code == 503, refused.text
        assert int(refused.headers["Retry-After"]) >= 1
        # A player already queued still gets its analysis: it takes no new place.
        assert client.post("/v1/analyses", json={"username": OTHER}).status_code == 202
    assert sorted(rows(sqlite_url)) == [
        (PLAYER, "failed"),
        (PLAYER, "queued"),
        (OTHER, "failed"),
        (OTHER, "queued"),
    ]


def test_api_keys_guard_the_post_and_leave_reads_open(
    sqlite_url: str, mirror: MirrorServer, tmp_path: Path
) -> None:
    upgrade_schema(Database.from_url(sqlite_url))
    settings = settings_for(sqlite_url, mirror, tmp_path, analysis_api_keys=["k-one", "k-two"])
    with client_for(settings) as client:
        body = {"username": OTHER}
        missing = client.post("/v1/analyses", json=body)
        assert missing.status_code == 401, missing.text
        assert missing.headers["content-type"] == "application/problem+json"
        assert missing.headers["WWW-Authenticate"].startswith("Bearer")
        basic = client.post("/v1/analyses", json=body, headers={"Authorization": "Basic k-one"})
        assert basic.status_code == 401
        wrong = client.post("/v1/analyses", json=body, headers={"Authorization": "Bearer k-on"})
        assert wrong.status_code == 403
        assert wrong.headers["content-type"] == "application/problem+json"
        assert rows(sqlite_url) == []
        good = client.post("/v1/analyses", json=body, headers={"Authorization": "Bearer k-two"})
        assert good.status_code == 202
        assert client.get(good.headers["Location"]).status_code == 200  # no key needed to read
        assert client.get(f"/v1/players/{OTHER}").status_code == 404


@pytest.fixture
def writer_role_url(postgres_url: str) -> Iterator[str]:
    """A role made by sql/serving/analyses_role.postgresql.sql (under a unique name: roles
    belong to the whole server), and a URL that logs in as it."""
    import secrets

    import psycopg

    from adapters.db import SQL_DIR

    upgrade_schema(Database.from_url(postgres_url))
    role = f"cp_analyses_{secrets.token_hex(4)}"
    script = (SQL_DIR / "analyses_role.postgresql.sql").read_text(encoding="utf-8")
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(script.replace("chess_patterns_analyses", role))  # a fixed file
    try:
        yield f"postgresql://{role}@{postgres_url.split('://', 1)[1].split('@', 1)[1]}"
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity where usename = %s",
                (role,),
            )
            admin.execute(f'drop owned by "{role}"')
            admin.execute(f'drop role "{role}"')


def test_the_writer_role_records_analyses_and_can_change_nothing_else(
    postgres_url: str, writer_role_url: str, mirror: MirrorServer, tmp_path: Path
) -> None:
    import psycopg

    settings = settings_for(postgres_url, mirror, tmp_path, analysis_database_url=writer_role_url)
    with client_for(settings) as client:
        posted = client.post("/v1/analyses", json={"username": OTHER})
        assert posted.status_code == 202, posted.text
        assert client.get(posted.headers["Location"]).json()["state"] == "queued"
    assert rows(postgres_url) == [(OTHER, "queued")]
    with psycopg.connect(writer_role_url, autocommit=True) as conn:
        for statement in (
            "delete from analyses",
            "truncate analyses",
            "update players set game_count = 0",
            "delete from players",
            "insert into schema_migrations (name, checksum, applied_at) values ('x', 'x', 'x')",
            "select count(*) from games",
            "create table intruder (a integer)",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
    assert rows(postgres_url) == [(OTHER, "queued")]


def test_the_worker_command_runs_what_the_api_queued(
    sqlite_url: str, mirror: MirrorServer, fixtures_dir: Path, tmp_path: Path
) -> None:
    from tests.test_end_to_end import cli_env, run_cli

    upgrade_schema(Database.from_url(sqlite_url))
    settings = settings_for(sqlite_url, mirror, tmp_path)
    with client_for(settings) as client:
        posted = client.post("/v1/analyses", json={"username": PLAYER})
        assert posted.status_code == 202
        result = run_cli(
            "worker", "--until-idle", env=cli_env(mirror, settings.data_dir, sqlite_url)
        )
        assert result.returncode == 0, result.stderr
        assert "1 analyses run" in result.stdout
        done = client.get(posted.headers["Location"]).json()
        assert done["state"] == "succeeded"
        profile = client.get(f"/v1/players/{PLAYER}").json()
        assert profile["game_count"] == fixture_game_count(fixtures_dir, PLAYER)


def test_serve_runs_a_worker_thread_for_the_app_s_lifetime(
    sqlite_url: str, mirror: MirrorServer, tmp_path: Path
) -> None:
    """As `chess-patterns serve` does on the embedded default: the worker starts with the app."""
    from cli import _with_worker_thread

    upgrade_schema(Database.from_url(sqlite_url))
    settings = settings_for(sqlite_url, mirror, tmp_path)
    app = create_app(settings)
    _with_worker_thread(app, settings)
    with TestClient(app) as client:
        posted = client.post("/v1/analyses", json={"username": OTHER})
        assert posted.status_code == 202
        assert follow(client, posted.headers["Location"])["state"] == "succeeded"

"""Publishing and serving through PgBouncer in transaction mode, as Neon's pooled endpoint runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from adapters.database import Database
from adapters.publish import publish_player
from adapters.reads import read_player
from tests.api.conftest import MakeClient
from tests.api.sample import alice
from tests.conftest import free_port


@pytest.fixture
def pooled_url(postgres_url: str) -> Iterator[str]:
    """postgres_url reached through a private PgBouncer (transaction pooling, 2 server conns)."""
    binary = shutil.which("pgbouncer") or (
        "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
    )
    if binary is None:
        message = "pgbouncer is not installed (apt-get install pgbouncer)"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(message)  # .ci/run installs it: missing there is a broken CI script
        pytest.skip(message)
    port = free_port()
    # Not under pytest's tmp_path: that is private to this user, and PgBouncer may run as another.
    home = Path(tempfile.mkdtemp(prefix="cp-pgbouncer-"))
    user = postgres_url.split("://", 1)[1].split("@", 1)[0]
    (home / "users.txt").write_text(f'"{user}" ""\n')
    (home / "pgbouncer.ini").write_text(
        "[databases]\n* = host=127.0.0.1 port=5432\n"
        f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\n"
        f"auth_type = trust\nauth_file = {home / 'users.txt'}\n"
        "pool_mode = transaction\ndefault_pool_size = 2\nmax_client_conn = 100\n"
        f"unix_socket_dir =\nlogfile = {home / 'pgbouncer.log'}\n"
    )
    command = [binary, str(home / "pgbouncer.ini")]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root
        for path in (home, *home.iterdir()):
            path.chmod(0o777)
        command[1:1] = ["-u", "postgres"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    database = postgres_url.rsplit("/", 1)[1]
    url = f"postgresql://{user}@127.0.0.1:{port}/{database}"
    try:
        for _ in range(100):
            try:
                with psycopg.connect(url, connect_timeout=2):
                    break
            except psycopg.OperationalError:
                time.sleep(0.05)
        else:
            log = home / "pgbouncer.log"
            pytest.fail(f"pgbouncer did not start: {log.read_text() if log.exists() else ''}")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(home, ignore_errors=True)


def test_publish_and_serve_through_a_transaction_pooler(
    pooled_url: str, postgres_url: str, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    summaries, games = alice()
    snapshots = set()
    for i in range(4):  # more transactions than the pooler has server connections
        report = publish_player(
            Database.from_url(pooled_url), "alice", summaries, games if i % 2 else games.head(2)
        )
        snapshots.add(report.snapshot_id)
    assert len(snapshots) == 2
    player = read_player(Database.from_url(postgres_url), "alice")
    assert player is not None
    assert player["snapshot_id"] == report.snapshot_id
    assert player["game_count"] == 5

    client = make_client(pooled_url, cache_entries=0, snapshot_ttl_seconds=0)
    # Every other request, another client holds a server connection in a transaction, so the
    # API's transactions alternate between the pooler's two server connections: session state
    # (a prepared statement, a SET) left on one of them would be missing on the other.
    with psycopg.connect(pooled_url, autocommit=True) as holder:
        backends = set()
        for i in range(16):
            if i % 2:
                holder.execute("begin")
                holder.execute("select 1")
            body = client.get("/v1/players/alice/summaries/results").json()
            assert body["snapshot_id"] == report.snapshot_id, body
            backends.add(store_read(client, "select pg_backend_pid()"))
            if i % 2:
                holder.execute("commit")
    assert len(backends) == 2
    assert client.get("/readyz").json()["database"] == "ok"
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        store_read(client, "delete from players")
    # The read-only startup option reaches the server, or (PgBouncer refuses startup options)
    # the API connected without it and said so: BEGIN READ ONLY is then the guard left.
    refused = any("refuses startup options" in r.getMessage() for r in caplog.records)
    session = store_read(client, "select current_setting('default_transaction_read_only')")
    assert refused or session == "on"


def store_read(client: TestClient, statement: str) -> object:
    """The first value a statement returns through the API's own store (its event loop)."""
    store = client.app.state.store  # type: ignore[attr-defined]
    assert client.portal is not None
    result = client.portal.call(store.read, [statement])
    return result[0][0][0] if result and result[0] else None

"""Every error answer: problem+json, right status, Retry-After where due, never a stack trace."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from adapters.database import Database
from api.service import Service
from tests.api.conftest import MakeClient
from tests.conftest import free_port

SUMMARY = "/v1/players/alice/summaries/results"


def _is_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    assert body["status"] == status
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert "Traceback" not in response.text
    return body


def test_unknown_summary_and_route_are_404(published: str, make_client: MakeClient) -> None:
    client = make_client(published)
    body = _is_problem(client.get("/v1/players/alice/summaries/nonsense"), 404)
    assert "results" in str(body["detail"])  # says which summaries exist
    _is_problem(client.get("/v2/anything"), 404)
    _is_problem(client.post("/v1/players/alice"), 405)


def test_summary_not_published_for_this_player_is_404(
    published: str, make_client: MakeClient
) -> None:
    client = make_client(published)
    body = _is_problem(client.get("/v1/players/alice/summaries/openings"), 404)
    assert "refresh alice" in str(body["detail"])


def test_filter_the_summary_does_not_have_is_422(published: str, make_client: MakeClient) -> None:
    client = make_client(published)
    body = _is_problem(client.get(SUMMARY, params={"until": "2024-01-01"}), 422)
    assert "since/until" in str(body["detail"])


@pytest.mark.parametrize("kind", ["postgresql", "sqlite"])
def test_unreachable_database_is_503_with_retry_after(
    kind: str, tmp_path: Path, make_client: MakeClient
) -> None:
    url = (
        f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere"
        if kind == "postgresql"
        else f"sqlite:///{tmp_path / 'missing' / 'gone.sqlite'}"
    )
    client = make_client(url)
    assert client.get("/healthz").status_code == 200  # touches no database
    for path in ("/v1/players/alice", SUMMARY):
        response = client.get(path)
        _is_problem(response, 503)
        assert int(response.headers["retry-after"]) > 0
    ready = client.get("/readyz")
    body = _is_problem(ready, 503)
    assert body["database"] == "down"
    assert ready.headers["retry-after"]


def test_rate_limit_is_429_with_retry_after(published: str, make_client: MakeClient) -> None:
    client = make_client(published, api_rate_limit_per_minute=3)
    assert [client.get("/v1/players/alice").status_code for _ in range(3)] == [200] * 3
    limited = client.get(SUMMARY)
    _is_problem(limited, 429)
    assert int(limited.headers["retry-after"]) >= 1
    assert client.get("/healthz").status_code == 200  # probes are never throttled
    assert client.get("/readyz").status_code == 200


def test_a_crash_is_500_without_internals(
    published: str, make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret-internal-detail at /srv/app.py line 42")

    monkeypatch.setattr(Service, "summary", explode)
    client = make_client(published)
    response = client.get(SUMMARY)
    body = _is_problem(response, 500)
    assert "secret" not in response.text
    assert body["title"] == "Internal Server Error"


def test_the_api_connection_cannot_write(published: str, make_client: MakeClient) -> None:
    client = make_client(published)
    store = client.app.state.store  # type: ignore[attr-defined]
    assert client.portal.call(store.read, ["select count(*) from players"]) == [[(1,)]]  # type: ignore[union-attr]
    for statement in (
        "delete from players",
        "insert into schema_migrations (name, checksum, applied_at) values ('x', 'x', 'x')",
        "create table intruder (a integer)",
    ):
        with pytest.raises(Exception) as caught:  # noqa: PT011
            client.portal.call(store.read, [statement])  # type: ignore[union-attr]
        message = str(caught.value).lower()
        assert "read-only" in message or "readonly" in message, message
    assert client.get("/v1/players/alice").status_code == 200


def test_a_dropped_database_connection_is_replaced(
    postgres_url: str, make_client: MakeClient
) -> None:
    """The server closes the API's pooled connections (restart, Neon suspend): no 5xx follows."""
    import psycopg

    from adapters.publish import publish_player
    from tests.api.sample import alice

    summaries, games = alice()
    publish_player(Database.from_url(postgres_url), "alice", summaries, games)
    client = make_client(postgres_url, cache_entries=0, snapshot_ttl_seconds=0)
    assert client.get(SUMMARY).status_code == 200
    store = client.app.state.store  # type: ignore[attr-defined]

    async def several_at_once() -> None:
        await asyncio.gather(*(store.ping() for _ in range(4)))

    assert client.portal is not None
    client.portal.call(several_at_once)  # the pool now holds several idle connections
    database = postgres_url.rsplit("/", 1)[1]
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        killed = admin.execute(
            "select count(pg_terminate_backend(pid)) from pg_stat_activity "
            "where datname = %s and pid <> pg_backend_pid()",
            (database,),
        ).fetchone()
    assert killed is not None
    assert killed[0] >= 1
    assert client.get(SUMMARY).status_code == 200
    assert client.get("/readyz").status_code == 200

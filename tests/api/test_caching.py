"""ETag/304, Cache-Control, the in-process cache, and Redis cache-aside (also Redis going away)."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, text

from adapters.database import Database
from adapters.publish import publish_player
from tests.api.conftest import MakeClient
from tests.api.sample import alice, games_frame, results_frame
from tests.conftest import free_port

SUMMARY = "/v1/players/alice/summaries/results"


def test_etag_and_304(published: str, make_client: MakeClient) -> None:
    client = make_client(published, api_cache_max_age_seconds=17)
    first = client.get(SUMMARY)
    etag = first.headers["etag"]
    assert etag.startswith(f'"{first.json()["snapshot_id"]}-')
    assert first.headers["cache-control"] == "public, max-age=17"
    again = client.get(SUMMARY, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    weak_in_list = client.get(SUMMARY, headers={"If-None-Match": f'"other", W/{etag}'})
    assert weak_in_list.status_code == 304
    assert client.get(SUMMARY, headers={"If-None-Match": '"stale"'}).status_code == 200
    # Same snapshot, other query: another ETag.
    filtered = client.get(SUMMARY, params={"color": "white"})
    assert filtered.headers["etag"] != etag
    assert (
        client.get(SUMMARY, params={"color": "white"}, headers={"If-None-Match": etag}).status_code
        == 200
    )
    profile = client.get("/v1/players/alice")
    assert (
        client.get(
            "/v1/players/alice", headers={"If-None-Match": profile.headers["etag"]}
        ).status_code
        == 304
    )


def test_a_publish_changes_the_etag(published: str, make_client: MakeClient) -> None:
    client = make_client(published, snapshot_ttl_seconds=0)
    old = client.get(SUMMARY)
    publish_player(
        Database.from_url(published),
        "alice",
        {"results": results_frame("alice", {("all", "all"): (0, 0, 1)})},
        games_frame("alice", [("blitz", "white", "loss")]),
    )
    new = client.get(SUMMARY, headers={"If-None-Match": old.headers["etag"]})
    assert new.status_code == 200
    assert new.headers["etag"] != old.headers["etag"]
    assert [(r["games"], r["losses"]) for r in new.json()["rows"]] == [(1, 1)]


def _delete_summary_rows(database_url: str) -> None:
    """Removes alice's rows behind the API's back (the pointer stays): only a cache can answer."""
    engine = create_engine(Database.from_url(database_url).sqlalchemy_url)
    with engine.begin() as conn:
        conn.execute(text("delete from summary_results where username = 'alice'"))
    engine.dispose()


def test_in_process_cache_answers_without_the_rows(published: str, make_client: MakeClient) -> None:
    client = make_client(published)
    warm = client.get(SUMMARY).json()
    _delete_summary_rows(published)
    assert client.get(SUMMARY).json() == warm


def test_without_cache_every_answer_comes_from_the_database(
    published: str, make_client: MakeClient
) -> None:
    client = make_client(published, cache_entries=0, snapshot_ttl_seconds=0)
    assert len(client.get(SUMMARY).json()["rows"]) == 9
    _delete_summary_rows(published)
    assert client.get(SUMMARY).json()["rows"] == []


def test_redis_cache_aside_is_shared_between_processes(
    published: str, redis_url: str, make_client: MakeClient
) -> None:
    first = make_client(published, redis_url=redis_url)
    body = first.get(SUMMARY).json()
    keys = redis.Redis.from_url(redis_url).keys("*")
    assert any(body["snapshot_id"].encode() in k for k in keys)
    _delete_summary_rows(published)
    # A second API process (empty in-process cache) gets the body from Redis, not the database.
    second = make_client(published, redis_url=redis_url)
    assert second.get(SUMMARY).json() == body
    assert second.get("/readyz").json()["redis"] == "ok"


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A private redis-server this test may kill (never the shared one on 6379)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield url, process
    process.kill()
    process.wait()


def test_redis_going_away_mid_test(
    published: str, make_client: MakeClient, own_redis: tuple[str, subprocess.Popen[bytes]]
) -> None:
    url, process = own_redis
    client = make_client(published, redis_url=url)
    assert client.get("/readyz").json()["redis"] == "ok"
    assert client.get(SUMMARY).status_code == 200
    assert redis.Redis.from_url(url).dbsize() >= 1
    process.kill()
    process.wait()
    # New queries miss the in-process cache: they must come from the database.
    white = client.get(SUMMARY, params={"color": "white"})
    assert white.status_code == 200
    assert {r["color"] for r in white.json()["rows"]} == {"white"}
    assert client.get("/v1/players/alice").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "database": "ok", "redis": "down"}


def test_an_expired_pointer_is_served_once_more_then_refreshed(
    published: str, make_client: MakeClient
) -> None:
    """Stale-while-revalidate: after the pointer's time, the next answer is still the cached
    snapshot (no wait for the database) while one background read moves it to the new one."""
    client = make_client(published, snapshot_ttl_seconds=0.2)
    old = client.get(SUMMARY).json()["snapshot_id"]
    publish_player(
        Database.from_url(published),
        "alice",
        {"results": results_frame("alice", {("all", "all"): (0, 0, 1)})},
        games_frame("alice", [("blitz", "white", "loss")]),
    )
    time.sleep(0.3)
    assert client.get(SUMMARY).json()["snapshot_id"] == old
    seen = []
    for _ in range(100):
        seen.append(client.get(SUMMARY).json()["snapshot_id"])
        if seen[-1] != old:
            break
        time.sleep(0.02)
    assert seen[-1] != old
    assert client.get("/v1/players/alice").json()["snapshot_id"] == seen[-1]


def test_content_published_again_is_not_served_with_its_old_publish_time(
    published: str, make_client: MakeClient
) -> None:
    client = make_client(published, snapshot_ttl_seconds=0)
    first_response = client.get(SUMMARY)
    first = first_response.json()
    old_etag = first_response.headers["etag"]
    old_profile_etag = client.get("/v1/players/alice").headers["etag"]
    other = (
        {"results": results_frame("alice", {("all", "all"): (0, 0, 1)})},
        games_frame("alice", [("blitz", "white", "loss")]),
    )
    publish_player(Database.from_url(published), "alice", *other)
    assert client.get(SUMMARY).json()["snapshot_id"] != first["snapshot_id"]
    summaries, games = alice()
    publish_player(Database.from_url(published), "alice", summaries, games)
    again = client.get(SUMMARY).json()
    assert again["snapshot_id"] == first["snapshot_id"]  # same content, same id
    assert again["rows"] == first["rows"]
    assert again["published_at"] > first["published_at"]
    # Other bytes (published_at), so another strong ETag: the old one must not 304.
    revalidated = client.get(SUMMARY, headers={"If-None-Match": old_etag})
    assert revalidated.status_code == 200
    assert revalidated.headers["etag"] != old_etag
    assert revalidated.headers["etag"].startswith(f'"{first["snapshot_id"]}-')
    profile = client.get("/v1/players/alice", headers={"If-None-Match": old_profile_etag})
    assert profile.status_code == 200
    assert profile.headers["etag"] != old_profile_etag


def test_a_changed_definition_changes_the_etag(
    published: str, make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`db upgrade` may change a definition's text without a new version (a clearer title):
    same rows, other bytes, so the ETag changes too."""
    import api.service

    monkeypatch.setattr(api.service, "DEFINITIONS_CHECK_SECONDS", 0.0)
    client = make_client(published)
    old = client.get(SUMMARY)
    old_profile = client.get("/v1/players/alice")
    engine = create_engine(Database.from_url(published).sqlalchemy_url)
    with engine.begin() as conn:
        conn.execute(
            text("update summary_definitions set title = :t where name = 'results'"),
            {"t": "Results, retitled"},
        )
    engine.dispose()
    new = client.get(SUMMARY, headers={"If-None-Match": old.headers["etag"]})
    assert new.status_code == 200
    assert new.json()["title"] == "Results, retitled"
    assert new.json()["rows"] == old.json()["rows"]
    assert new.headers["etag"] != old.headers["etag"]
    profile = client.get(
        "/v1/players/alice", headers={"If-None-Match": old_profile.headers["etag"]}
    )
    assert profile.status_code == 200
    assert profile.json()["summaries"][0]["title"] == "Results, retitled"


def test_if_none_match_never_hides_a_404_or_422(published: str, make_client: MakeClient) -> None:
    """`*` matches only a representation that exists; the name, filters and player come first."""
    client = make_client(published)
    assert client.get("/v1/players/alice").status_code == 200  # the pointer is cached now
    assert client.get(SUMMARY).status_code == 200  # and the definitions
    star = {"If-None-Match": "*"}
    for path, status in (
        ("/v1/players/alice/summaries/nosuchsummary", 404),
        ("/v1/players/alice/summaries/openings", 404),  # defined, not published for alice
        (f"{SUMMARY}?since=2024-01-01", 422),  # results has no date dimension
        (f"{SUMMARY}?color=green", 422),
        (f"{SUMMARY}?time_clas=blitz", 422),
        ("/v1/players/bob/summaries/results", 404),
        ("/v1/players/bob", 404),
        ("/v1/players/bob/games", 404),
        ("/v1/players/alice/games?limit=0", 422),
    ):
        response = client.get(path, headers=star)
        assert response.status_code == status, path
        assert response.headers["content-type"] == "application/problem+json", path
    # Where the representation exists, `*` matches it.
    for path in (SUMMARY, f"{SUMMARY}?color=white", "/v1/players/alice", "/v1/players/alice/games"):
        assert client.get(path, headers=star).status_code == 304, path

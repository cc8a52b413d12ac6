"""The player and summary routes, health probes and error answers, on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.api.conftest import MakeClient
from tests.api.sample import ALICE_RESULTS
from transforms.registry import BY_NAME

RESULTS_VERSION = BY_NAME["results"].version


def test_profile_lists_the_published_summary(published: str, make_client: MakeClient) -> None:
    client = make_client(published)
    response = client.get("/v1/players/Alice")
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "alice"
    assert body["game_count"] == 5
    assert body["first_game_at"] == "2024-01-01T12:00:00Z"
    assert body["last_game_at"] == "2024-01-05T12:00:00Z"
    assert [(s["name"], s["version"], s["rows"]) for s in body["summaries"]] == [
        ("results", RESULTS_VERSION, 9)
    ]
    assert response.headers["etag"].startswith(f'"{body["snapshot_id"]}-')


def test_summary_rows_equal_the_hand_count(published: str, make_client: MakeClient) -> None:
    client = make_client(published)
    body = client.get("/v1/players/alice/summaries/results").json()
    got = {
        (r["time_class"], r["color"]): (r["wins"], r["draws"], r["losses"]) for r in body["rows"]
    }
    assert got == ALICE_RESULTS
    assert body["version"] == RESULTS_VERSION
    assert body["definition"]
    assert body["sample_size"] == {"games": 5, "rows": 9, "column": "games"}
    assert body["route"] == "/v1/players/alice/summaries/results"


def test_filters(published: str, make_client: MakeClient) -> None:
    client = make_client(published)
    body = client.get(
        "/v1/players/alice/summaries/results", params={"time_class": "blitz", "color": "white"}
    ).json()
    assert [(r["games"], r["wins"], r["losses"]) for r in body["rows"]] == [(2, 1, 1)]
    assert body["query"] == {"time_class": "blitz", "color": "white"}


def test_unpublished_player_is_404_problem(published: str, make_client: MakeClient) -> None:
    client = make_client(published)
    for path in ("/v1/players/bob", "/v1/players/bob/summaries/results"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert "bob" in response.json()["detail"]


def test_invalid_username_and_filter_are_422(published: str, make_client: MakeClient) -> None:
    client = make_client(published)
    for path in (
        "/v1/players/no%20spaces",
        "/v1/players/" + "x" * 51,
        "/v1/players/alice/summaries/results?color=green",
        "/v1/players/alice/summaries/results?since=yesterday",
        "/v1/players/alice/summaries/results?since=2024-02-01&until=2024-01-01",
        "/v1/players/alice/summaries/results?since=2024-01-01",
    ):
        response = client.get(path)
        assert response.status_code == 422, path
        assert response.headers["content-type"] == "application/problem+json"
        assert "Traceback" not in response.text


def test_healthz_and_readyz(published: str, make_client: MakeClient) -> None:
    client = make_client(published)
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {
        "status": "ready",
        "database": "ok",
        "redis": "disabled",
    }


def test_unknown_or_repeated_summary_parameters_are_422(
    published: str, make_client: MakeClient
) -> None:
    """A misspelt filter never passes for "no filter"; a repeated one is never half-read."""
    client = make_client(published)
    route = "/v1/players/alice/summaries/results"
    for query, says in (
        ("time_clas=blitz", "query.time_clas: unknown parameter"),
        ("time_class=blitz&colour=white", "query.colour: unknown parameter"),
        ("time_class=blitz&time_class=rapid", "query.time_class: given 2 times"),
        ("color=white&color=white", "query.color: given 2 times"),
    ):
        response = client.get(f"{route}?{query}")
        assert response.status_code == 422, query
        assert response.headers["content-type"] == "application/problem+json"
        assert says in response.json()["detail"], response.json()
    # The correct spelling, once, still filters.
    rows = client.get(f"{route}?time_class=blitz").json()["rows"]
    assert {r["time_class"] for r in rows} == {"blitz"}


def test_head_answers_like_get_without_a_body(published: str, make_client: MakeClient) -> None:
    client = make_client(published)
    for path in (
        "/v1/players/alice",
        "/v1/players/alice/summaries/results?color=white",
        "/v1/players/alice/games?limit=2",
        "/healthz",
        "/readyz",
        "/openapi.json",
        "/v1/players/bob",  # a 404 problem: same status and headers, no body either
    ):
        got, head = client.get(path), client.head(path)
        assert head.status_code == got.status_code, path
        assert head.content == b"", path
        assert head.headers["content-length"] == str(len(got.content)), path
        assert head.headers["content-type"] == got.headers["content-type"], path
        assert head.headers.get("etag") == got.headers.get("etag"), path
    etag = client.get("/v1/players/alice").headers["etag"]
    assert client.head("/v1/players/alice", headers={"If-None-Match": etag}).status_code == 304
    assert client.post("/v1/players/alice").status_code == 405  # still only GET (and HEAD)

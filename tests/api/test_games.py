"""The games drill-down: counts per filter against the JSON and the frame, paging, errors, ETag."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest
from sqlalchemy import create_engine, text

from adapters.database import Database
from adapters.publish import publish_player
from tests.api.conftest import REAL_PLAYER, MakeClient
from tests.api.sample import games_frame, results_frame

ROUTE = f"/v1/players/{REAL_PLAYER}/games"
DRAWS = {"agreed", "repetition", "stalemate", "insufficient", "50move", "timevsinsufficient"}
_ECO_HEADER = re.compile(r'^\[ECO "([^"]*)"\]', re.MULTILINE)


def json_games(fixtures_dir: Path) -> list[dict[str, Any]]:
    """The real player's games straight from the monthly bodies, from the owner's side
    (one per uuid), with the facts the filters ask about worked out here, not by the parser."""
    seen: dict[str, dict[str, Any]] = {}
    for path in sorted((fixtures_dir / REAL_PLAYER).glob("[0-9]*/[0-9]*.json")):
        for game in json.loads(path.read_bytes())["games"]:
            color = "white" if game["white"]["username"].lower() == REAL_PLAYER else "black"
            other = "black" if color == "white" else "white"
            code = game[color]["result"]
            eco = _ECO_HEADER.search(game.get("pgn", ""))
            seen[game["uuid"]] = {
                "game_id": game["uuid"],
                "time_class": game["time_class"],
                "color": color,
                "result": "win" if code == "win" else "draw" if code in DRAWS else "loss",
                "rated": game["rated"],
                "day": datetime.fromtimestamp(game["end_time"], UTC).date(),
                "end_time": game["end_time"],
                "opponent": game[other]["username"],
                "eco": eco.group(1) if eco else None,
            }
    return list(seen.values())


def _total(client: httpx.Client | Any, **params: str) -> int:
    response = client.get(ROUTE, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["query"] == {k: v for k, v in params.items() if k not in ("limit", "offset")}
    total: int = body["total"]
    return total


@pytest.fixture
def real_client(
    database_url: str, real_frames: tuple[dict[str, Any], Any], make_client: MakeClient
) -> Any:
    summaries, games = real_frames
    publish_player(Database.from_url(database_url), REAL_PLAYER, summaries, games)
    return make_client(database_url)


def test_counts_per_filter_equal_the_json(real_client: Any, fixtures_dir: Path) -> None:
    games = json_games(fixtures_dir)
    assert _total(real_client) == len(games) == 201
    for name in ("time_class", "color", "result"):
        counted = Counter(g[name] for g in games)
        assert len(counted) >= 2, name  # a filter that keeps everything would prove nothing
        for value, n in counted.items():
            assert _total(real_client, **{name: value}) == n, (name, value)
    rated = Counter(g["rated"] for g in games)
    assert _total(real_client, rated="true") == rated[True]
    assert _total(real_client, rated="false") == rated[False]

    ecos = Counter(g["eco"] for g in games if g["eco"])
    for eco, n in ecos.most_common(5):
        assert _total(real_client, eco=eco) == n, eco
    eco, n = ecos.most_common(1)[0]
    body = real_client.get(ROUTE, params={"eco": eco.lower()}).json()
    assert (body["total"], body["query"]) == (n, {"eco": eco})

    opponents = Counter(g["opponent"].lower() for g in games)
    for opponent, n in opponents.most_common(3):
        assert n >= 2
        assert _total(real_client, opponent=opponent) == n
    opponent, n = opponents.most_common(1)[0]
    body = real_client.get(ROUTE, params={"opponent": opponent.upper()}).json()
    assert body["total"] == n
    assert {g["opponent"].lower() for g in body["games"]} == {opponent}

    since, until = date(2024, 1, 1), date(2024, 6, 30)
    in_range = [g for g in games if since <= g["day"] <= until]
    assert 0 < len(in_range) < len(games)
    assert _total(real_client, since="2024-01-01", until="2024-06-30") == len(in_range)
    assert _total(real_client, since="2024-01-01") == sum(g["day"] >= since for g in games)
    assert _total(real_client, until="2024-06-30") == sum(g["day"] <= until for g in games)
    one_day = games[0]["day"]
    assert _total(real_client, since=one_day.isoformat(), until=one_day.isoformat()) == sum(
        g["day"] == one_day for g in games
    )

    combo = [
        g
        for g in games
        if g["time_class"] == "blitz" and g["color"] == "white" and g["result"] == "loss"
    ]
    assert combo
    assert _total(real_client, time_class="blitz", color="white", result="loss") == len(combo)
    # "all", as in the summaries' rows, is no filter at all.
    assert real_client.get(ROUTE, params={"time_class": "all", "color": "all"}).json()[
        "total"
    ] == len(games)


def test_counts_of_frame_only_facts_equal_the_published_frame(
    real_client: Any, real_frames: tuple[dict[str, Any], pl.DataFrame]
) -> None:
    """Termination and opening family are the parser's reading of the PGN: counted from the
    published games frame (the publisher's input) with polars, not through the API."""
    _summaries, frame = real_frames
    for name in ("termination", "opening_family"):
        counted = frame.group_by(name).len().drop_nulls(name)
        assert counted.height >= 3
        for value, n in counted.iter_rows():
            assert _total(real_client, **{name: value}) == n, (name, value)
    # The route's per-group total is the summary's count for that group.
    results = real_client.get(
        f"/v1/players/{REAL_PLAYER}/summaries/results",
        params={"time_class": "blitz", "color": "black"},
    ).json()["rows"]
    (row,) = results
    assert _total(real_client, time_class="blitz", color="black") == row["games"]
    assert _total(real_client, time_class="blitz", color="black", result="draw") == row["draws"]


def _walk(client: Any, route: str, **params: str) -> tuple[list[dict[str, Any]], int]:
    """Every game of the query, following `next` from the first page."""
    response = client.get(route, params=params)
    seen: list[dict[str, Any]] = []
    total = response.json()["total"]
    pages = 0
    while True:
        assert response.status_code == 200
        body = response.json()
        assert body["total"] == total
        seen.extend(body["games"])
        pages += 1
        if body["next"] is None:
            return seen, pages
        response = client.get(body["next"])


def test_pagination_covers_every_game_once_in_order(
    real_client: Any, real_frames: tuple[dict[str, Any], pl.DataFrame]
) -> None:
    _summaries, frame = real_frames
    seen, pages = _walk(real_client, ROUTE, limit="7")
    ids = [g["game_id"] for g in seen]
    assert len(ids) == len(set(ids)) == frame.height
    assert set(ids) == set(frame.get_column("game_id").to_list())
    assert pages == -(-frame.height // 7)
    order = [(-datetime.fromisoformat(g["end_time"]).timestamp(), g["game_id"]) for g in seen]
    assert order == sorted(order)

    blitz, _ = _walk(real_client, ROUTE, time_class="blitz", limit="13")
    expected = frame.filter(pl.col("time_class") == "blitz").get_column("game_id").to_list()
    assert sorted(g["game_id"] for g in blitz) == sorted(expected)

    last = real_client.get(ROUTE, params={"limit": "500", "offset": "200"}).json()
    assert (len(last["games"]), last["next"]) == (1, None)
    past = real_client.get(ROUTE, params={"offset": "1000"}).json()
    assert (past["games"], past["total"], past["next"]) == ([], frame.height, None)
    assert len(real_client.get(ROUTE).json()["games"]) == 50  # the default limit


def test_ties_on_end_time_are_broken_by_game_id(database_url: str, make_client: MakeClient) -> None:
    # 70 games on 28 distinct end times: pages must split ties the same way every time.
    spec = [("blitz", "white" if i % 2 else "black", "win") for i in range(70)]
    frame = games_frame("carol", spec)
    publish_player(
        Database.from_url(database_url), "carol", {"results": results_frame("carol", {})}, frame
    )
    client = make_client(database_url)
    seen, _ = _walk(client, "/v1/players/carol/games", limit="4")
    got = [(g["end_time"], g["game_id"]) for g in seen]
    expected = sorted(
        (
            (t.strftime("%Y-%m-%dT%H:%M:%SZ"), i)
            for t, i in frame.select("end_time", "game_id").rows()
        ),
        key=lambda r: (-datetime.fromisoformat(r[0]).timestamp(), r[1]),
    )
    assert got == expected
    white, _ = _walk(client, "/v1/players/carol/games", color="white", limit="6")
    assert len(white) == 35


def test_rows_carry_the_drill_down_columns(published: str, make_client: MakeClient) -> None:
    client = make_client(published)
    body = client.get("/v1/players/alice/games", params={"limit": "1"}).json()
    (game,) = body["games"]
    # alice's last game (tests/api/sample.py): rapid, black, win, 2024-01-05, index 4.
    assert game == {
        "game_id": "alice-0004",
        "url": "https://www.chess.com/game/live/1004",
        "end_time": "2024-01-05T12:00:00Z",
        "time_class": "rapid",
        "color": "black",
        "rated": True,
        "rating": 1504,
        "opponent": "Opp1",
        "opponent_rating": 1490,
        "result": "win",
        "termination": "resignation",
        "eco": "C65",
        "opening_family": "Ruy-Lopez-Opening",
        "opening_variation": "Berlin-Defense",
        "plies": 44,
        "accuracy": None,
    }
    assert (body["total"], body["limit"], body["offset"]) == (5, 1, 0)
    assert body["next"] == "/v1/players/alice/games?limit=1&offset=1"
    assert body["snapshot_id"] == client.get("/v1/players/alice").json()["snapshot_id"]
    accuracy = client.get("/v1/players/alice/games", params={"offset": "1", "limit": "1"})
    assert accuracy.json()["games"][0]["accuracy"] == 83.25  # 80.25 + 3, game index 3


def test_profile_links_the_games(published: str, make_client: MakeClient) -> None:
    client = make_client(published)
    href = client.get("/v1/players/Alice").json()["games_href"]
    assert href == "/v1/players/alice/games"
    assert client.get(href).json()["total"] == 5


def _is_problem(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert "Traceback" not in response.text
    detail: str = body["detail"]
    return detail


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("time_class=classical", "time_class"),
        ("color=green", "color"),
        ("result=won", "result"),
        ("termination=flag", "termination"),
        ("eco=Z99", "eco"),
        ("eco=C6", "eco"),
        ("rated=yes", "rated"),
        ("since=2024-13-01", "since"),
        ("until=yesterday", "until"),
        ("since=2024-02-01&until=2024-01-01", "since is after until"),
        ("opponent=no%20spaces", "opponent"),
        ("opening_family=", "opening_family"),
        ("opening_family=" + "x" * 201, "opening_family"),
        ("opening_family=a%0Ab", "opening_family"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=ten", "limit"),
        ("limit=-1", "limit"),
        ("offset=-1", "offset"),
        ("offset=1.5", "offset"),
        ("colour=white", "colour"),
        ("color=white&color=black", "given 2 times"),
        ("limit=5&limit=6", "given 2 times"),
        ("eco=B20&eco=B20", "given 2 times"),
    ],
)
def test_invalid_filters_are_422(
    published: str, make_client: MakeClient, query: str, says: str
) -> None:
    client = make_client(published)
    detail = _is_problem(client.get(f"/v1/players/alice/games?{query}"), 422)
    assert says in detail


def test_unknown_and_invalid_players(published: str, make_client: MakeClient) -> None:
    client = make_client(published)
    detail = _is_problem(client.get("/v1/players/bob/games"), 404)
    assert "refresh bob" in detail
    _is_problem(client.get("/v1/players/bob/games", params={"color": "white"}), 404)
    _is_problem(client.get("/v1/players/no%20spaces/games"), 422)


def test_etag_304_and_a_publish(published: str, make_client: MakeClient) -> None:
    client = make_client(published, api_cache_max_age_seconds=17, snapshot_ttl_seconds=0)
    route = "/v1/players/alice/games"
    first = client.get(route, params={"color": "white"})
    etag = first.headers["etag"]
    assert etag.startswith(f'"{first.json()["snapshot_id"]}-')
    assert first.headers["cache-control"] == "public, max-age=17"
    again = client.get(route, params={"color": "white"}, headers={"If-None-Match": etag})
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", etag)
    # The same filters in another spelling are the same query, hence the same ETag.
    same = client.get(route, params={"color": "white", "limit": "50", "time_class": "all"})
    assert same.headers["etag"] == etag
    other_page = client.get(route, params={"color": "white", "offset": "1"})
    assert other_page.headers["etag"] != etag
    other = client.get(route, params={"color": "black"}, headers={"If-None-Match": etag})
    assert other.status_code == 200

    publish_player(
        Database.from_url(published),
        "alice",
        {"results": results_frame("alice", {("all", "all"): (0, 0, 1)})},
        games_frame("alice", [("blitz", "white", "loss")]),
    )
    new = client.get(route, params={"color": "white"}, headers={"If-None-Match": etag})
    assert new.status_code == 200
    assert new.headers["etag"] != etag
    assert new.json()["total"] == 1


def test_cached_pages_and_redis(published: str, redis_url: str, make_client: MakeClient) -> None:
    first = make_client(published, redis_url=redis_url)
    route = "/v1/players/alice/games"
    body = first.get(route, params={"result": "win"}).json()
    assert body["total"] == 3
    engine = create_engine(Database.from_url(published).sqlalchemy_url)
    with engine.begin() as conn:  # behind the API's back: only a cache can still answer
        conn.execute(text("delete from games where username = 'alice'"))
    engine.dispose()
    assert first.get(route, params={"result": "win"}).json() == body
    second = make_client(published, redis_url=redis_url)  # another process: Redis answers
    second.get("/v1/players/alice")  # learns the snapshot pointer
    assert second.get(route, params={"result": "win"}).json() == body
    fresh = make_client(published, cache_entries=0, snapshot_ttl_seconds=0)
    assert fresh.get(route, params={"result": "win"}).json()["total"] == 0


def test_unreachable_database_is_503(tmp_path: Path, make_client: MakeClient) -> None:
    client = make_client(f"sqlite:///{tmp_path / 'missing' / 'gone.sqlite'}")
    response = client.get("/v1/players/alice/games")
    _is_problem(response, 503)
    assert int(response.headers["retry-after"]) > 0


def test_rate_limited(published: str, make_client: MakeClient) -> None:
    client = make_client(published, api_rate_limit_per_minute=2)
    assert [client.get("/v1/players/alice/games").status_code for _ in range(2)] == [200, 200]
    limited = client.get("/v1/players/alice/games")
    _is_problem(limited, 429)
    assert int(limited.headers["retry-after"]) >= 1


def test_sqlite_and_postgresql_serve_identical_pages(
    sqlite_url: str,
    postgres_url: str,
    real_frames: tuple[dict[str, Any], pl.DataFrame],
    make_client: MakeClient,
) -> None:
    """Same snapshot, same pages: types, timestamps, nulls, order and totals agree."""
    summaries, games = real_frames
    for url in (sqlite_url, postgres_url):
        publish_player(Database.from_url(url), REAL_PLAYER, summaries, games)
    lite, pg = make_client(sqlite_url), make_client(postgres_url)
    family = games.get_column("opening_family").drop_nulls()[0]
    for params in (
        {"limit": "500"},
        {"time_class": "blitz", "color": "black", "limit": "20", "offset": "10"},
        {"opening_family": family, "since": "2023-06-01"},
        {"result": "draw", "rated": "true"},
    ):
        a, b = lite.get(ROUTE, params=params).json(), pg.get(ROUTE, params=params).json()
        assert a["games"] == b["games"], params
        assert (a["total"], a["next"], a["snapshot_id"]) == (
            b["total"],
            b["next"],
            b["snapshot_id"],
        )
        assert a["games"] or params.get("result") == "draw"


def test_buckets_of_missing_values_can_be_drilled_into(
    database_url: str, make_client: MakeClient
) -> None:
    """Like biskupstunga's imports: Chess960 games without an ECOUrl (no eco, no opening), PGNs
    without a Termination, a game without a time class. The summaries file them under
    `unknown` / `other`; the drill-down must find the same games under the same labels."""
    from adapters.warehouse import compute_summaries_from_frames
    from transforms.archive import parse_month

    spec = [
        ("blitz", "white", "win"),
        ("blitz", "black", "loss"),
        ("rapid", "white", "draw"),
        ("blitz", "white", "win"),
        ("rapid", "black", "loss"),
        ("bullet", "white", "win"),
    ]
    chess960, no_termination, no_time_class = {0, 2, 4}, {1, 2}, {5}
    frame = games_frame("dora", spec).with_row_index("i")

    def blank(rows: set[int], *columns: str) -> list[pl.Expr]:
        inside = pl.col("i").is_in(list(rows))
        return [pl.when(inside).then(None).otherwise(pl.col(c)).alias(c) for c in columns]

    frame = frame.with_columns(
        *blank(chess960, "eco", "eco_url", "opening_family", "opening_variation"),
        *blank(no_termination, "termination"),
        *blank(no_time_class, "time_class"),
        pl.when(pl.col("i").is_in(list(chess960)))
        .then(pl.lit("chess960"))
        .otherwise(pl.col("rules"))
        .alias("rules"),
    ).drop("i")
    moves = parse_month("dora", "2024-01", b'{"games": []}').moves
    summaries = compute_summaries_from_frames(frame, moves, "dora")
    publish_player(Database.from_url(database_url), "dora", summaries, frame)
    client = make_client(database_url)

    def total(**params: str) -> int:
        response = client.get("/v1/players/dora/games", params=params)
        assert response.status_code == 200, response.text
        found: int = response.json()["total"]
        return found

    def summary_games(name: str, **where: str) -> int:
        rows = client.get(f"/v1/players/dora/summaries/{name}").json()["rows"]
        (row,) = [r for r in rows if all(r[k] == v for k, v in where.items())]
        found: int = row["games"]
        return found

    everything = {"time_class": "all", "color": "all"}
    # Hand counts first, then the summaries' own buckets agree with them.
    assert total(opening_family="unknown") == len(chess960) == 3
    assert total(eco="unknown") == 3
    assert total(termination="other") == len(no_termination) == 2
    assert total(time_class="unknown") == len(no_time_class) == 1
    assert total(time_class="unknown", color="white", result="win") == 1
    assert total(opening_family="unknown", termination="other") == 1  # game 2
    assert summary_games("openings", opening_family="unknown", eco="all", **everything) == 3
    assert summary_games("results", time_class="unknown", color="all") == 1
    terminations = client.get("/v1/players/dora/summaries/terminations").json()["rows"]
    other = [
        r
        for r in terminations
        if (r["termination"], r["time_class"], r["color"]) == ("other", "all", "all")
        and r["opening_family"] == "all"
    ]
    assert sum(r["games"] for r in other) == 2
    for row in other:  # each bucket's games, found again by its own labels
        assert total(termination="other", result=row["result"]) == row["games"]
    assert summary_games("terminations", opening_family="unknown", result="draw", **everything) == 1
    assert total(opening_family="unknown", result="draw", termination="other") == 1

"""Readers see one whole snapshot or the other while a player is published again and again."""

from __future__ import annotations

import threading
from typing import Any

from fastapi.testclient import TestClient

from adapters.database import Database
from adapters.publish import publish_player
from tests.api.conftest import MakeClient
from tests.api.sample import ALICE_GAMES, alice, games_frame, results_frame

PUBLISHES = 24

State = tuple[str, tuple[Any, ...], tuple[str, ...]]


def snapshot_b() -> tuple[dict[str, Any], Any]:
    spec = [*ALICE_GAMES, ("bullet", "black", "loss"), ("bullet", "white", "draw")]
    results = results_frame(
        "alice",
        {("all", "all"): (3, 2, 2), ("bullet", "all"): (0, 1, 1), ("blitz", "all"): (1, 1, 1)},
    )
    return {"results": results}, games_frame("alice", spec, salt="b")


STATE_SQL = [
    "select snapshot_id from players where username = 'alice'",
    "select snapshot_id, time_class, color, wins, draws, losses "
    "from summary_results where username = 'alice' order by ord",
    "select game_id from games where username = 'alice' order by game_id",
]


def read_state(client: TestClient) -> State:
    """Pointer, summary rows and game ids, read in one read-only transaction of the API's store."""
    store = client.app.state.store  # type: ignore[attr-defined]
    pointer, rows, games = client.portal.call(store.read, STATE_SQL)  # type: ignore[union-attr]
    return pointer[0][0], tuple(rows), tuple(g[0] for g in games)


def test_readers_never_see_a_mix(database_url: str, make_client: MakeClient) -> None:
    a_summaries, a_games = alice()
    b_summaries, b_games = snapshot_b()
    publish_player(Database.from_url(database_url), "alice", a_summaries, a_games)
    client = make_client(database_url, cache_entries=0, snapshot_ttl_seconds=0)
    reader = make_client(database_url, cache_entries=0, snapshot_ttl_seconds=0)
    state_a = read_state(reader)
    body_a = client.get("/v1/players/alice/summaries/results").json()
    publish_player(Database.from_url(database_url), "alice", b_summaries, b_games)
    state_b = read_state(reader)
    body_b = client.get("/v1/players/alice/summaries/results").json()
    assert state_a != state_b
    assert body_a["snapshot_id"] != body_b["snapshot_id"]
    known_bodies = {
        body_a["snapshot_id"]: body_a["rows"],
        body_b["snapshot_id"]: body_b["rows"],
    }

    done = threading.Event()
    seen: list[str] = []
    mixes: list[Any] = []

    def publisher() -> None:
        try:
            for i in range(PUBLISHES):
                summaries, games = alice() if i % 2 == 0 else snapshot_b()
                publish_player(Database.from_url(database_url), "alice", summaries, games)
        finally:
            done.set()

    def store_reader() -> None:
        while not done.is_set():
            state = read_state(reader)
            if state not in (state_a, state_b):
                mixes.append(state)
            seen.append(state[0])

    def api_reader() -> None:
        while not done.is_set():
            body = client.get("/v1/players/alice/summaries/results").json()
            if known_bodies.get(body["snapshot_id"]) != body["rows"]:
                mixes.append(body)
            seen.append(body["snapshot_id"])

    threads = [threading.Thread(target=f) for f in (publisher, store_reader, store_reader)]
    threads.append(threading.Thread(target=api_reader))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert mixes == []
    # Both snapshots were observed while publishing went on, so the readers really raced it.
    assert {state_a[0], state_b[0]} <= set(seen)

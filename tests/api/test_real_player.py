"""A real recorded player through parser, warehouse, publisher and API, checked against the JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from adapters.database import Database
from adapters.publish import publish_player
from tests.api.conftest import REAL_PLAYER, MakeClient

DRAWS = {"agreed", "repetition", "stalemate", "insufficient", "50move", "timevsinsufficient"}


def count_from_json(fixtures_dir: Path) -> tuple[int, dict[str, int]]:
    """Distinct games and the owner's W/D/L, counted straight from the monthly bodies."""
    seen: dict[str, str] = {}
    for path in sorted((fixtures_dir / REAL_PLAYER).glob("[0-9]*/[0-9]*.json")):
        for game in json.loads(path.read_bytes())["games"]:
            side = "white" if game["white"]["username"].lower() == REAL_PLAYER else "black"
            code = game[side]["result"]
            seen[game["uuid"]] = "win" if code == "win" else "draw" if code in DRAWS else "loss"
    outcome = {"win": 0, "draw": 0, "loss": 0}
    for result in seen.values():
        outcome[result] += 1
    return len(seen), outcome


def test_real_player_numbers_match_the_json(
    database_url: str,
    fixtures_dir: Path,
    real_frames: tuple[dict[str, Any], Any],
    make_client: MakeClient,
) -> None:
    summaries, games = real_frames
    report = publish_player(Database.from_url(database_url), REAL_PLAYER, summaries, games)
    client = make_client(database_url)
    total, outcome = count_from_json(fixtures_dir)

    profile = client.get(f"/v1/players/{REAL_PLAYER}").json()
    assert profile["game_count"] == total
    assert profile["snapshot_id"] == report.snapshot_id
    assert {s["name"]: s["rows"] for s in profile["summaries"]} == {
        name: frame.height for name, frame in summaries.items()
    }

    body = client.get(
        f"/v1/players/{REAL_PLAYER}/summaries/results",
        params={"time_class": "all", "color": "all"},
    ).json()
    (row,) = body["rows"]
    assert (row["games"], row["wins"], row["draws"], row["losses"]) == (
        total,
        outcome["win"],
        outcome["draw"],
        outcome["loss"],
    )
    assert body["sample_size"]["games"] == total

    # A month-keyed summary honours since/until.
    trends = client.get(
        f"/v1/players/{REAL_PLAYER}/summaries/trends",
        params={"since": "2024-01-01", "until": "2024-12-31"},
    ).json()
    assert trends["rows"]
    assert {r["month"][:4] for r in trends["rows"]} == {"2024"}


def test_sqlite_and_postgresql_serve_identical_rows(
    sqlite_url: str,
    postgres_url: str,
    real_frames: tuple[dict[str, Any], Any],
    make_client: MakeClient,
) -> None:
    """Every summary reads back the same from both dialects (types, timestamps, nulls, order)."""
    summaries, games = real_frames
    reports = [
        publish_player(Database.from_url(url), REAL_PLAYER, summaries, games)
        for url in (sqlite_url, postgres_url)
    ]
    assert reports[0].snapshot_id == reports[1].snapshot_id  # the id hashes content only
    lite, pg = make_client(sqlite_url), make_client(postgres_url)
    for name in summaries:
        route = f"/v1/players/{REAL_PLAYER}/summaries/{name}"
        a, b = lite.get(route).json(), pg.get(route).json()
        assert a["rows"] == b["rows"], name
        assert a["snapshot_id"] == b["snapshot_id"]
        assert len(a["rows"]) == summaries[name].height


def test_since_and_until_on_a_month_keyed_summary(
    real_published: str, make_client: MakeClient
) -> None:
    """The documented rule: only rows of a real month overlapping the range; the month `all`
    roll-ups span all time and are dropped whenever since or until is given."""
    client = make_client(real_published)
    route = f"/v1/players/{REAL_PLAYER}/summaries/accuracy"
    everything = client.get(route).json()["rows"]
    months = sorted({r["month"] for r in everything if r["month"] != "all"})
    assert any(r["month"] == "all" for r in everything)  # roll-ups exist, so this can fail
    assert len(months) >= 3
    middle = months[len(months) // 2]
    for params, wanted in (
        ({"since": f"{middle}-15"}, [r for r in everything if "all" != r["month"] >= middle]),
        ({"until": f"{middle}-15"}, [r for r in everything if r["month"] <= middle]),
        (
            {"since": f"{middle}-01", "until": f"{middle}-28"},
            [r for r in everything if r["month"] == middle],
        ),
    ):
        response = client.get(route, params=params)
        assert response.status_code == 200, response.text
        rows = response.json()["rows"]
        assert rows == wanted, params
        assert rows
        assert all(r["month"] != "all" for r in rows)

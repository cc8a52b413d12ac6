"""GET /v1/players/{username}/focus: what to work on, from the published rows of one snapshot."""

from __future__ import annotations

from tests.api.conftest import REAL_PLAYER, MakeClient


def test_focus_lists_the_costliest_cells_of_the_published_results(
    real_published: str, make_client: MakeClient
) -> None:
    client = make_client(real_published)
    results = client.get(f"/v1/players/{REAL_PLAYER}/summaries/results").json()
    response = client.get(f"/v1/players/{REAL_PLAYER}/focus")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["snapshot_id"] == results["snapshot_id"]
    cells = sorted(
        (r["residual"] * r["games_with_ratings"], r["time_class"], r["color"])
        for r in results["rows"]
        if r["time_class"] != "all" and r["color"] != "all" and r["residual"] is not None
    )
    wanted = [(tc, co) for cost, tc, co in cells if cost < 0][:3]
    assert len(wanted) == 3
    assert [(i["time_class"], i["color"]) for i in body["items"]] == wanted
    for item in body["items"]:
        assert item["residual_low"] < item["residual"] < item["residual_high"]
        query = f"?time_class={item['time_class']}&color={item['color']}"
        assert item["games_href"].endswith(query)
    again = client.get(
        f"/v1/players/{REAL_PLAYER}/focus", headers={"If-None-Match": response.headers["etag"]}
    )
    assert again.status_code == 304


def test_focus_of_an_unknown_or_invalid_player(published: str, make_client: MakeClient) -> None:
    client = make_client(published)
    missing = client.get("/v1/players/nobody/focus")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert client.get("/v1/players/not.valid/focus").status_code == 422

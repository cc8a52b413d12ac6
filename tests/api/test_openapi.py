"""The OpenAPI document: schemathesis finds no server error and no response that breaks it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.core.result import Ok
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.app import create_app
from tests.api.conftest import REAL_PLAYER, make_settings
from transforms.registry import SUMMARIES


def test_docs_and_document(real_published: str, tmp_path: Path) -> None:
    app = create_app(make_settings(real_published, tmp_path))
    with TestClient(app) as client:
        assert client.get("/docs").status_code == 200
        document = client.get("/openapi.json").json()
    paths = document["paths"]
    assert set(paths) >= {
        "/v1/players/{username}",
        "/v1/players/{username}/summaries/{name}",
        "/v1/players/{username}/games",
        "/v1/players/{username}/focus",
        "/healthz",
        "/readyz",
    }
    summary = paths["/v1/players/{username}/summaries/{name}"]["get"]
    assert {p["name"] for p in summary["parameters"]} >= {
        "username",
        "name",
        "time_class",
        "color",
        "since",
        "until",
    }
    assert "application/problem+json" in summary["responses"]["404"]["content"]
    assert summary["responses"]["200"]["content"]["application/json"]["schema"]
    games = paths["/v1/players/{username}/games"]["get"]
    assert {p["name"] for p in games["parameters"]} >= {
        "username",
        "time_class",
        "color",
        "result",
        "termination",
        "opening_family",
        "eco",
        "rated",
        "since",
        "until",
        "opponent",
        "limit",
        "offset",
    }
    assert {"404", "422", "429", "503"} <= set(games["responses"])
    page = document["components"]["schemas"]["GamesPage"]
    assert page["examples"][0]["games"][0]["game_id"]


# Rules the schema cannot state (since <= until; a filter needs that dimension in the summary)
# answer 422 to schema-valid requests, so schemathesis' positive_data_acceptance is replaced by
# this narrower check: a schema-valid request may be refused only for one of those rules.
CROSS_PARAMETER_RULES = (
    "since is after until",
    "has no time_class",
    "has no color",
    "has no date dimension",
)


def only_cross_parameter_rules_reject_valid_data(
    ctx: object, response: schemathesis.Response, case: schemathesis.Case[Any]
) -> bool | None:
    if response.status_code != 422 or case.meta is None:
        return None
    if case.meta.generation.mode == GenerationMode.NEGATIVE:
        return None
    detail = response.json().get("detail", "")
    assert any(rule in detail for rule in CROSS_PARAMETER_RULES), detail
    return True


def test_schemathesis_finds_nothing(real_published: str, tmp_path: Path) -> None:
    app = create_app(make_settings(real_published, tmp_path, api_rate_limit_per_minute=10**6))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operations.append(result.ok())
    assert len(operations) == 8  # with POST /v1/analyses and GET /v1/analyses/{id}
    by_path = {op.path: op for op in operations}
    published = [s.name for s in SUMMARIES]
    strategy = st.one_of(
        # Anything the schema allows, and anything it forbids.
        *(op.as_strategy() for op in operations),
        *(op.as_strategy(generation_mode=GenerationMode.NEGATIVE) for op in operations),
        # The published player, so that real bodies of every summary meet the schema.
        by_path["/v1/players/{username}"].as_strategy(path_parameters={"username": REAL_PLAYER}),
        # Twice: the analyses routes share the draw too, and the games checks below need hits.
        *[
            by_path["/v1/players/{username}/games"].as_strategy(
                path_parameters={"username": REAL_PLAYER}
            )
        ]
        * 2,
        by_path["/v1/players/{username}/focus"].as_strategy(
            path_parameters={"username": REAL_PLAYER}
        ),
        *(
            by_path["/v1/players/{username}/summaries/{name}"].as_strategy(
                path_parameters={"username": REAL_PLAYER, "name": name}
            )
            for name in published
        ),
    )
    statuses: Counter[int] = Counter()
    games_statuses: Counter[int] = Counter()

    @settings(
        max_examples=600,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(case=strategy)
    def check(case: schemathesis.Case[Any]) -> None:
        response = case.call_and_validate(
            excluded_checks=[positive_data_acceptance],
            additional_checks=[only_cross_parameter_rules_reject_valid_data],
        )
        statuses[response.status_code] += 1
        if case.operation.path == "/v1/players/{username}/games":
            games_statuses[response.status_code] += 1

    check()
    # The run really reached published data and the error paths, not only 404s.
    assert statuses[200] >= 50, statuses
    assert statuses[422] >= 10, statuses
    assert games_statuses[200] >= 10, games_statuses
    assert games_statuses[422] >= 5, games_statuses

"""What the routes share: the username rule, the cached answer, and the documented responses."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic import BaseModel
from starlette.responses import Response

from api.deps import settings_of
from api.models import Conditional, ProblemDetails
from api.problems import PROBLEM_JSON, ProblemError
from api.service import Answer
from transforms.usernames import InvalidUsernameError, normalize_username

PLAYERS = "/v1/players"


def normalize(username: str) -> str:
    """The lowercase username, or the 422 of a path that cannot be a Chess.com username."""
    try:
        return normalize_username(username)
    except InvalidUsernameError as error:
        raise ProblemError(422, str(error), errors=[{"loc": ["path", "username"]}]) from error


def respond(request: Request, answer: Answer, *, current: bool) -> Response:
    """The 200 of a rendered answer, or its 304 when the client's ETag is current."""
    max_age = settings_of(request).api_cache_max_age_seconds
    headers = {"ETag": answer.etag, "Cache-Control": f"public, max-age={max_age}"}
    if current:
        return Response(status_code=304, headers=headers)
    return Response(answer.body, media_type="application/json", headers=headers)


def openapi_parameters(location: str, model: type[BaseModel]) -> list[dict[str, Any]]:
    """OpenAPI parameter objects of a model's fields (`location`: path, query or header)."""
    schema = model.model_json_schema()
    required = set(schema.get("required", ()))
    parameters = []
    for name, field in schema["properties"].items():
        field = {k: v for k, v in field.items() if k != "title"}
        description = field.pop("description")
        examples = field.pop("examples", None)
        if "default" in field and field["default"] is None:
            del field["default"]
        # An optional parameter is documented by its value's schema (absent means null).
        options = [o for o in field.pop("anyOf", ()) if o != {"type": "null"}]
        if options:
            (value,) = options
            field = {**value, **field}
        parameter = {
            "name": name,
            "in": location,
            "required": name in required,
            "description": description,
            "schema": field,
        }
        if examples:
            parameter["example"] = examples[0]
        parameters.append(parameter)
    return parameters


def documented(path: type[BaseModel], query: type[BaseModel] | None = None) -> dict[str, Any]:
    """openapi_extra of a hand-parsed player route: its path, query and conditional header."""
    parameters = openapi_parameters("path", path)
    if query is not None:
        parameters += openapi_parameters("query", query)
    parameters += openapi_parameters("header", Conditional)
    return {"parameters": parameters}


def problem(description: str) -> dict[str, Any]:
    """An error response of the OpenAPI document: problem+json."""
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": ProblemDetails.model_json_schema()}},
    }


RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}}
CACHING = {
    "ETag": {"description": "Snapshot id + route + query.", "schema": {"type": "string"}},
    "Cache-Control": {"description": "public, max-age=N", "schema": {"type": "string"}},
}
# The responses of a cached player route besides its 200 (whose model is the route's own).
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"headers": CACHING},
    304: {"description": "Not modified: the If-None-Match ETag is current.", "headers": CACHING},
    404: problem("The player was never published, or has no such summary."),
    422: problem("Invalid username or filter."),
    429: {**problem("Too many requests from this address."), "headers": RETRY_AFTER},
    503: {**problem("The database is not reachable."), "headers": RETRY_AFTER},
}

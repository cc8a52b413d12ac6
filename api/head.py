"""HEAD on every GET route, as HTTP requires: the GET's status and headers, without the body."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from api.ratelimit import ASGIApp, Receive, Scope, Send


class HeadMiddleware:
    """Answers HEAD by running the GET and dropping its body (Content-Length stays the GET's).

    Done here rather than by listing HEAD on each route, which would double every operation in
    the OpenAPI document.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body"):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)

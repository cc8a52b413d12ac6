"""Per-client-address rate limiting as a plain ASGI middleware (a token bucket per address)."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from api.problems import problem_response

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Probes must never be throttled: an orchestrator that gets 429 from /healthz restarts the pod.
EXEMPT_PATHS = frozenset({"/healthz", "/readyz"})
MAX_TRACKED_CLIENTS = 10_000


class RateLimitMiddleware:
    """Allows `per_minute` requests per client address, refilled continuously; else 429.

    Buckets are kept in order of last use. A bucket idle for a whole refill period is full again,
    the same as no bucket, so it is dropped; past MAX_TRACKED_CLIENTS the least recently seen
    addresses are forgotten too (they start again with a full bucket). Memory stays bounded
    however many addresses call, and each request costs O(1) amortised.
    """

    def __init__(self, app: ASGIApp, per_minute: int) -> None:
        self.app = app
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0  # tokens per second
        self.refill_seconds = self.capacity / self.rate  # an idle bucket is full after this
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # -> (tokens, at)

    def _take(self, client: str) -> float:
        """0 if the request may pass, else the seconds until it would."""
        now = time.monotonic()
        tokens, at = self._buckets.pop(client, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - at) * self.rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.rate
        self._buckets[client] = (tokens, now)  # to the end: most recently seen
        self._prune(now)
        return wait

    def _prune(self, now: float) -> None:
        buckets = self._buckets
        while buckets:
            oldest = next(iter(buckets))
            idle = now - buckets[oldest][1]
            if idle < self.refill_seconds and len(buckets) <= MAX_TRACKED_CLIENTS:
                break
            del buckets[oldest]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = client[0] if client else "unknown"
        wait = self._take(address)
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        retry_after = max(1, math.ceil(wait))
        response = problem_response(
            429,
            f"More than {int(self.capacity)} requests per minute from {address}; "
            f"retry in {retry_after} s.",
            scope["path"],
            headers={"Retry-After": str(retry_after)},
        )
        await response(scope, receive, send)

"""The per-address rate limiter: limits each address, and keeps its memory bounded."""

from __future__ import annotations

import asyncio
import time
from collections.abc import MutableMapping
from typing import Any

import pytest

from api.ratelimit import MAX_TRACKED_CLIENTS, RateLimitMiddleware


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _ok(_scope: Any, _receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def _status(limiter: RateLimitMiddleware, address: str) -> int:
    sent: list[MutableMapping[str, Any]] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    async def receive() -> MutableMapping[str, Any]:
        return {"type": "http.request", "body": b""}

    scope = {"type": "http", "path": "/v1/players/alice", "client": (address, 1), "headers": []}
    asyncio.run(limiter(scope, receive, send))
    status: int = sent[0]["status"]
    return status


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(time, "monotonic", fake)  # the module api.ratelimit reads it from
    return fake


def test_many_addresses_keep_memory_bounded(clock: Clock) -> None:
    limiter = RateLimitMiddleware(_ok, per_minute=60)
    # More addresses than are tracked, all inside one refill period (no bucket is full again).
    for i in range(MAX_TRACKED_CLIENTS + 2_500):
        assert _take(limiter, f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}") == 0.0
        clock.now += 0.001
    assert len(limiter._buckets) == MAX_TRACKED_CLIENTS


def test_idle_addresses_are_forgotten(clock: Clock) -> None:
    limiter = RateLimitMiddleware(_ok, per_minute=60)
    for i in range(500):
        _take(limiter, f"192.0.2.{i}")
    assert len(limiter._buckets) == 500
    clock.now += 61  # a whole refill period: every one of them is full again
    _take(limiter, "198.51.100.1")
    assert list(limiter._buckets) == ["198.51.100.1"]


def test_a_busy_address_stays_limited_while_others_come_and_go(clock: Clock) -> None:
    limiter = RateLimitMiddleware(_ok, per_minute=3)
    assert [_status(limiter, "203.0.113.9") for _ in range(4)] == [200, 200, 200, 429]
    for i in range(200):
        assert _status(limiter, f"192.0.2.{i}") == 200
    assert _status(limiter, "203.0.113.9") == 429  # not reset by the others
    clock.now += 20  # one token back (3 per minute)
    assert [_status(limiter, "203.0.113.9") for _ in range(2)] == [200, 429]


def _take(limiter: RateLimitMiddleware, address: str) -> float:
    return limiter._take(address)

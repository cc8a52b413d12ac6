"""Response caches: an in-process LRU and an optional Redis cache-aside, keyed by snapshot id."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

K = TypeVar("K")
V = TypeVar("V")

# After a Redis failure, wait this long before asking it again, so a dead Redis costs one
# timeout per interval rather than one per request.
REDIS_RETRY_SECONDS = 5.0
REDIS_TIMEOUT_SECONDS = 0.25
REDIS_TTL_SECONDS = 24 * 3600  # keys carry the snapshot id, so expiry only reclaims memory


class LRU(Generic[K, V]):
    """A bounded least-recently-used map; used only from the event loop's thread."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._data: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        if self.capacity <= 0:
            return
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.capacity:
            self._data.popitem(last=False)

    def pop(self, key: K) -> None:
        self._data.pop(key, None)

    def __len__(self) -> int:
        return len(self._data)


class TTLCache(Generic[K, V]):
    """Values that are trusted for a few seconds (the player -> snapshot pointer)."""

    def __init__(self, ttl_seconds: float, capacity: int) -> None:
        self.ttl = ttl_seconds
        self._lru: LRU[K, tuple[float, V]] = LRU(capacity if ttl_seconds > 0 else 0)

    def get(self, key: K) -> V | None:
        hit = self._lru.get(key)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def lookup(self, key: K, stale_for: float) -> tuple[V | None, bool]:
        """(value, expired): an expired value is still returned for `stale_for` seconds."""
        hit = self._lru.get(key)
        if hit is None:
            return None, False
        now = time.monotonic()
        if hit[0] >= now:
            return hit[1], False
        if hit[0] + stale_for >= now:
            return hit[1], True
        return None, False

    def put(self, key: K, value: V) -> None:
        self._lru.put(key, (time.monotonic() + self.ttl, value))

    def pop(self, key: K) -> None:
        self._lru.pop(key)


class RedisCache:
    """Cache-aside in Redis; every failure is swallowed, remembered, and reported by /readyz."""

    def __init__(self, url: str | None, prefix: str = "chess-patterns:v1:") -> None:
        self.url = url
        self.prefix = prefix
        self._client: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._down_until = 0.0
        self.last_error: str | None = None

    @property
    def enabled(self) -> bool:
        return self.url is not None

    @property
    def state(self) -> str:
        if not self.enabled:
            return "disabled"
        return "down" if self.last_error else "ok"

    def _connection(self) -> Any:
        # redis.asyncio connections belong to the loop that made them.
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            import redis.asyncio

            self._client = redis.asyncio.Redis.from_url(
                self.url or "",
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                retry_on_timeout=False,
                health_check_interval=0,
            )
            self._loop = loop
        return self._client

    def _failed(self, error: BaseException) -> None:
        if self.last_error is None:
            log.warning("Redis unavailable, answering from the database: %s", error)
        self.last_error = f"{type(error).__name__}: {error}"
        self._down_until = time.monotonic() + REDIS_RETRY_SECONDS

    def _ok(self) -> None:
        if self.last_error is not None:
            log.info("Redis is back")
        self.last_error = None

    def _usable(self) -> bool:
        return self.enabled and time.monotonic() >= self._down_until

    async def get(self, key: str) -> bytes | None:
        if not self._usable():
            return None
        try:
            value = await self._connection().get(self.prefix + key)
        except Exception as error:  # redis errors, OSError, timeouts: all mean "not now"
            self._failed(error)
            return None
        self._ok()
        return value if isinstance(value, bytes) else None

    async def set(self, key: str, value: bytes) -> None:
        if not self._usable():
            return
        try:
            await self._connection().set(self.prefix + key, value, ex=REDIS_TTL_SECONDS)
        except Exception as error:
            self._failed(error)
            return
        self._ok()

    async def ping(self) -> str:
        """'ok', 'down' or 'disabled', asking Redis now (for /readyz)."""
        if not self.enabled:
            return "disabled"
        try:
            await self._connection().ping()
        except Exception as error:
            self._failed(error)
            return "down"
        self._ok()
        self._down_until = 0.0
        return "ok"

    async def close(self) -> None:
        if self._client is not None:
            try:
                await self._client.aclose()
            except Exception as error:
                log.debug("closing Redis: %s", error)
            self._client = None

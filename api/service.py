"""What the routes do: snapshot lookup, filters, caching and rendering of the JSON bodies."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import re
import time
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

import orjson

from adapters.db import SummaryDefinition
from api.cache import LRU, RedisCache, TTLCache
from api.games import GamesQuery
from api.problems import ProblemError
from api.store_types import Profile, Rows, Store

log = logging.getLogger(__name__)

# How long a player's snapshot pointer is trusted before the database is asked again: a publish
# shows up within this time, and a hot summary costs one pointer read per interval, not per hit.
SNAPSHOT_CHECK_SECONDS = 1.0
# A pointer past its time is still used for this long while one background read refreshes it,
# so that a hot player never waits for the database (stale-while-revalidate).
SNAPSHOT_STALE_SECONDS = 10.0
# Definitions change only with `db upgrade`; re-read them at most this often.
DEFINITIONS_CHECK_SECONDS = 30.0
GAMES_PAGE_SHARE = 16
SAMPLE_SIZE_COLUMNS = ("games", "n")
TIME_DIMENSION_TYPES = ("date", "timestamp")
_MONTH = re.compile(r"[0-9]{4}-[0-9]{2}")


def _dumps(body: Any) -> bytes:
    # orjson writes NaN/inf as null (0/0 in a summary means "no data"), UTC datetimes with "Z".
    return orjson.dumps(body, option=orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC)


@dataclass(frozen=True)
class Filters:
    """The validated query of the summary route."""

    time_class: str | None = None
    color: str | None = None
    since: date | None = None
    until: date | None = None

    def as_query(self) -> dict[str, str]:
        pairs = {
            "time_class": self.time_class,
            "color": self.color,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }
        return {k: v for k, v in pairs.items() if v is not None}

    def key(self) -> str:
        return "&".join(f"{k}={v}" for k, v in sorted(self.as_query().items()))


@dataclass(frozen=True)
class Answer:
    """A rendered 200 body with its validator."""

    body: bytes
    etag: str


def cache_tag(profile: Profile) -> str:
    """Cache key of a publish: the content hash plus the publish time. Identical content published
    again after other content (A, B, A) keeps its snapshot id (and so its ETag: the rows are the
    same) but gets fresh cache entries, so published_at in bodies is never an older one."""
    published: datetime = profile["published_at"]
    return f"{profile['snapshot_id']}.{int(published.timestamp() * 1_000_000)}"


def etag_for(profile: Profile, route: str, query: str, definitions: str = "") -> str:
    """Strong ETag: the snapshot id, then a hash of everything else the bytes depend on: the
    publish time (identical content published again after other content keeps its snapshot id
    but shows a new published_at), route, query and the digests of the definitions shown."""
    tag = cache_tag(profile)
    digest = hashlib.sha256(f"{tag}\x1f{route}?{query}\x1f{definitions}".encode()).hexdigest()
    return f'"{profile["snapshot_id"]}-{digest[:16]}"'


def etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    candidates = [part.strip() for part in header.split(",")]
    return any(c == "*" or c.removeprefix("W/") == etag for c in candidates)


def _time_dimension(definition: SummaryDefinition) -> tuple[str, str] | None:
    for column in definition.dimensions:
        if column.type in TIME_DIMENSION_TYPES:
            return column.name, column.type
    for column in definition.dimensions:
        if column.name == "month":
            return column.name, "month"
    return None


def _keep(row: dict[str, Any], filters: Filters, time_dim: tuple[str, str] | None) -> bool:
    if filters.time_class is not None and row.get("time_class") != filters.time_class:
        return False
    if filters.color is not None and row.get("color") != filters.color:
        return False
    if time_dim is not None and (filters.since or filters.until):
        name, kind = time_dim
        value = row.get(name)
        if value is None:
            return False
        if kind == "month":
            # Only real months count: a roll-up row (month `all`) spans all time, so it is
            # dropped whenever since or until is given (comparing 'all' with 'YYYY-MM' as
            # strings kept it for since and dropped it for until).
            month = str(value)
            if not _MONTH.fullmatch(month):
                return False
            if filters.since is not None and month < filters.since.strftime("%Y-%m"):
                return False
            return not (filters.until is not None and month > filters.until.strftime("%Y-%m"))
        day = value.date() if isinstance(value, datetime) else value
        if filters.since is not None and day < filters.since:
            return False
        if filters.until is not None and day > filters.until:
            return False
    return True


class Service:
    """The API's state: store, caches, and how a request becomes a body."""

    def __init__(
        self,
        store: Store,
        redis: RedisCache,
        *,
        cache_entries: int,
        snapshot_ttl_seconds: float,
    ) -> None:
        self.store = store
        self.redis = redis
        self.pointers: TTLCache[str, Profile] = TTLCache(snapshot_ttl_seconds, cache_entries)
        self.bodies: LRU[tuple[str, str, str], Answer] = LRU(cache_entries)
        self.rows: LRU[tuple[str, str], Rows] = LRU(cache_entries // 4 if cache_entries else 0)
        # A games page is up to MAX_LIMIT rows (~150 kB), so far fewer of them are kept.
        self.pages: LRU[tuple[str, str, str], Answer] = LRU(cache_entries // GAMES_PAGE_SHARE)
        self._definitions: dict[str, SummaryDefinition] = {}
        self._definitions_at = -math.inf
        self._refreshing: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def _pointer(self, username: str) -> Profile | None:
        """The cached pointer; an expired one is returned once more while it is refreshed."""
        profile, expired = self.pointers.lookup(username, SNAPSHOT_STALE_SECONDS)
        if expired and username not in self._refreshing:
            self._refreshing.add(username)
            task = asyncio.get_running_loop().create_task(self._refresh(username))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return profile

    async def _refresh(self, username: str) -> None:
        try:
            profile = await self.store.player(username)
        except Exception as error:  # the next request will read (and report) it itself
            log.info("refreshing the snapshot pointer of %s failed: %s", username, error)
            self.pointers.pop(username)
        else:
            if profile is None:
                self.pointers.pop(username)
            else:
                self.pointers.put(username, profile)
        finally:
            self._refreshing.discard(username)

    @staticmethod
    def _not_published(username: str) -> ProblemError:
        return ProblemError(
            404,
            f"Player {username!r} has not been published; "
            f"run `chess-patterns refresh {username}` first.",
        )

    async def profile(self, username: str) -> Profile:
        cached = self._pointer(username)
        if cached is not None:
            return cached
        profile = await self.store.player(username)
        if profile is None:
            raise self._not_published(username)
        self.pointers.put(username, profile)
        return profile

    async def definitions(self, *, fresh: bool = False) -> dict[str, SummaryDefinition]:
        stale = time.monotonic() - self._definitions_at > DEFINITIONS_CHECK_SECONDS
        if fresh or stale or not self._definitions:
            self._definitions = await self.store.definitions()
            self._definitions_at = time.monotonic()
        return self._definitions

    async def definition(self, name: str) -> SummaryDefinition:
        definitions = await self.definitions()
        if name not in definitions and time.monotonic() - self._definitions_at > 1.0:
            definitions = await self.definitions(fresh=True)
        if name not in definitions:
            raise ProblemError(
                404,
                f"No summary named {name!r}; known summaries: {', '.join(sorted(definitions))}.",
            )
        return definitions[name]

    # -- the profile route ----------------------------------------------------------------------

    async def render_profile(self, username: str, profile: Profile, route: str) -> Answer:
        snapshot = profile["snapshot_id"]
        definitions = await self.definitions()
        shown = [
            definitions[e["name"]]
            for e in profile["summaries"]
            if e["name"] in definitions and definitions[e["name"]].version == e["version"]
        ]
        digests = ",".join(d.digest for d in shown)
        key = (cache_tag(profile), digests, username)
        cached = self.bodies.get(key)
        if cached is not None:
            return cached
        listing = []
        for entry in profile["summaries"]:
            definition = definitions.get(entry["name"])
            if definition is None or definition.version != entry["version"]:
                continue  # its table was rebuilt for a newer definition: not served until refresh
            listing.append(
                {
                    "name": entry["name"],
                    "version": entry["version"],
                    "title": definition.title,
                    "rows": entry["rows"],
                    "href": f"{route}/summaries/{entry['name']}",
                }
            )
        body = {
            "username": username,
            "snapshot_id": snapshot,
            "published_at": profile["published_at"],
            "game_count": profile["game_count"],
            "first_game_at": profile["first_game_at"],
            "last_game_at": profile["last_game_at"],
            "published_bytes": profile["published_bytes"],
            "summaries": listing,
            "games_href": f"{route}/games",
        }
        answer = Answer(_dumps(body), etag_for(profile, route, "", digests))
        self.bodies.put(key, answer)
        return answer

    # -- the summary route ----------------------------------------------------------------------

    def check_filters(self, definition: SummaryDefinition, filters: Filters) -> None:
        dims = {c.name for c in definition.dimensions}
        for name in ("time_class", "color"):
            if getattr(filters, name) is not None and name not in dims:
                raise ProblemError(
                    422,
                    f"Summary {definition.name!r} has no {name} dimension; drop that filter.",
                )
        if (filters.since or filters.until) and _time_dimension(definition) is None:
            raise ProblemError(
                422,
                f"Summary {definition.name!r} has no date dimension; since/until do not apply.",
            )
        if filters.since and filters.until and filters.since > filters.until:
            raise ProblemError(422, "since is after until; swap them.")

    async def _read(self, username: str, definition: SummaryDefinition) -> tuple[Profile, Rows]:
        """Pointer and rows from one statement, so from one snapshot; both go to the caches."""
        profile, rows = await self.store.player_and_rows(username, definition)
        if profile is None:
            self.pointers.pop(username)
            raise self._not_published(username)
        self.pointers.put(username, profile)
        self.rows.put((cache_tag(profile), definition.name), rows)
        return profile, rows

    async def summary(
        self,
        username: str,
        name: str,
        filters: Filters,
        route: str,
        if_none_match: str | None,
    ) -> tuple[Answer, bool]:
        """The answer, and whether the client's ETag is still current (then: 304).

        The summary, its filters and the player are validated before any ETag is compared:
        `If-None-Match: *` (or a guessed tag) never turns a 404 or 422 into a 304.
        """
        query = filters.key()
        definition = await self.definition(name)
        self.check_filters(definition, filters)
        profile = self._pointer(username)
        rows: Rows | None = None
        if profile is None:
            profile, rows = await self._read(username, definition)
        listed = {e["name"]: e["version"] for e in profile["summaries"]}
        if listed.get(name) != definition.version:
            raise ProblemError(
                404,
                f"Summary {name!r} (version {definition.version}) is not published for "
                f"{username!r}; run `chess-patterns refresh {username}`.",
            )
        tag = cache_tag(profile)
        key = (tag, f"{name}@{definition.digest}", query)
        cached = self.bodies.get(key)
        if cached is not None:
            return cached, etag_matches(if_none_match, cached.etag)
        etag = etag_for(profile, route, query, definition.digest)
        if etag_matches(if_none_match, etag):
            return Answer(b"", etag), True
        shared = await self.redis.get(f"{tag}:{username}:{key[1]}:{query}")
        if shared is not None:
            answer = Answer(shared, etag)
            self.bodies.put(key, answer)
            return answer, False

        if rows is None:
            rows = self.rows.get((tag, name))
        if rows is None:
            profile, rows = await self._read(username, definition)
            tag = cache_tag(profile)
        snapshot = profile["snapshot_id"]
        time_dim = _time_dimension(definition)
        kept = [row for row in rows if _keep(row, filters, time_dim)]
        sample_column = next(
            (c for c in SAMPLE_SIZE_COLUMNS if definition.column(c) is not None), None
        )
        body = {
            "username": username,
            "summary": name,
            "title": definition.title,
            "version": definition.version,
            "definition": definition.definition,
            "snapshot_id": snapshot,
            "published_at": profile["published_at"],
            "route": route,
            "query": filters.as_query(),
            "sample_size": {
                "games": profile["game_count"],
                "rows": len(kept),
                "column": sample_column,
            },
            "columns": [
                {"name": c.name, "type": c.type, "role": c.role, "description": c.description}
                for c in definition.columns
            ],
            "rows": kept,
        }
        answer = Answer(_dumps(body), etag_for(profile, route, query, definition.digest))
        self.bodies.put((tag, key[1], query), answer)
        await self.redis.set(f"{tag}:{username}:{key[1]}:{query}", answer.body)
        return answer, False

    # -- the games route (drill-down) -----------------------------------------------------------

    async def games(
        self,
        username: str,
        query: GamesQuery,
        route: str,
        if_none_match: str | None,
    ) -> tuple[Answer, bool]:
        """One page of the player's games matching the query, and whether the ETag is current."""
        key = query.key()
        profile = self._pointer(username)
        if profile is not None:
            tag = cache_tag(profile)
            cached = self.pages.get((tag, username, key))
            if cached is not None:
                return cached, etag_matches(if_none_match, cached.etag)
            etag = etag_for(profile, route, key)
            if etag_matches(if_none_match, etag):
                return Answer(b"", etag), True
            shared = await self.redis.get(f"{tag}:{username}:/games:{key}")
            if shared is not None:
                answer = Answer(shared, etag)
                self.pages.put((tag, username, key), answer)
                return answer, False

        # Pointer, count and page from one statement: all three from one snapshot.
        profile, total, rows = await self.store.games_page(username, query)
        if profile is None:
            self.pointers.pop(username)
            raise self._not_published(username)
        self.pointers.put(username, profile)
        snapshot, tag = profile["snapshot_id"], cache_tag(profile)
        filters = query.as_query()
        following = query.offset + len(rows)
        next_href = (
            f"{route}?{urlencode({**filters, 'limit': query.limit, 'offset': following})}"
            if rows and following < total
            else None
        )
        body = {
            "username": username,
            "snapshot_id": snapshot,
            "published_at": profile["published_at"],
            "route": route,
            "query": filters,
            "limit": query.limit,
            "offset": query.offset,
            "total": total,
            "next": next_href,
            "games": rows,
        }
        answer = Answer(_dumps(body), etag_for(profile, route, key))
        self.pages.put((tag, username, key), answer)
        await self.redis.set(f"{tag}:{username}:/games:{key}", answer.body)
        return answer, etag_matches(if_none_match, answer.etag)

"""The Chess.com PubAPI client: polite (one request at a time), conditional, and fault-tolerant."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import random
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from adapters.raw_store import check_month, is_month
from settings import Settings
from transforms.usernames import InvalidUsernameError, normalize_username

# Chess.com answers parallel requests from one client with 429, so every ChessComClient in the
# process shares this lock: one request in flight at a time, whatever the number of refreshes.
# Other processes are kept out by the client's request gate (see machine_request_gate).
_REQUEST_LOCK = threading.Lock()
_last_request_end = 0.0

# Held around every request: a context manager factory. The default is a lock file shared by
# every process on the machine; a Prefect worker injects a global concurrency slot instead.
RequestGate = Callable[[], AbstractContextManager[object]]

_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 520, 521, 522, 523, 524})
_ARCHIVE_MONTH = re.compile(r"/([0-9]{4})/([0-9]{2})/?$")
_PLAYER_IN_PATH = re.compile(r"/player/([^/]+)(/|$)")
# Chess.com's Last-Modified: "Thursday, 17-Oct-2024 22:34:57 GMT+0000" (RFC 850 with a
# four-digit year and a numeric offset), which email.utils cannot parse.
_CHESSCOM_DATE = re.compile(
    r"^\s*(?:[A-Za-z]+,\s*)?([0-9]{1,2})[- ]([A-Za-z]{3})[- ]([0-9]{2,4})"
    r"\s+([0-9]{1,2}):([0-9]{2}):([0-9]{2})"
    r"\s*(?:GMT|UTC|Z)?\s*([+-][0-9]{2}:?[0-9]{2})?\s*$"
)
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
        start=1,
    )
}


class ChessComError(Exception):
    """A request to Chess.com failed; the message is one line naming the player and what to do."""

    def __init__(
        self, message: str, *, username: str = "", month: str | None = None, problem: str = ""
    ) -> None:
        # One line whatever the underlying error text holds: the CLI prints it as is.
        super().__init__(" ".join(message.split()))
        self.username = username
        self.month = month
        # The last thing that went wrong, short (e.g. "HTTP 503"), to quote in other messages.
        self.problem = " ".join(problem.split())


class PlayerNotFoundError(ChessComError):
    """404 on the archives list: Chess.com has no such player."""


class PlayerGoneError(ChessComError):
    """410: the account is closed; do not ask again."""


class BlockedError(ChessComError):
    """403 or an HTML page instead of JSON: Chess.com (or Cloudflare) is refusing this client."""


class ChessComUnavailableError(ChessComError):
    """Unreachable, or 429/5xx/timeouts for longer than the retry budget."""


class MonthNotFoundError(ChessComError):
    """404 on one month although the player exists."""


class BadResponseError(ChessComError):
    """A 200 whose body stayed truncated or not the expected JSON after the retries."""


@dataclass(frozen=True)
class Archives:
    """The archives list: `username` is the canonical (possibly redirected) name."""

    username: str
    months: list[str]


@dataclass(frozen=True)
class MonthResponse:
    """One month: status 200 with the decompressed body, or 304 with no body."""

    month: str
    status: int
    body: bytes | None
    etag: str | None
    last_modified: str | None
    username: str


def parse_http_date(value: str | None) -> datetime | None:
    """Parse an HTTP date in the standard forms or Chess.com's `..., 17-Oct-2024 ... GMT+0000`."""
    # HTTP dates are ASCII; int() and email.utils would also read other scripts' digits.
    if not value or not value.isascii():
        return None
    match = _CHESSCOM_DATE.match(value)
    if match is None:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    day, mon, year, hh, mm, ss, offset = match.groups()
    month = _MONTHS.get(mon.lower())
    if month is None:
        return None
    full_year = int(year)
    if full_year < 100:
        full_year += 2000 if full_year < 70 else 1900
    try:
        moment = datetime(full_year, month, int(day), int(hh), int(mm), int(ss), tzinfo=UTC)
    except ValueError:
        return None
    if offset:
        digits = offset[1:].replace(":", "")
        shift = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        moment = moment - shift if offset[0] == "+" else moment + shift
    return moment


def http_date(moment: datetime) -> str:
    """IMF-fixdate, the only form RFC 9110 lets a client send in If-Modified-Since."""
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def format_chesscom_date(moment: datetime) -> str:
    """Chess.com's own Last-Modified form, e.g. `Thursday, 17-Oct-2024 22:34:57 GMT+0000`."""
    return moment.astimezone(UTC).strftime("%A, %d-%b-%Y %H:%M:%S GMT+0000")


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    # str.isdigit() is also true for digits int() and float() refuse ("²"), hence isascii().
    if value.isascii() and value.isdigit():
        return float(value)
    moment = parse_http_date(value)
    if moment is None:
        return None
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def _looks_like_html(response: httpx.Response, body: bytes) -> bool:
    content_type = response.headers.get("content-type", "").lower()
    head = body[:200].lstrip().lower()
    return "html" in content_type or head.startswith((b"<!doctype", b"<html", b"<"))


def machine_lock_path(base_url: str) -> Path:
    """The lock file every process on this machine takes before asking `base_url`."""
    digest = hashlib.sha256(base_url.rstrip("/").encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"chess-patterns-requests-{digest}.lock"


def machine_request_gate(base_url: str) -> RequestGate:
    """One request in flight per upstream on this machine, whatever the number of processes.

    flock belongs to an open file description, so each acquisition opens the file anew (threads
    exclude each other too), and the kernel drops the lock when a holder dies: a killed refresh
    never leaves it stuck.
    """
    path = machine_lock_path(base_url)

    @contextlib.contextmanager
    def gate() -> Iterator[None]:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    return gate


def _month_path(month: str) -> str:
    year, mm = month.split("-")
    return f"{year}/{mm}"


class ChessComClient:
    """A synchronous PubAPI client; share one per process or make many, the lock is global."""

    def __init__(
        self,
        settings: Settings,
        *,
        backoff_base_seconds: float = 1.0,
        backoff_cap_seconds: float = 60.0,
        connect_retries: int = 2,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        request_gate: RequestGate | None = None,
    ) -> None:
        self.settings = settings
        # The retry loop's clock seam: tests pass a fake clock whose sleep moves its monotonic,
        # so retry budgets and Retry-After are checked exactly, without waiting for them.
        self._sleep = sleep
        self._monotonic = monotonic
        self.base_url = settings.chesscom_base_url.rstrip("/")
        self.request_gate = request_gate or machine_request_gate(self.base_url)
        self.backoff_base = backoff_base_seconds
        self.backoff_cap = backoff_cap_seconds
        self.connect_retries = connect_retries
        self.retry_budget = settings.chesscom_retry_budget_seconds
        self.min_interval = settings.chesscom_min_interval_seconds
        self.canonical_names: dict[str, str] = {}
        self._http = httpx.Client(
            headers={
                "User-Agent": settings.chesscom_user_agent,
                "Accept": "application/json",
                "Accept-Encoding": "gzip",
            },
            timeout=httpx.Timeout(settings.chesscom_timeout_seconds),
            # Redirects are followed by hand, once, so the canonical username can be recorded.
            follow_redirects=False,
        )

    # -- lifecycle -----------------------------------------------------------------------
    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ChessComClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- endpoints -----------------------------------------------------------------------
    def archives(self, username: str) -> Archives:
        """The months Chess.com lists for a player (oldest first), as `YYYY-MM`."""
        user = normalize_username(username)
        _, body, final_user = self._get(
            f"/player/{user}/games/archives", username=user, expect="archives"
        )
        data = json.loads(body)
        months: list[str] = []
        for url in data["archives"]:
            match = _ARCHIVE_MONTH.search(str(url))
            if match and is_month(f"{match.group(1)}-{match.group(2)}"):
                months.append(f"{match.group(1)}-{match.group(2)}")
        return Archives(username=final_user, months=sorted(set(months)))

    def month(
        self,
        username: str,
        month: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> MonthResponse:
        """One monthly archive, conditional when validators are given (then 304 means unchanged)."""
        user = normalize_username(username)
        check_month(month)
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            moment = parse_http_date(last_modified)
            if moment is not None:
                headers["If-Modified-Since"] = http_date(moment)
        response, body, final_user = self._get(
            f"/player/{user}/games/{_month_path(month)}",
            username=user,
            month=month,
            expect="games",
            headers=headers,
        )
        if response.status_code == 304:
            return MonthResponse(
                month=month,
                status=304,
                body=None,
                etag=response.headers.get("etag") or etag,
                last_modified=response.headers.get("last-modified") or last_modified,
                username=final_user,
            )
        return MonthResponse(
            month=month,
            status=200,
            body=body,
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
            username=final_user,
        )

    # -- the request loop ----------------------------------------------------------------
    def _send(self, url: str, headers: dict[str, str]) -> tuple[httpx.Response, bytes]:
        global _last_request_end
        # The process lock first, so threads queue here and one at a time asks the gate.
        with _REQUEST_LOCK, self.request_gate():
            if self.min_interval > 0:
                # Real time, whatever clock this client was given: the interval is kept
                # between every client of the process.
                wait = _last_request_end + self.min_interval - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
            try:
                response = self._http.get(url, headers=headers)
                return response, response.content
            finally:
                _last_request_end = time.monotonic()

    def _get(
        self,
        path: str,
        *,
        username: str,
        expect: str,
        month: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[httpx.Response, bytes, str]:
        url = self.base_url + path
        job = _Job(username=username, month=month, start=self._monotonic())
        what = job.what
        deadline = job.start + self.retry_budget
        attempt = 0
        connect_failures = 0
        redirected = False
        current_user = username
        last_problem = ""
        while True:
            attempt += 1
            retry_after: float | None = None
            try:
                response, body = self._send(url, headers or {})
            except (httpx.ConnectError, httpx.ConnectTimeout) as error:
                # Nothing listening, no DNS, or a host that drops packets: a couple of quick
                # retries, not the whole budget.
                connect_failures += 1
                last_problem = f"cannot connect: {error or type(error).__name__}"
                if connect_failures > self.connect_retries:
                    raise ChessComUnavailableError(
                        f"Chess.com is unreachable at {self.base_url} for {what} ({last_problem}); "
                        "check the network or CHESSCOM_BASE_URL and try again later.",
                        username=username,
                        month=month,
                        problem=last_problem,
                    ) from None
                self._sleep_or_give_up(
                    min(0.25 * connect_failures, 1.0), deadline, job, attempt, last_problem
                )
                continue
            except (httpx.TimeoutException, httpx.TransportError, httpx.DecodingError) as error:
                last_problem = (
                    f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
                )
                self._backoff(attempt, None, deadline, job, last_problem)
                continue

            status = response.status_code
            if status in (301, 302, 303, 307, 308):
                location = response.headers.get("location")
                if redirected or not location:
                    raise ChessComError(
                        f"Chess.com redirected {what} more than once ({status} to {location}); "
                        "check CHESSCOM_BASE_URL.",
                        username=username,
                        month=month,
                    )
                redirected = True
                url = urljoin(url, location)
                found = _PLAYER_IN_PATH.search(urlsplit(url).path)
                try:
                    current_user = normalize_username(found.group(1) if found else "")
                except InvalidUsernameError:
                    # Chess.com only redirects to the canonical name; anything else is not the
                    # user's fault, and following it could write a name that is no username.
                    raise ChessComError(
                        f"Chess.com redirected {what} to an unexpected place ({location}), not "
                        "a player's URL; check CHESSCOM_BASE_URL, and try again later.",
                        username=username,
                        month=month,
                    ) from None
                if current_user != username:
                    self.canonical_names[username] = current_user
                continue
            if status == 304:
                return response, b"", current_user
            if status == 200:
                if _looks_like_html(response, body):
                    raise BlockedError(
                        f"Chess.com sent an HTML page instead of JSON for {what}: the client is "
                        "probably blocked; set CHESSCOM_USER_AGENT to a name with a contact "
                        "(e.g. 'my-app/1.0 (me@example.com)') and try later.",
                        username=username,
                        month=month,
                    )
                problem = _check_body(body, expect)
                if problem is None:
                    return response, body, current_user
                last_problem = problem
                self._backoff(attempt, None, deadline, job, problem, bad_body=True)
                continue
            if status == 404:
                if month is None:
                    raise PlayerNotFoundError(
                        f"Chess.com has no player {username!r} (404); check the spelling.",
                        username=username,
                    )
                raise MonthNotFoundError(
                    f"Chess.com has no archive for {what} (404) although it listed it; "
                    "it will be asked again on the next refresh.",
                    username=username,
                    month=month,
                )
            if status == 410:
                raise PlayerGoneError(
                    f"Chess.com says player {username!r} is gone (410: account closed); not asking "
                    "again. Stored archives are kept; use --full to ask once more.",
                    username=username,
                    month=month,
                )
            if status == 403:
                raise BlockedError(
                    f"Chess.com refused {what} (403 Forbidden): the client is blocked; set "
                    "CHESSCOM_USER_AGENT to a name with a contact (e.g. 'my-app/1.0 "
                    "(me@example.com)') and try later.",
                    username=username,
                    month=month,
                )
            if status in _RETRY_STATUSES or 500 <= status < 600:
                retry_after = _retry_after_seconds(response.headers.get("retry-after"))
                last_problem = f"HTTP {status}" + (
                    f" with Retry-After {retry_after:g} s" if retry_after is not None else ""
                )
                self._backoff(attempt, retry_after, deadline, job, last_problem)
                continue
            raise ChessComError(
                f"Chess.com answered {status} for {what}, which this client does not expect; "
                "check CHESSCOM_BASE_URL.",
                username=username,
                month=month,
            )

    def _backoff(
        self,
        attempt: int,
        retry_after: float | None,
        deadline: float,
        job: _Job,
        problem: str,
        *,
        bad_body: bool = False,
    ) -> None:
        # Exponential backoff with "equal jitter": half the step fixed, half random, so many
        # clients released at once do not retry in lock-step.
        step = min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))
        delay = step / 2 + random.uniform(0, step / 2)
        if retry_after is not None:
            # Retry-After is the server's explicit instruction: wait at least that long.
            delay = max(delay, retry_after)
        self._sleep_or_give_up(delay, deadline, job, attempt, problem, bad_body=bad_body)

    def _sleep_or_give_up(
        self,
        delay: float,
        deadline: float,
        job: _Job,
        attempt: int,
        problem: str,
        *,
        bad_body: bool = False,
    ) -> None:
        if self._monotonic() + delay > deadline:
            elapsed = self._monotonic() - job.start
            error_type: type[ChessComError] = (
                BadResponseError if bad_body else ChessComUnavailableError
            )
            raise error_type(
                f"gave up on {job.what} after {attempt} attempt{'s' if attempt != 1 else ''} in "
                f"{elapsed:.1f} s (last: {problem}; retry budget "
                f"CHESSCOM_RETRY_BUDGET_SECONDS={self.retry_budget:g}); the stored copy is kept, "
                "try again later.",
                username=job.username,
                month=job.month,
                problem=problem,
            )
        self._sleep(delay)


@dataclass(frozen=True)
class _Job:
    username: str
    month: str | None
    start: float

    @property
    def what(self) -> str:
        return f"player {self.username!r}" + (f" month {self.month}" if self.month else "")


def _check_body(body: bytes, expect: str) -> str | None:
    """None when the body is the JSON object expected, else what is wrong with it."""
    try:
        data: Any = json.loads(body)
    except ValueError as error:
        return f"body of {len(body)} bytes is not complete JSON ({error.__class__.__name__})"
    if not isinstance(data, dict) or not isinstance(data.get(expect), list):
        return f'body is JSON but not {{"{expect}": [...]}}'
    return None


__all__ = [
    "Archives",
    "BadResponseError",
    "BlockedError",
    "ChessComClient",
    "ChessComError",
    "ChessComUnavailableError",
    "MonthNotFoundError",
    "MonthResponse",
    "PlayerGoneError",
    "PlayerNotFoundError",
    "RequestGate",
    "format_chesscom_date",
    "http_date",
    "machine_lock_path",
    "machine_request_gate",
    "parse_http_date",
]

"""A local PubAPI mirror: serves a raw-store-shaped folder like api.chess.com, with faults."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import re
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from adapters.chesscom import format_chesscom_date, parse_http_date
from adapters.raw_store import RawStore
from transforms.usernames import InvalidUsernameError, normalize_username

_ARCHIVES = re.compile(r"^/pub/player/([^/]+)/games/archives/?$")
_MONTH = re.compile(r"^/pub/player/([^/]+)/games/([0-9]{4})/([0-9]{2})(/pgn)?/?$")
_PLAYER_PATH = re.compile(r"^/pub/player/([^/]+)(/.*)?$")


def _is_username(text: str) -> bool:
    try:
        normalize_username(text)
    except InvalidUsernameError:
        return False
    return True


def _accepts_gzip(accept_encoding: str) -> bool:
    """True when an Accept-Encoding header allows gzip (`gzip` or `*`, with a q above 0)."""
    for item in accept_encoding.split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip().lower() not in ("gzip", "*"):
            continue
        name, _, value = params.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value) > 0
            except ValueError:
                return False
        return True
    return False


BLOCKED_HTML = (
    b'<!DOCTYPE html>\n<html lang="en-US"><head><title>Just a moment...</title></head>'
    b"<body><h1>Sorry, you have been blocked</h1><p>Cloudflare Ray ID: 0000</p></body></html>\n"
)


@dataclass
class Fault:
    """One misbehaviour for one URL, applied to the next `times` requests (None: every request).

    kind: "status" (answer `status`, with `retry_after` if given), "html" (403 and a Cloudflare
    page), "html200" (200 and a Cloudflare page), "slow" (wait `delay` seconds, then answer
    normally), "truncate" (200 with the JSON cut in half, consistent Content-Length),
    "short" (Content-Length of the whole body, half of it sent, connection closed),
    "drop" (close the connection without answering), "redirect" (301 to `location`),
    "badgzip" (200 labelled Content-Encoding: gzip whose bytes are not gzip).
    """

    kind: str
    status: int = 0
    retry_after: str | None = None
    delay: float = 0.0
    times: int | None = 1
    location: str | None = None

    @classmethod
    def http(cls, status: int, *, retry_after: str | None = None, times: int | None = 1) -> Fault:
        return cls("status", status=status, retry_after=retry_after, times=times)

    @classmethod
    def blocked_html(cls, *, times: int | None = 1, status: int = 403) -> Fault:
        return cls("html" if status == 403 else "html200", status=status, times=times)

    @classmethod
    def slow(cls, delay: float, *, times: int | None = 1) -> Fault:
        return cls("slow", delay=delay, times=times)

    @classmethod
    def truncated(cls, *, times: int | None = 1) -> Fault:
        return cls("truncate", times=times)

    @classmethod
    def short_body(cls, *, times: int | None = 1) -> Fault:
        return cls("short", times=times)

    @classmethod
    def dropped(cls, *, times: int | None = 1) -> Fault:
        return cls("drop", times=times)

    @classmethod
    def bad_gzip(cls, *, times: int | None = 1) -> Fault:
        return cls("badgzip", times=times)


# path (with or without the leading /pub) -> faults applied in order
FaultPlan = dict[str, list[Fault]]


@dataclass(frozen=True)
class RequestRecord:
    """One request as the mirror saw it."""

    method: str
    path: str
    conditional: bool
    status: int
    user_agent: str
    in_flight: int
    fault: str | None = None
    if_none_match: str | None = None
    if_modified_since: str | None = None
    accept_encoding: str | None = None
    started: float = 0.0  # time.monotonic() when the request arrived


@dataclass
class _Resource:
    body: bytes
    mtime: float
    content_type: str = "application/json"
    extra_headers: dict[str, str] = field(default_factory=dict)

    @property
    def etag(self) -> str:
        # Chess.com sends weak validators: W/"<md5 of the body>".
        return f'W/"{hashlib.md5(self.body, usedforsecurity=False).hexdigest()}"'

    @property
    def last_modified(self) -> str:
        return format_chesscom_date(datetime.fromtimestamp(int(self.mtime), UTC))


def _pub_path(path: str) -> str:
    if path.startswith("/pub/"):
        return path
    return "/pub" + ("" if path.startswith("/") else "/") + path


class MirrorServer:
    """The mirror's state: folder, faults, request log. Start it with `running_mirror`."""

    def __init__(
        self,
        root: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: FaultPlan | None = None,
        gzip_responses: bool = True,
        aliases: dict[str, str] | None = None,
        gone: set[str] | None = None,
        verbose: bool = False,
    ) -> None:
        self.root = Path(root)
        self.gzip_responses = gzip_responses
        self.aliases = {k.lower(): v.lower() for k, v in (aliases or {}).items()}
        self.gone = {u.lower() for u in (gone or set())}
        self.verbose = verbose
        self.requests: list[RequestRecord] = []
        self.max_in_flight = 0
        self._in_flight = 0  # requests not yet answered (counted as Chess.com would see them)
        self._handlers = 0  # handlers still running (their log record not yet written)
        self._lock = threading.Lock()
        self._faults: FaultPlan = {}
        if faults:
            self.set_faults(faults)
        handler = type("_BoundHandler", (_Handler,), {"mirror": self})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        bound_host, bound_port = self.httpd.server_address[:2]
        self.host = str(bound_host)
        self.port = int(bound_port)
        self.base_url = f"http://{self.host}:{self.port}/pub"
        self._thread: threading.Thread | None = None

    # -- faults and log ------------------------------------------------------------------
    def set_faults(self, plan: FaultPlan | None = None) -> None:
        """Replace the fault plan: {path: [Fault, ...]}; paths may omit the /pub prefix."""
        with self._lock:
            # Copies: serving counts down `times`, which must not change the caller's Faults.
            self._faults = {
                _pub_path(p): [replace(f) for f in fs] for p, fs in (plan or {}).items()
            }

    def add_fault(self, path: str, *faults: Fault) -> None:
        with self._lock:
            self._faults.setdefault(_pub_path(path), []).extend(replace(f) for f in faults)

    def clear_log(self) -> None:
        self.wait_idle()
        with self._lock:
            self.requests.clear()
            self.max_in_flight = 0

    def log(self) -> list[RequestRecord]:
        """The request log once every request under way has finished (records land on completion,
        a moment after the client has its answer)."""
        self.wait_idle()
        with self._lock:
            return list(self.requests)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no request is being served (a slow fault may still be sleeping)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._handlers == 0:
                    return True
            time.sleep(0.01)
        return False

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            faults = self._faults.get(path)
            while faults:
                fault = faults[0]
                if fault.times is None:
                    return fault
                if fault.times > 0:
                    fault.times -= 1
                    if fault.times == 0:
                        faults.pop(0)
                    return fault
                faults.pop(0)
            return None

    def _enter(self) -> int:
        with self._lock:
            self._handlers += 1
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            return self._in_flight

    def _answered(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _leave(self, record: RequestRecord) -> None:
        with self._lock:
            self._handlers -= 1
            self.requests.append(record)
        if self.verbose:
            print(
                f"{record.method} {record.path} {record.status}"
                f"{' conditional' if record.conditional else ''}"
                f"{' fault=' + record.fault if record.fault else ''}"
                f" in_flight={record.in_flight} ua={record.user_agent!r}",
                file=sys.stderr,
                flush=True,
            )

    # -- content -------------------------------------------------------------------------
    def player_dir(self, user: str) -> Path | None:
        directory = self.root / user
        return directory if directory.is_dir() else None

    def month_files(self, user: str) -> list[tuple[str, str, Path]]:
        # The folder has the raw store's layout, so the raw store's walker reads it.
        store = RawStore(self.root)
        out: list[tuple[str, str, Path]] = []
        for month in store.stored_months(user):
            year, mm = month.split("-")
            out.append((year, mm, store.month_path(user, month)))
        return out

    def archives(self, user: str) -> _Resource:
        listed = self.root / user / "archives.json"
        if listed.is_file():
            return _Resource(listed.read_bytes(), listed.stat().st_mtime)
        months = self.month_files(user)
        urls = [f"https://api.chess.com/pub/player/{user}/games/{y}/{m}" for y, m, _ in months]
        mtime = max((p.stat().st_mtime for _, _, p in months), default=0.0)
        body = json.dumps({"archives": urls}, separators=(",", ":")).encode()
        return _Resource(body, mtime)

    def month(self, user: str, year: str, month: str, pgn: bool) -> _Resource | None:
        path = self.root / user / year / f"{month}.json"
        if not path.is_file():
            return None
        raw = path.read_bytes()
        mtime = path.stat().st_mtime
        if not pgn:
            return _Resource(raw, mtime)
        # The /pgn endpoint: the games' pgn strings, newest first, joined by one blank line.
        games = json.loads(raw).get("games", [])
        text = "\n".join(g["pgn"] for g in reversed(games) if "pgn" in g).rstrip("\n") + "\n"
        return _Resource(
            text.encode(),
            mtime,
            # Twice on purpose: real Chess.com sends this doubled parameter on /pgn
            # (docs/chesscom-data.md), and clients must cope with it.
            "application/vnd.chess-pgn; charset=utf-8; charset=utf-8",
            {"Content-Disposition": (f'attachment; filename="ChessCom_{user}_{year}{month}.pgn"')},
        )

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    mirror: MirrorServer
    protocol_version = "HTTP/1.1"

    def version_string(self) -> str:
        return "chess-patterns-mirror"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without TCP_NODELAY, Nagle plus the
        # client's delayed ACK add ~40 ms to every response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the mirror keeps its own log (MirrorServer.requests / verbose)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    def _serve(self, *, head: bool) -> None:
        in_flight = self.mirror._enter()
        self._answered = False
        started = time.monotonic()
        path = urlsplit(self.path).path
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        status = 0
        fault_name: str | None = None
        try:
            fault = self.mirror._take_fault(path)
            if fault is not None:
                fault_name = fault.kind if fault.kind != "status" else f"status {fault.status}"
                status = self._fault(fault, path, head)
                if status != -1:
                    return
                status = 0
            status = self._route(path, inm, ims, head, fault)
        except (BrokenPipeError, ConnectionResetError):
            status = status or 499  # the client went away (e.g. it timed out)
            self.close_connection = True
        finally:
            self._mark_answered()
            self.mirror._leave(
                RequestRecord(
                    method=self.command,
                    path=path,
                    conditional=bool(inm or ims),
                    status=status,
                    user_agent=self.headers.get("User-Agent", ""),
                    in_flight=in_flight,
                    fault=fault_name,
                    if_none_match=inm,
                    if_modified_since=ims,
                    accept_encoding=self.headers.get("Accept-Encoding"),
                    started=started,
                )
            )

    def _mark_answered(self) -> None:
        # Called just before the last byte of a response goes out: once the client can have the
        # whole answer, this request no longer counts as in flight (the handler may still be
        # unwinding when the client's next request arrives).
        if not self._answered:
            self._answered = True
            self.mirror._answered()

    # -- faults ----------------------------------------------------------------------------
    def _fault(self, fault: Fault, path: str, head: bool) -> int:
        """Apply a fault; return the status sent, 0 for a dropped connection, -1 to go on."""
        if fault.kind == "status":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            message = {"code": 0, "message": f"Injected error {fault.status}."}
            self._send(fault.status, json.dumps(message).encode(), headers=headers, head=head)
            return fault.status
        if fault.kind in ("html", "html200"):
            status = 403 if fault.kind == "html" else 200
            self._send(status, BLOCKED_HTML, content_type="text/html; charset=UTF-8", head=head)
            return status
        if fault.kind == "drop":
            self.close_connection = True
            self._mark_answered()
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return 0
        if fault.kind == "badgzip":
            garbage = b"\x1f\x8b\x08\x00 this is not a gzip stream"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(garbage)))
            self.end_headers()
            self._mark_answered()
            if not head:
                self.wfile.write(garbage)
            return 200
        if fault.kind == "redirect" and fault.location:
            self._send(301, b"", headers={"Location": fault.location}, head=head)
            return 301
        if fault.kind == "slow":
            time.sleep(fault.delay)
        return -1

    # -- routing -------------------------------------------------------------------------
    def _route(
        self, path: str, inm: str | None, ims: str | None, head: bool, fault: Fault | None
    ) -> int:
        player = _PLAYER_PATH.match(path)
        if player is None or not _is_username(player.group(1)):
            return self._not_found(f'Data provider not found for key "{path}".', head)
        user = player.group(1)
        rest = player.group(2) or ""
        lower = user.lower()
        target = self.mirror.aliases.get(lower)
        if user != lower or target:
            # Chess.com redirects a mixed-case (or renamed) username to the canonical lowercase one.
            location = f"/pub/player/{target or lower}{rest}"
            self._send(301, b"", headers={"Location": location}, head=head)
            return 301
        if lower in self.mirror.gone:
            self._send(410, json.dumps({"code": 0, "message": "Gone."}).encode(), head=head)
            return 410
        if self.mirror.player_dir(lower) is None:
            return self._not_found(f'User "{user}" not found.', head)
        resource: _Resource | None
        if _ARCHIVES.match(path):
            resource = self.mirror.archives(lower)
        else:
            match = _MONTH.match(path)
            if match is None:
                return self._not_found(f'Data provider not found for key "{path}".', head)
            year, mm, pgn = match.group(2), match.group(3), bool(match.group(4))
            resource = self.mirror.month(lower, year, mm, pgn)
            if resource is None:
                return self._not_found(
                    f'Data provider not found for key "/player/{lower}/games/'
                    f'{match.group(2)}/{match.group(3)}".',
                    head,
                )
        headers = {
            "ETag": resource.etag,
            "Last-Modified": resource.last_modified,
            "Cache-Control": "public, max-age=5",
            **resource.extra_headers,
        }
        mode = fault.kind if fault else ""
        # A body fault means "answer 200 with a broken body", whatever the validators say.
        if mode not in ("truncate", "short") and _not_modified(resource, inm, ims):
            self._send(304, b"", headers=headers, head=True)
            return 304
        body = resource.body
        if mode == "truncate":
            body = body[: max(1, len(body) // 2)]
        self._send(
            200,
            body,
            headers=headers,
            content_type=resource.content_type,
            head=head,
            short=mode == "short",
        )
        return 200

    def _not_found(self, message: str, head: bool) -> int:
        self._send(404, json.dumps({"code": 0, "message": message}).encode(), head=head)
        return 404

    def _send(
        self,
        status: int,
        body: bytes,
        *,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
        head: bool = False,
        short: bool = False,
    ) -> None:
        payload = body
        encoding = None
        accepts = self.headers.get("Accept-Encoding", "")
        if body and self.mirror.gzip_responses and _accepts_gzip(accepts):
            payload = gzip.compress(body, mtime=0)
            encoding = "gzip"
        self.send_response(status)
        if status != 304 and (body or status >= 300):
            self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if encoding:
            self.send_header("Content-Encoding", encoding)
            self.send_header("Vary", "Accept-Encoding")
        if status != 304:
            self.send_header("Content-Length", str(len(payload)))
        if short:
            self.send_header("Connection", "close")
            self.close_connection = True
        if head or status == 304 or not payload:
            self._mark_answered()
            self.end_headers()
            return
        self.end_headers()
        self._mark_answered()
        if short:
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(payload)


def _not_modified(resource: _Resource, inm: str | None, ims: str | None) -> bool:
    if inm is not None:
        # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2); weak comparison.
        wanted = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return "*" in wanted or resource.etag.removeprefix("W/") in wanted
    if ims is not None:
        since = parse_http_date(ims)
        return since is not None and int(resource.mtime) <= since.timestamp()
    return False


@contextlib.contextmanager
def running_mirror(
    root: Path,
    faults: FaultPlan | None = None,
    **options: Any,
) -> Iterator[MirrorServer]:
    """A mirror on a free loopback port in a background thread, for tests."""
    server = MirrorServer(root, faults=faults, **options)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def serve_mirror(root: Path, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve `root` until interrupted, logging each request to stderr (`chess-patterns mirror`)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(
            f"mirror folder {root} does not exist; give a folder laid out "
            "like <user>/<YYYY>/<MM>.json"
        )
    server = MirrorServer(root, host=host, port=port, verbose=True)
    print(f"serving {root} as {server.base_url} (set CHESSCOM_BASE_URL to this)", file=sys.stderr)
    try:
        server.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()


__all__ = [
    "BLOCKED_HTML",
    "Fault",
    "FaultPlan",
    "MirrorServer",
    "RequestRecord",
    "running_mirror",
    "serve_mirror",
]

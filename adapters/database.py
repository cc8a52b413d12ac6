"""The published database as one value: dialect, SQLAlchemy URL, conninfo, redacted URL, engines."""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import parse_qsl, urlencode

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

    from settings import Settings

# SQLAlchemy and psycopg are imported inside the methods that use them: the API's PostgreSQL
# path does not need SQLAlchemy, and it is a third of the API's import time.

log = logging.getLogger(__name__)

T = TypeVar("T")

Dialect = Literal["postgresql", "sqlite"]

# Whole-transaction retries when the server is waking up (Neon scales to zero and takes a few
# seconds to resume) or drops the connection; the last delay is about 4 s, ~7.5 s in total.
RETRY_DELAYS_SECONDS = (0.5, 1.0, 2.0, 4.0)

# libpq parameters that hold a secret: masked in the redacted form.
_SECRET_PARAMETERS = frozenset({"password", "sslpassword"})


class DatabaseUrlError(ValueError):
    """A DATABASE_URL (or API_DATABASE_URL) this project cannot use."""


class PublishError(RuntimeError):
    """A publish that did not happen; the previous snapshot is still the one served."""


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key (Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def _scheme_dialect(scheme: str) -> Dialect | None:
    scheme = scheme.lower()
    if scheme in {"postgres", "postgresql"} or scheme.startswith("postgresql+"):
        return "postgresql"
    if scheme == "sqlite" or scheme.startswith("sqlite+"):
        return "sqlite"
    return None


def _redact(url: str) -> str:
    """The URL with any password (in the user info or the query) replaced by ***."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "<unparsable URL>"
    rest, qmark, query = rest.partition("?")
    userinfo, at, hosts = rest.rpartition("@")
    if at:
        user, colon, _password = userinfo.partition(":")
        rest = f"{user}{':***' if colon else ''}@{hosts}"
    if qmark:
        pairs = [
            (k, "***" if k.lower() in _SECRET_PARAMETERS else v)
            for k, v in parse_qsl(query, keep_blank_values=True)
        ]
        rest = f"{rest}?{urlencode(pairs, safe='*/:')}"
    return f"{scheme}://{rest}"


@dataclass(frozen=True)
class Database:
    """Where summaries are published (or read from), parsed and checked once.

    Build it at an entry point with `from_settings` (the publish target) or `for_api` (the API's
    read-only connection); everything below takes this value, never a URL string. `str()` and
    `repr()` give the redacted form, so a Database can go into messages and logs as it is.
    """

    dialect: Dialect
    url: str = field(repr=False)  # as given: may hold a password, never print it
    read_only: bool = False
    path: Path | None = None  # the SQLite file; None on PostgreSQL
    setting: str = "DATABASE_URL"  # which setting it came from, for messages

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def from_url(
        cls, url: str, *, read_only: bool = False, setting: str = "DATABASE_URL"
    ) -> Database:
        """The database a URL names; DatabaseUrlError (one line, says what to use) if it is bad."""
        scheme, sep, _rest = url.strip().partition("://")
        dialect = _scheme_dialect(scheme) if sep else None
        if dialect is None:
            what = f"scheme {scheme.lower()!r} is not supported" if sep else "names no scheme"
            raise DatabaseUrlError(
                f"{setting} {what}: use postgresql://user:password@host:5432/dbname "
                "or sqlite:///path/to/file.sqlite"
            )
        if dialect == "sqlite":
            return cls("sqlite", url, read_only, _sqlite_file(url, setting), setting)
        database = cls("postgresql", url, read_only, None, setting)
        database._check_conninfo()
        return database

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        """The publish target: DATABASE_URL, else the embedded SQLite file under DATA_DIR."""
        return cls.from_url(settings.resolved_database_url)

    @classmethod
    def for_api(cls, settings: Settings) -> Database:
        """The API's connection, always read-only: API_DATABASE_URL (in production a role that
        may only SELECT), else the publish target opened read-only."""
        if settings.api_database_url:
            return cls.from_url(
                settings.api_database_url, read_only=True, setting="API_DATABASE_URL"
            )
        return cls.from_settings(settings).reader()

    def reader(self) -> Database:
        """The same database, opened read-only."""
        return replace(self, read_only=True)

    # -- forms -------------------------------------------------------------------------------

    @property
    def redacted(self) -> str:
        """The URL for messages and logs: never a password."""
        return _redact(self.url)

    def __str__(self) -> str:
        return self.redacted

    def __repr__(self) -> str:
        return f"Database({self.redacted!r}, read_only={self.read_only})"

    @property
    def conninfo(self) -> str:
        """The libpq connection string (a postgresql:// URI) with the URL's TLS and libpq
        settings as given."""
        if self.dialect != "postgresql":
            raise DatabaseUrlError(f"{self} is a SQLite file, not a PostgreSQL database")
        return f"postgresql://{self.url.strip().partition('://')[2]}"

    @property
    def sqlalchemy_url(self) -> str:
        """The SQLAlchemy URL: psycopg 3 for PostgreSQL (postgres:// too), a mode=ro URI for a
        read-only SQLite."""
        if self.dialect == "postgresql":
            return f"postgresql+psycopg://{self.url.strip().partition('://')[2]}"
        assert self.path is not None
        if self.read_only:
            return f"sqlite+pysqlite:///file:{self.path.as_posix()}?mode=ro&uri=true"
        return f"sqlite+pysqlite:///{self.path.as_posix()}"

    def exists(self) -> bool:
        """False only for a SQLite file not created yet (a server is asked when connecting)."""
        return self.path is None or self.path.exists()

    # -- engines and transactions --------------------------------------------------------------

    def engine(
        self, *, pooled: bool = False, connect_timeout: int = 10, pool_size: int = 8
    ) -> Engine:
        """An engine that is safe behind a transaction-mode pooler, read-only when this is.

        PostgreSQL: prepared statements off (PgBouncer in transaction mode cannot keep them), TLS
        and other libpq settings taken from the URL as given, a connect timeout, and for readers
        every transaction begins READ ONLY (psycopg's per-transaction BEGIN READ ONLY: no session
        state). SQLite: readers open the file with mode=ro; writers take the write lock at BEGIN
        IMMEDIATE.
        """
        from sqlalchemy import create_engine, event
        from sqlalchemy.engine import make_url
        from sqlalchemy.pool import NullPool

        read_only = self.read_only
        url = self.sqlalchemy_url
        pool_args: dict[str, Any] = (
            {"pool_size": pool_size, "max_overflow": pool_size, "pool_timeout": connect_timeout}
            if pooled
            else {"poolclass": NullPool}
        )
        if self.dialect == "postgresql":
            connect_args: dict[str, Any] = {"prepare_threshold": None}
            if "connect_timeout" not in make_url(url).query:
                connect_args["connect_timeout"] = connect_timeout
            engine = create_engine(url, connect_args=connect_args, **pool_args)
            if read_only:

                @event.listens_for(engine, "connect")
                def _read_only(dbapi_connection: Any, _record: Any) -> None:
                    dbapi_connection.read_only = True

            return engine

        engine = create_engine(
            url,
            connect_args={"timeout": float(connect_timeout), "check_same_thread": False},
            **pool_args,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
            # Take over transaction control from the driver so that DDL is transactional too.
            dbapi_connection.isolation_level = None
            if not read_only:
                dbapi_connection.execute("pragma journal_mode=wal")

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            conn.exec_driver_sql("begin" if read_only else "begin immediate")

        return engine

    def with_retry(self, what: str, work: Callable[[Engine], T]) -> T:
        """Runs one whole write transaction (`work`), again from the start while the failure is
        transient; PublishError (one line, nothing changed) when it is not, or retries run out."""
        if self.read_only:
            raise PublishError(f"{what}: {self} was opened read-only")
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        engine = self.engine()
        try:
            for attempt, delay in enumerate((*RETRY_DELAYS_SECONDS, None), start=1):
                try:
                    return work(engine)
                except Exception as error:
                    driver_error = self._driver_error(error)
                    if driver_error is None:
                        raise
                    if delay is None or not self._is_transient(error):
                        problem = (str(driver_error).strip().splitlines() or [""])[0]
                        raise PublishError(
                            f"{what} on {self} failed after {attempt} attempt(s): "
                            f"{problem or type(driver_error).__name__}. "
                            "Nothing was changed; check that the database is reachable and retry."
                        ) from error
                    log.warning("%s: transient database error, retry %d: %s", what, attempt, error)
                    time.sleep(delay * (0.75 + random.random() / 2))
            raise AssertionError("unreachable")
        finally:
            engine.dispose()

    # -- checks ------------------------------------------------------------------------------

    def _driver_error(self, error: BaseException) -> BaseException | None:
        """The driver's exception behind a database failure, or None for any other failure.
        A COPY runs on the driver's own cursor (publish), so its errors arrive unwrapped."""
        from sqlalchemy.exc import DBAPIError

        if isinstance(error, DBAPIError):
            return error.orig
        if self.dialect == "postgresql":
            import psycopg

            if isinstance(error, psycopg.Error):
                return error
        return None

    def _is_transient(self, error: BaseException) -> bool:
        from sqlalchemy.exc import DBAPIError, OperationalError

        if isinstance(error, DBAPIError) and error.connection_invalidated:
            return True
        if self.dialect == "postgresql":
            import psycopg

            # connection refused/dropped, server starting up, admin shutdown
            return isinstance(error, OperationalError | psycopg.OperationalError)
        if not isinstance(error, OperationalError):
            return False
        message = str(error.orig).lower()
        return "locked" in message or "busy" in message

    def _check_conninfo(self) -> None:
        from psycopg import ProgrammingError
        from psycopg.conninfo import conninfo_to_dict

        conninfo = self.conninfo
        try:
            given = conninfo_to_dict(conninfo)
        except ProgrammingError as error:
            problem = str(error).strip().splitlines()[0].replace(conninfo, self.redacted)
            raise DatabaseUrlError(
                f"{self.setting} {self.redacted!r} is not a valid PostgreSQL URL ({problem}): "
                "use postgresql://user:password@host:5432/dbname"
            ) from None
        ports = str(given.get("port", "")).split(",")
        if any(port and not port.isdigit() for port in ports):
            raise DatabaseUrlError(
                f"{self.setting} {self.redacted!r} has a port that is not a number: "
                "use postgresql://user:password@host:5432/dbname"
            )


def _sqlite_file(url: str, setting: str) -> Path:
    """The file behind a sqlite:/// URL (in-memory databases cannot be shared, so refuse them)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        database = make_url(url.strip()).database
    except ArgumentError:
        database = None
    if not database or database == ":memory:" or database.startswith("file:"):
        raise DatabaseUrlError(
            f"{setting} {url!r} does not name a SQLite file: use sqlite:///path/to/file.sqlite"
        )
    return Path(database).resolve()

"""The Database value: parsed and checked once, redacted in every message, read-only for the API."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from adapters.database import Database, DatabaseUrlError
from settings import Settings

SECRET = "s3cr3t-pw"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u@h/db", "DATABASE_URL scheme 'mysql' is not supported"),
        ("patterns.sqlite", "DATABASE_URL names no scheme"),
        ("sqlite://", "does not name a SQLite file"),
        ("sqlite:///:memory:", "does not name a SQLite file"),
        (f"postgresql://u:{SECRET}@h:port/db", "has a port that is not a number"),
        (f"postgresql://u:{SECRET}@[::1/db", "is not a valid PostgreSQL URL"),
        (f"postgresql://u:{SECRET}@h/db?nosuchparameter=1", "is not a valid PostgreSQL URL"),
    ],
)
def test_a_bad_url_is_one_clear_line_without_the_password(url: str, message: str) -> None:
    with pytest.raises(DatabaseUrlError, match=message) as raised:
        Database.from_url(url)
    text_ = str(raised.value)
    assert SECRET not in text_
    assert "\n" not in text_
    assert "use postgresql://user:password@host:5432/dbname" in text_ or "sqlite:///" in text_


def test_postgres_forms() -> None:
    url = f"postgres://alice:{SECRET}@db.example:6543/patterns?sslmode=require&password={SECRET}"
    database = Database.from_url(url)
    assert database.dialect == "postgresql"
    assert database.conninfo == url.replace("postgres://", "postgresql://", 1)
    assert database.sqlalchemy_url == url.replace("postgres://", "postgresql+psycopg://", 1)
    assert database.redacted == (
        "postgres://alice:***@db.example:6543/patterns?sslmode=require&password=***"
    )
    for shown in (str(database), repr(database), f"{database}"):
        assert SECRET not in shown
    assert database.exists()


def test_sqlite_forms(tmp_path: Path) -> None:
    database = Database.from_url(f"sqlite:///{tmp_path / 'x.sqlite'}")
    assert database.dialect == "sqlite"
    assert database.path == (tmp_path / "x.sqlite").resolve()
    assert database.sqlalchemy_url == f"sqlite+pysqlite:///{database.path.as_posix()}"
    assert database.reader().sqlalchemy_url.endswith("?mode=ro&uri=true")
    assert not database.exists()
    with pytest.raises(DatabaseUrlError, match="not a PostgreSQL database"):
        _ = database.conninfo


def test_settings_entry_points(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)
    publish = Database.from_settings(settings)
    assert publish.path == (tmp_path / "patterns.sqlite").resolve()
    assert not publish.read_only
    api = Database.for_api(settings)
    assert api.read_only
    assert api.path == publish.path

    own = Settings(_env_file=None, data_dir=tmp_path, api_database_url="postgresql://r@h/db")
    assert Database.for_api(own) == Database(
        "postgresql", "postgresql://r@h/db", True, None, "API_DATABASE_URL"
    )
    bad = Settings(_env_file=None, data_dir=tmp_path, api_database_url="mysql://r@h/db")
    with pytest.raises(DatabaseUrlError, match=r"^API_DATABASE_URL scheme"):
        Database.for_api(bad)


def test_a_read_only_database_cannot_write(tmp_path: Path) -> None:
    writer = Database.from_url(f"sqlite:///{tmp_path / 'x.sqlite'}")
    engine = writer.engine()
    with engine.begin() as conn:
        conn.execute(text("create table t (x integer)"))
    engine.dispose()
    reader = writer.reader().engine()
    try:
        with pytest.raises(DBAPIError, match="readonly"), reader.begin() as conn:
            conn.execute(text("insert into t values (1)"))
    finally:
        reader.dispose()


def test_a_read_only_postgres_engine_cannot_write(postgres_url: str) -> None:
    engine = Database.from_url(postgres_url).reader().engine()
    try:
        with pytest.raises(DBAPIError, match="read-only transaction"), engine.begin() as conn:
            conn.execute(text("create table t (x integer)"))
    finally:
        engine.dispose()

"""Publishing to SQLite and PostgreSQL: migrations, one-transaction publish, idempotence."""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import create_engine, text

from adapters import migrations, publish
from adapters.database import Database
from adapters.db import GAMES_COLUMNS, SQL_DIR
from adapters.publish import PublishError, publish_player, upgrade_schema
from adapters.reads import read_player, read_summary_rows
from tests.api.sample import ALICE_GAMES, ALICE_RESULTS, alice, games_frame, results_frame
from transforms.registry import BY_NAME, SUMMARIES


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_database_url(request: pytest.FixtureRequest) -> str:
    """An empty database: a SQLite file not yet created, or a fresh PostgreSQL database (the
    shared `database_url` is the same with PostgreSQL migrated)."""
    url: str = request.getfixturevalue(
        "sqlite_url" if request.param == "sqlite" else "postgres_url"
    )
    return url


def dump(database_url: str, username: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every stored row of a player, table by table, in key order (read independently)."""
    engine = create_engine(Database.from_url(database_url).sqlalchemy_url)
    tables = ["players", "games", *(s.table for s in SUMMARIES)]
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in tables:
            rows = conn.execute(
                text(f'select * from "{table}" where username = :u'), {"u": username}
            )
            out[table] = sorted(tuple(r) for r in rows)
    engine.dispose()
    return out


def test_upgrade_applies_each_migration_once(fresh_database_url: str) -> None:
    first = upgrade_schema(Database.from_url(fresh_database_url))
    assert first[0] == "0001_core"
    assert {f"{s.table}@v{s.version}" for s in SUMMARIES} <= set(first)
    assert upgrade_schema(Database.from_url(fresh_database_url)) == []


# How the migrations spell each published type in the games table.
GAMES_DDL_TYPES = {
    "sqlite": {
        "text": "text",
        "integer": "integer",
        "real": "real",
        "boolean": "integer",
        "timestamp": "text",
    },
    "postgresql": {
        "text": "text",
        "integer": "integer",
        "real": "double precision",
        "boolean": "boolean",
        "timestamp": "timestamp with time zone",
    },
}
GAMES_DDL_SQL = {
    "sqlite": "select name, lower(type) from pragma_table_info('games') order by cid",
    "postgresql": "select column_name, data_type from information_schema.columns "
    "where table_name = 'games' order by ordinal_position",
}


def test_the_code_and_the_migrations_agree_on_the_games_table(fresh_database_url: str) -> None:
    """The DDL is the migrations'; the code's one list of the games' columns must match it."""
    database = Database.from_url(fresh_database_url)
    upgrade_schema(database)
    engine = database.engine()
    with engine.connect() as conn:
        table = [tuple(r) for r in conn.execute(text(GAMES_DDL_SQL[database.dialect]))]
    engine.dispose()
    types = GAMES_DDL_TYPES[database.dialect]
    assert table == [(name, types[kind]) for name, kind in GAMES_COLUMNS]


def test_postgres_scheme_is_accepted(postgres_url: str) -> None:
    upgrade_schema(
        Database.from_url(postgres_url)
    )  # `chess-patterns db upgrade`, on the direct URL
    url = "postgres://" + postgres_url.split("://", 1)[1]
    summaries, games = alice()
    assert publish_player(Database.from_url(url), "alice", summaries, games).rows == 5 + 9
    assert read_player(Database.from_url(postgres_url), "alice") is not None


def test_publish_then_read_back_the_hand_count(database_url: str) -> None:
    summaries, games = alice()
    report = publish_player(Database.from_url(database_url), "Alice", summaries, games)
    assert report.username == "alice"
    assert report.rows == len(ALICE_GAMES) + len(ALICE_RESULTS)
    assert report.bytes > 0
    player = read_player(Database.from_url(database_url), "ALICE")
    assert player is not None
    assert player["snapshot_id"] == report.snapshot_id
    assert player["game_count"] == 5
    assert player["summaries"] == [
        {"name": "results", "version": BY_NAME["results"].version, "rows": 9}
    ]
    assert player["published_bytes"] == report.bytes
    rows = read_summary_rows(Database.from_url(database_url), "alice", "results")
    got = {(r["time_class"], r["color"]): (r["wins"], r["draws"], r["losses"]) for r in rows}
    assert got == ALICE_RESULTS
    assert rows[0]["score"] == pytest.approx(3.5 / 5)
    assert read_player(Database.from_url(database_url), "bob") is None
    assert read_summary_rows(Database.from_url(database_url), "bob", "results") == []


def test_republishing_identical_data_changes_nothing(database_url: str) -> None:
    summaries, games = alice()
    first = publish_player(Database.from_url(database_url), "alice", summaries, games)
    before = dump(database_url, "alice")
    # The same games in another order, and one game delivered twice (a month fetched twice).
    again = pl.concat([games.reverse(), games.head(1)])
    second = publish_player(Database.from_url(database_url), "alice", alice()[0], again)
    assert second.snapshot_id == first.snapshot_id
    assert second.published_at == first.published_at
    assert dump(database_url, "alice") == before
    assert len(before["games"]) == 5


def test_games_go_out_in_batches_and_the_last_copy_wins(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database.from_url(database_url)
    summaries, games = alice()
    # Game 0 delivered again at the end with another opponent: that later copy is published.
    changed = games.head(1).with_columns(pl.lit("someone-else").alias("opponent"))
    frame = pl.concat([games, changed])
    monkeypatch.setattr(publish, "GAMES_BATCH", 2)  # 5 games: batches of 2, 2 and 1
    small = publish_player(db, "alice", summaries, frame)
    engine = create_engine(db.sqlalchemy_url)
    with engine.connect() as conn:
        query = text("select game_id, opponent from games where username = 'alice'")
        by_id: dict[str, str] = {str(r[0]): str(r[1]) for r in conn.execute(query)}
    engine.dispose()
    assert len(by_id) == 5
    assert by_id[games["game_id"][0]] == "someone-else"
    assert by_id[games["game_id"][1]] == games["opponent"][1]
    # One batch for everything: the same digest, so the served snapshot is left alone.
    monkeypatch.setattr(publish, "GAMES_BATCH", 10_000)
    whole = publish_player(db, "alice", alice()[0], frame.reverse())
    assert whole.snapshot_id != small.snapshot_id  # reversed: game 0's other copy is last now
    again = publish_player(db, "alice", alice()[0], frame)
    assert again.rows == small.rows
    monkeypatch.setattr(publish, "GAMES_BATCH", 2)
    assert publish_player(db, "alice", alice()[0], frame).snapshot_id == (again.snapshot_id)
    assert again.snapshot_id == small.snapshot_id


def test_new_data_moves_the_snapshot_and_replaces_rows(database_url: str) -> None:
    summaries, games = alice()
    first = publish_player(Database.from_url(database_url), "alice", summaries, games)
    fewer = games.head(2)
    results = results_frame("alice", {("all", "all"): (1, 0, 1)})
    second = publish_player(Database.from_url(database_url), "alice", {"results": results}, fewer)
    assert second.snapshot_id != first.snapshot_id
    stored = dump(database_url, "alice")
    assert len(stored["games"]) == 2
    assert len(stored["summary_results"]) == 1
    assert {r[2] for r in stored["games"]} == {second.snapshot_id}


def test_players_are_independent(database_url: str) -> None:
    summaries, games = alice()
    publish_player(Database.from_url(database_url), "alice", summaries, games)
    bob_games = games_frame("bob", [("bullet", "black", "loss")])
    publish_player(
        Database.from_url(database_url),
        "bob",
        {"results": results_frame("bob", {("all", "all"): (0, 0, 1)})},
        bob_games,
    )
    assert len(dump(database_url, "alice")["games"]) == 5
    assert len(dump(database_url, "bob")["games"]) == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("unknown_summary", "unknown summaries"),
        ("missing_column", "missing ['wins']"),
        ("extra_column", "unexpected ['surprise']"),
        ("other_player", "other players"),
        ("duplicate_dims", "several rows for the same"),
        ("bad_type", "cannot be stored as integer"),
    ],
)
def test_bad_frames_are_refused_with_a_clear_error(
    change: str, message: str, sqlite_url: str
) -> None:
    summaries, games = alice()
    results = summaries["results"]
    if change == "unknown_summary":
        summaries = {**summaries, "nonsense": results}
    elif change == "missing_column":
        summaries = {"results": results.drop("wins")}
    elif change == "extra_column":
        summaries = {"results": results.with_columns(pl.lit(1).alias("surprise"))}
    elif change == "other_player":
        games = pl.concat([games, games_frame("mallory", [("blitz", "white", "win")])])
    elif change == "duplicate_dims":
        summaries = {"results": pl.concat([results, results.head(1)])}
    elif change == "bad_type":
        summaries = {"results": results.with_columns(pl.lit("many").alias("games"))}
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        publish_player(Database.from_url(sqlite_url), "alice", summaries, games)
    assert read_player(Database.from_url(sqlite_url), "alice") is None


FAIL_SUMMARY_INSERTS = {
    "sqlite": [
        "create trigger fail_publish before insert on summary_results "
        "begin select raise(abort, 'disk full (simulated) after the games were loaded'); end"
    ],
    "postgresql": [
        "create function fail_publish() returns trigger language plpgsql as $$ begin "
        "raise exception 'disk full (simulated) after the games were loaded'; end $$",
        "create trigger fail_publish before insert on summary_results "
        "for each row execute function fail_publish()",
    ],
}


def test_a_failed_publish_leaves_the_previous_snapshot(database_url: str) -> None:
    summaries, games = alice()
    first = publish_player(Database.from_url(database_url), "alice", summaries, games)
    before = dump(database_url, "alice")
    # The database itself fails the transaction once the games are replaced: a trigger refuses
    # the summary rows that a publish loads after them.
    engine = create_engine(Database.from_url(database_url).sqlalchemy_url)
    with engine.begin() as conn:
        for statement in FAIL_SUMMARY_INSERTS[Database.from_url(database_url).dialect]:
            conn.exec_driver_sql(statement)
    engine.dispose()
    with pytest.raises(PublishError, match="disk full"):
        publish_player(Database.from_url(database_url), "alice", summaries, games.head(3))
    assert dump(database_url, "alice") == before
    player = read_player(Database.from_url(database_url), "alice")
    assert player is not None
    assert player["snapshot_id"] == first.snapshot_id


def test_summary_version_change_rebuilds_only_that_table(database_url: str) -> None:
    summaries, games = alice()
    publish_player(Database.from_url(database_url), "alice", summaries, games)
    next_version = BY_NAME["results"].version + 1
    bumped = dataclasses.replace(BY_NAME["results"], version=next_version)
    registry = tuple(bumped if s.name == "results" else s for s in SUMMARIES)
    assert upgrade_schema(Database.from_url(database_url), registry=registry) == [
        f"summary_results@v{next_version}"
    ]
    stored = dump(database_url, "alice")
    assert stored["summary_results"] == []  # derived data of the old definition is gone
    assert len(stored["games"]) == 5
    report = publish_player(
        Database.from_url(database_url), "alice", alice()[0], games, registry=registry
    )
    player = read_player(Database.from_url(database_url), "alice")
    assert player is not None
    assert player["summaries"] == [{"name": "results", "version": next_version, "rows": 9}]
    assert player["snapshot_id"] == report.snapshot_id


REAL_PLAYER = "shaunchess123"
COPIES = 20  # the real player's games 20 times over: ~4,000 games, so pages are mostly full


def _real_player_as(
    fixtures_dir: Path, username: str
) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    """A recorded player's summaries (all of the registry) and games, under another name, the
    games repeated under fresh ids so the tables span many pages."""
    from adapters.warehouse import compute_summaries_from_frames
    from transforms.archive import parse_month

    months = sorted((fixtures_dir / REAL_PLAYER).glob("[0-9]*/[0-9]*.json"))
    parsed = [parse_month(REAL_PLAYER, f"{p.parent.name}-{p.stem}", p.read_bytes()) for p in months]
    games = pl.concat([p.games for p in parsed])
    summaries = compute_summaries_from_frames(
        games, pl.concat([p.moves for p in parsed]), REAL_PLAYER
    )
    renamed = pl.lit(username).alias("username")
    many = pl.concat(
        games.with_columns(renamed, (pl.col("game_id") + f"-{i}").alias("game_id"))
        for i in range(COPIES)
    )
    return {n: f.with_columns(renamed) for n, f in summaries.items()}, many


def _disk_bytes(postgres_url: str) -> int:
    """Every published table with its indexes and TOAST, as PostgreSQL counts it (vacuumed
    first, so the free space map and visibility map exist before and after alike)."""
    import psycopg

    tables = ["players", "games", *(s.table for s in SUMMARIES)]
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("vacuum")
        total = 0
        for table in tables:
            row = conn.execute("select pg_total_relation_size(%s::regclass)", (table,)).fetchone()
            assert row is not None
            total += int(row[0])
    return total


def test_postgres_bytes_match_the_disk_a_player_takes(
    postgres_url: str, fixtures_dir: Path
) -> None:
    """An independent measure: publish a player, then an identical one under another name, and
    compare the second one's reported bytes with how much the tables grew on disk."""
    upgrade_schema(Database.from_url(postgres_url))
    first = publish_player(
        Database.from_url(postgres_url), "mmm", *_real_player_as(fixtures_dir, "mmm")
    )
    for name in ("bbb", "zzz"):  # keys landing inside the indexes, and at their right end
        before = _disk_bytes(postgres_url)
        report = publish_player(
            Database.from_url(postgres_url), name, *_real_player_as(fixtures_dir, name)
        )
        grown = _disk_bytes(postgres_url) - before
        assert report.rows == first.rows
        # Row-by-row estimate vs pages on disk: within 15 % (the column sizes alone, as before
        # this estimate, came to 65-70 % of the growth).
        assert 0.85 * grown <= report.bytes <= 1.15 * grown, (name, report.bytes, grown)


def test_url_parameters_reach_the_server(postgres_url: str) -> None:
    """libpq settings in DATABASE_URL (sslmode, application_name, ...) are passed through."""
    url = postgres_url + "?sslmode=disable&application_name=cp-publish-test"
    engine = Database.from_url(url).engine()
    with engine.connect() as conn:
        name = conn.execute(text("select current_setting('application_name')")).scalar_one()
    engine.dispose()
    assert name == "cp-publish-test"


class FlakyProxy:
    """A TCP proxy to PostgreSQL that drops the first `drops` connections (a waking Neon)."""

    def __init__(self, target_port: int, drops: int) -> None:
        self.drops = drops
        self.accepted = 0
        self.target_port = target_port
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self._stop:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            self.accepted += 1
            if self.accepted <= self.drops:
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._stop = True
        self.server.close()


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("adapters.database.RETRY_DELAYS_SECONDS", (0.01, 0.01, 0.01, 0.01))


def _via(proxy: FlakyProxy, postgres_url: str) -> str:
    rest = postgres_url.split("@", 1)[1]
    user = postgres_url.split("://", 1)[1].split("@", 1)[0]
    return f"postgresql://{user}@127.0.0.1:{proxy.port}/{rest.split('/', 1)[1]}"


@pytest.fixture
def proxy_factory() -> Iterator[Any]:
    proxies: list[FlakyProxy] = []

    def make(drops: int) -> FlakyProxy:
        proxies.append(FlakyProxy(5432, drops))
        return proxies[-1]

    yield make
    for p in proxies:
        p.close()


@pytest.mark.usefixtures("fast_retries")
def test_dropped_connections_are_retried(postgres_url: str, proxy_factory: Any) -> None:
    upgrade_schema(
        Database.from_url(postgres_url)
    )  # `chess-patterns db upgrade`, on the direct URL
    proxy = proxy_factory(drops=2)
    summaries, games = alice()
    report = publish_player(Database.from_url(_via(proxy, postgres_url)), "alice", summaries, games)
    assert proxy.accepted > 2
    player = read_player(Database.from_url(postgres_url), "alice")
    assert player is not None
    assert player["snapshot_id"] == report.snapshot_id


@pytest.mark.usefixtures("fast_retries")
def test_retries_are_bounded_and_nothing_changes(postgres_url: str, proxy_factory: Any) -> None:
    upgrade_schema(
        Database.from_url(postgres_url)
    )  # `chess-patterns db upgrade`, on the direct URL
    summaries, games = alice()
    first = publish_player(Database.from_url(postgres_url), "alice", summaries, games)
    proxy = proxy_factory(drops=10_000)
    with pytest.raises(PublishError, match="failed after 5 attempt"):
        publish_player(
            Database.from_url(_via(proxy, postgres_url)), "alice", summaries, games.head(1)
        )
    player = read_player(Database.from_url(postgres_url), "alice")
    assert player is not None
    assert player["snapshot_id"] == first.snapshot_id


def test_an_edited_applied_migration_is_refused(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    upgrade_schema(Database.from_url(sqlite_url))
    edited = tmp_path / "serving"
    shutil.copytree(SQL_DIR, edited)
    core = edited / "0001_core.sqlite.sql"
    core.write_text(core.read_text() + "\ncreate table sneaky (a integer);\n")
    monkeypatch.setattr(migrations, "SQL_DIR", edited)
    with pytest.raises(publish.MigrationEditedError, match="0001_core was changed"):
        upgrade_schema(Database.from_url(sqlite_url))


def test_publish_to_an_unmigrated_postgres_says_to_run_db_upgrade(postgres_url: str) -> None:
    summaries, games = alice()
    with pytest.raises(publish.SchemaNotCurrentError) as raised:
        publish_player(Database.from_url(postgres_url), "alice", summaries, games)
    message = str(raised.value)
    assert "chess-patterns db upgrade" in message
    assert "\n" not in message
    engine = create_engine(Database.from_url(postgres_url).sqlalchemy_url)
    with engine.connect() as conn:
        tables = conn.execute(
            text("select count(*) from pg_tables where schemaname = 'public'")
        ).scalar_one()
    engine.dispose()
    assert tables == 0  # the publish created nothing


def test_publish_never_rebuilds_postgres_tables_on_a_version_bump(postgres_url: str) -> None:
    upgrade_schema(Database.from_url(postgres_url))
    summaries, games = alice()
    first = publish_player(Database.from_url(postgres_url), "alice", summaries, games)
    before = dump(postgres_url, "alice")
    bumped = dataclasses.replace(BY_NAME["results"], version=BY_NAME["results"].version + 1)
    registry = tuple(bumped if s.name == "results" else s for s in SUMMARIES)
    database = Database.from_url(postgres_url)
    with pytest.raises(publish.SchemaNotCurrentError, match="summary_results@v"):
        publish_player(database, "alice", alice()[0], games.head(2), registry=registry)
    assert dump(postgres_url, "alice") == before  # nothing dropped, nothing replaced
    player = read_player(Database.from_url(postgres_url), "alice")
    assert player is not None
    assert player["snapshot_id"] == first.snapshot_id
    upgrade_schema(database, registry=registry)
    report = publish_player(database, "alice", alice()[0], games.head(2), registry=registry)
    assert report.rows == 2 + 9


def test_publish_upgrades_the_embedded_sqlite_by_itself(sqlite_url: str) -> None:
    summaries, games = alice()
    publish_player(
        Database.from_url(sqlite_url), "alice", summaries, games
    )  # no db upgrade step for a newcomer
    bumped = dataclasses.replace(BY_NAME["results"], version=BY_NAME["results"].version + 1)
    registry = tuple(bumped if s.name == "results" else s for s in SUMMARIES)
    publish_player(Database.from_url(sqlite_url), "alice", alice()[0], games, registry=registry)
    player = read_player(Database.from_url(sqlite_url), "alice")
    assert player is not None
    listed = {e["name"]: e["version"] for e in player["summaries"]}
    assert listed["results"] == bumped.version
    assert len(read_summary_rows(Database.from_url(sqlite_url), "alice", "results")) == len(
        ALICE_RESULTS
    )

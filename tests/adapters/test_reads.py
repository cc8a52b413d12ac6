"""`chess-patterns report` reads one snapshot in one transaction, even while a publish lands."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from adapters.database import Database
from adapters.publish import PublishReport, publish_player
from adapters.reads import PublishedPlayer, read_published
from adapters.warehouse import compute_summaries_from_frames
from cli import app
from tests.api.sample import ALICE_GAMES, games_frame
from transforms.schema import MOVES_SCHEMA

Frames = tuple[dict[str, pl.DataFrame], pl.DataFrame]
B_GAMES = [*ALICE_GAMES, ("bullet", "black", "loss"), ("bullet", "white", "draw")]


def every_summary(spec: list[tuple[str, str, str]], salt: str) -> Frames:
    """Every summary of the registry, computed by the warehouse from a few hand-made games."""
    games = games_frame("alice", spec, salt=salt)
    return compute_summaries_from_frames(games, pl.DataFrame(schema=MOVES_SCHEMA), "alice"), games


def test_a_publish_halfway_through_the_read_is_not_mixed_in(database_url: str) -> None:
    database = Database.from_url(database_url)
    publish_player(database, "alice", *every_summary(ALICE_GAMES, ""))
    before = read_published(database, "alice")
    assert before is not None

    landed: list[PublishReport] = []

    def publish_b_after_the_first_summary(_name: str) -> None:
        if not landed:
            landed.append(publish_player(database, "alice", *every_summary(B_GAMES, "b")))

    seen = read_published(database, "alice", after_each=publish_b_after_the_first_summary)
    after = read_published(database, "alice")
    assert after is not None
    assert landed
    assert after.snapshot_id == landed[0].snapshot_id != before.snapshot_id
    # The two snapshots differ in most tables, so a read that mixed them would match neither.
    differ = [n for n, rows in before.summaries.items() if rows != after.summaries[n]]
    assert len(differ) >= len(before.summaries) // 2, differ
    assert isinstance(seen, PublishedPlayer)
    assert seen in (before, after), "the report mixed two snapshots"
    assert all(row["username"] == "alice" for rows in seen.summaries.values() for row in rows)


def test_nothing_published_reads_as_none(database_url: str, tmp_path: Path) -> None:
    assert read_published(Database.from_url(f"sqlite:///{tmp_path / 'none.sqlite'}"), "x") is None
    database = Database.from_url(database_url)
    publish_player(database, "alice", *every_summary(ALICE_GAMES, ""))
    assert read_published(database, "bob") is None


def test_report_command_prints_every_summary(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'published.sqlite'}"
    publish_player(Database.from_url(url), "alice", *every_summary(ALICE_GAMES, ""))
    env = {"DATABASE_URL": url, "DATA_DIR": str(tmp_path), "COLUMNS": "200"}
    runner = CliRunner()
    result = runner.invoke(app, ["report", "Alice"], env=env)
    assert result.exit_code == 0, result.output
    assert "Chess patterns of alice" in result.output
    assert all(f"({s} v" in result.output for s in ("results", "overview", "accuracy"))

    missing = runner.invoke(app, ["report", "bob"], env=env)
    assert missing.exit_code == 1
    assert "'bob' has not been published yet" in missing.output

    bad = runner.invoke(app, ["report", "alice"], env={**env, "DATABASE_URL": "mysql://x/y"})
    assert bad.exit_code == 1
    assert "DATABASE_URL scheme 'mysql' is not supported" in bad.output

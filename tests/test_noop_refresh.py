"""A refresh that changed nothing publishes nothing and says "unchanged"; any change publishes."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from adapters.database import Database
from adapters.reads import read_player, read_summary_rows
from adapters.roster import add_player
from mirror import running_mirror
from pipeline.refresh import PlayerOutcome, refresh_players
from settings import Settings


def _refresh(settings: Settings) -> PlayerOutcome:
    [outcome] = refresh_players(settings, ["wizardchiken"])
    assert outcome.ok, outcome
    return outcome


def test_noop_refresh_skips_summaries_and_publish_until_something_changes(
    fixtures_dir: Path, tmp_path: Path
) -> None:
    with running_mirror(fixtures_dir) as mirror:
        settings = Settings(chesscom_base_url=mirror.base_url, data_dir=tmp_path / "data")
        url = Database.from_settings(settings)
        first = _refresh(settings)
        assert first.publish is not None
        assert first.unchanged is None

        again = _refresh(settings)
        assert again.publish is None
        assert again.unchanged == first.publish.snapshot_id
        player = read_player(url, "wizardchiken")
        assert player is not None
        assert player["published_at"] == first.publish.published_at

        # The roster gives the player a time zone: its summaries change, so they are published.
        add_player(url, "wizardchiken", "Asia/Kolkata")
        zoned = _refresh(settings)
        assert zoned.publish is not None
        rows = read_summary_rows(url, "wizardchiken", "time_of_day")
        assert {r["timezone"] for r in rows if r["zone"] == "local"} == {"Asia/Kolkata"}
        assert _refresh(settings).unchanged == zoned.publish.snapshot_id

        # A lake file rewritten behind the refresh's back (here: only its mtime) is a change.
        part = next((settings.lake_dir / "games").rglob("part.parquet"))
        os.utime(part, ns=(part.stat().st_atime_ns, part.stat().st_mtime_ns + 1_000_000))
        assert _refresh(settings).publish is not None

        # The published database lost the player (restored from a backup, say): publish again.
        with sqlite3.connect(str(url.path)) as conn:
            conn.execute("delete from players where username = 'wizardchiken'")
        restored = _refresh(settings)
        assert restored.publish is not None
        assert read_player(url, "wizardchiken") is not None

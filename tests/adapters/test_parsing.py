"""The parse stage over a raw store laid out like the fixtures: only changed months are parsed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from adapters.lake import Lake
from settings import Settings
from tests.adapters.helpers import build_lake


def _raw_copy(fixtures_dir: Path, tmp_path: Path, user: str) -> Settings:
    settings = Settings.model_validate({"data_dir": tmp_path / "data", "parse_workers": 1})
    shutil.copytree(fixtures_dir / user, settings.raw_dir / user)
    return settings


def _count_games(raw_user_dir: Path) -> int:
    return sum(len(json.loads(p.read_bytes())["games"]) for p in raw_user_dir.glob("*/*.json"))


@pytest.mark.parametrize("workers", [1, 2])
def test_build_parses_every_month_then_skips(
    fixtures_dir: Path, tmp_path: Path, workers: int
) -> None:
    settings = _raw_copy(fixtures_dir, tmp_path, "shaunchess123")
    settings = settings.model_copy(update={"parse_workers": workers})
    report = build_lake(settings, "ShaunChess123")
    assert report.username == "shaunchess123"
    assert len(report.months_parsed) == 36
    assert report.months_skipped == []
    assert report.games == _count_games(settings.raw_dir / "shaunchess123") == 201
    assert report.parse_errors == 0
    assert report.failed_months == {}
    assert Lake(settings.lake_dir).read_games("shaunchess123").height == 201
    again = build_lake(settings, "shaunchess123")
    assert again.months_parsed == []
    assert len(again.months_skipped) == 36
    assert again.games == 201
    assert again.moves == report.moves > 0


def test_only_changed_month_is_parsed_again(fixtures_dir: Path, tmp_path: Path) -> None:
    settings = _raw_copy(fixtures_dir, tmp_path, "shaunchess123")
    build_lake(settings, "shaunchess123")
    path = settings.raw_dir / "shaunchess123" / "2025" / "08.json"
    body = json.loads(path.read_bytes())
    body["games"] = body["games"][:5]
    path.write_text(json.dumps(body))
    report = build_lake(settings, "shaunchess123")
    assert report.months_parsed == ["2025-08"]
    assert len(report.months_skipped) == 35
    assert report.games == 201 - 47 + 5


def test_malformed_month_fails_alone_and_keeps_old_partition(
    fixtures_dir: Path, tmp_path: Path
) -> None:
    settings = _raw_copy(fixtures_dir, tmp_path, "shaunchess123")
    build_lake(settings, "shaunchess123")
    (settings.raw_dir / "shaunchess123" / "2025" / "08.json").write_bytes(b"<html>502</html>")
    report = build_lake(settings, "shaunchess123")
    assert list(report.failed_months) == ["2025-08"]
    assert "not JSON" in report.failed_months["2025-08"]
    assert "2025-08" in report.failed_months["2025-08"]
    assert "chess-patterns refresh shaunchess123 --full" in report.failed_months["2025-08"]
    assert report.months_parsed == []
    lake = Lake(settings.lake_dir)
    assert lake.meta("shaunchess123", "2025-08") is not None
    assert lake.read_games("shaunchess123").height == 201


def test_month_gone_from_raw_store_is_removed(fixtures_dir: Path, tmp_path: Path) -> None:
    settings = _raw_copy(fixtures_dir, tmp_path, "shaunchess123")
    build_lake(settings, "shaunchess123")
    (settings.raw_dir / "shaunchess123" / "2025" / "08.json").unlink()
    report = build_lake(settings, "shaunchess123")
    assert "2025-08" not in Lake(settings.lake_dir).months("shaunchess123")
    assert report.games == 201 - 47


def test_unknown_player_gives_empty_report(tmp_path: Path) -> None:
    report = build_lake(Settings.model_validate({"data_dir": tmp_path}), "nobody")
    assert report.months_parsed == []
    assert report.games == 0


@pytest.mark.parametrize("workers", [1, 2])
def test_unwritable_month_fails_alone(fixtures_dir: Path, tmp_path: Path, workers: int) -> None:
    settings = _raw_copy(fixtures_dir, tmp_path, "shaunchess123")
    settings = settings.model_copy(update={"parse_workers": workers})
    # A file where the month's partition directory must go: the write fails for that month only.
    blocker = settings.lake_dir / "moves" / "username=shaunchess123" / "month=2025-08"
    blocker.parent.mkdir(parents=True)
    blocker.write_text("not a directory")
    report = build_lake(settings, "shaunchess123")
    assert list(report.failed_months) == ["2025-08"]
    assert "cannot write" in report.failed_months["2025-08"]
    assert report.failed_months["2025-08"].startswith("shaunchess123 2025-08: ")
    assert len(report.months_parsed) == 35
    assert report.games == 201 - 47

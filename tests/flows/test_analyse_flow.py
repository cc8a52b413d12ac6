"""The engine flow on a local Dask cluster of two worker processes equals the default runner."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from adapters.engine import EngineMissingError, find_engine
from adapters.lake import Lake
from adapters.raw_store import RawStore
from pipeline.analyse import analyse
from pipeline.parse import parse_player
from settings import Settings

PLAYER = "wizardchiken"


def _settings(fixtures_dir: Path, root: Path) -> Settings:
    settings = Settings.model_validate(
        {
            "data_dir": root,
            "parse_workers": 1,
            "engine_nodes": 400,
            "engine_budget_games": 6,
            "engine_batch_games": 2,  # three tasks for two workers
            "engine_workers": 2,
        }
    )
    shutil.copytree(fixtures_dir / PLAYER, settings.raw_dir / PLAYER)
    parse_player(RawStore(settings.raw_dir), Lake(settings.lake_dir), PLAYER, workers=1)
    return settings


def test_dask_run_equals_the_default_run(
    prefect_harness: None, fixtures_dir: Path, tmp_path: Path
) -> None:
    try:
        find_engine(None)
    except EngineMissingError as error:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(error))
    from flows.analyse import run_analyse_flow

    on_dask = _settings(fixtures_dir, tmp_path / "dask")
    dask_report = run_analyse_flow(on_dask, PLAYER)
    # the command line's runner, in-process (pool and in-process agree: tests/adapters)
    default = _settings(fixtures_dir, tmp_path / "default").model_copy(update={"engine_workers": 1})
    default_report = analyse(default, PLAYER)

    assert len(dask_report.analysed_now) == 6
    assert sorted(dask_report.analysed_now) == sorted(default_report.analysed_now)
    assert dask_report.engine_tag == default_report.engine_tag
    assert dask_report.engine_tag is not None
    tag = dask_report.engine_tag
    from_dask = Lake(on_dask.lake_dir).read_evals(PLAYER, tag)
    from_default = Lake(default.lake_dir).read_evals(PLAYER, tag)
    assert from_dask.height == dask_report.positions > 0
    assert from_dask.equals(from_default)  # exactly: every score, best move and node count

"""Smoke test of `bench/run_all.py --quick`: the report is produced and well-formed (no speed)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.postgres


def test_quick_benchmark_writes_a_well_formed_report(postgres_server: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "run_all.py"), "--quick", "--out", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=540,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["quick"] is True
    assert report["machine"]["cpu_count"] >= 1
    assert report["parse"]["status"] == "ok"
    assert report["parse"]["games"] == 300
    assert report["parse"]["bare_games_per_s"] > 0
    assert report["parse"]["ratio_full_to_bare"] > 0

    (run,) = report["backfill"]["runs"]
    assert run["games"] == 300
    assert run["backfill"]["games"] == 300
    assert run["moves"] > 300 * 20
    assert set(run["backfill"]["stages"]) == {"startup", "ingest", "parse", "summaries", "publish"}
    for stage in run["backfill"]["stages"].values():
        assert stage["wall_s"] >= 0
        assert stage["tree_peak_mb"] >= stage["process_peak_mb"] > 0
    assert run["backfill"]["process_peak_mb"] > 0
    # the parse pool's workers are part of the measured tree
    assert any(p["what"] == "pool worker" for p in run["backfill"]["per_process"])
    assert run["baseline"]["seconds"] > 0
    assert run["ratio_backfill_to_baseline"] > 0
    assert run["noop"]["months_parsed"] == 0
    assert run["noop"]["snapshot_id"] == run["backfill"]["snapshot_id"]

    api = report["api"]
    if shutil.which("wrk") is None:
        assert api["status"] == "skipped"
    else:
        assert api["status"] == "ok"
        labels = {r["label"] for r in api["runs"]}
        assert {"raw ASGI floor", "bare FastAPI", "api warm"} <= labels
        assert all(r["rps"] > 0 for r in api["runs"])
        assert api["warm_to_floor_32"] > 0

    targets = {t["what"] for t in report["targets"]}
    assert any("peak RSS of every process" in t for t in targets)
    png = tmp_path / report["plot"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = (tmp_path / "report.txt").read_text()
    assert "bare read" in text
    assert "[targets]" in text

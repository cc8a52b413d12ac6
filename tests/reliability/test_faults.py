"""Fault matrix: every way Chess.com misbehaves, at the archives list and at a month.

A fault that clears within the retry budget ends in exactly a clean run's raw store, lake and
published snapshot. One that does not is reported (exit 1, the player and the month named) and
loses nothing stored before; the next clean refresh ends equal to a clean run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mirror import Fault, MirrorServer
from tests.reliability.conftest import Reference, copy_data
from tests.reliability.state import assert_same_state, cli_env, read_state, run_cli

PLAYER = "fabianocaruana"
PLACES = {
    "archives": f"/player/{PLAYER}/games/archives",
    "month": f"/player/{PLAYER}/games/2020/05",
}
# Each kind of fault, as it clears (times=1, retried) or never clears (times=None).
TRANSIENT: dict[str, list[Fault]] = {
    "429 with Retry-After": [Fault.http(429, retry_after="1")],
    "429 without Retry-After": [Fault.http(429)],
    "5xx burst": [Fault.http(502), Fault.http(503), Fault.http(500)],
    "timeout": [Fault.slow(2.5)],
    "truncated body": [Fault.truncated()],
    "dropped connection": [Fault.dropped()],
}
PERSISTENT: dict[str, list[Fault]] = {
    "429 forever": [Fault.http(429, times=None)],
    "503 forever": [Fault.http(503, times=None)],
    "403 Cloudflare page": [Fault.blocked_html(times=None)],
    "timeouts forever": [Fault.slow(2.5, times=None)],
    "body always truncated": [Fault.truncated(times=None)],
    "connection always dropped": [Fault.dropped(times=None)],
}


def _plan(place: str, faults: list[Fault]) -> dict[str, list[Fault]]:
    # Fresh Fault objects each time: the mirror counts a fault's remaining uses down.
    return {PLACES[place]: [Fault(**vars(fault)) for fault in faults]}


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("kind", TRANSIENT)
def test_a_fault_that_clears_ends_as_a_clean_run(
    mirror: MirrorServer, reference: Reference, tmp_path: Path, place: str, kind: str
) -> None:
    _, clean = reference(PLAYER)
    mirror.set_faults(_plan(place, TRANSIENT[kind]))
    try:
        # A budget that outlasts the burst's backoff (the default is 120 s).
        env = cli_env(mirror.base_url, tmp_path / "data", CHESSCOM_RETRY_BUDGET_SECONDS="30")
        result = run_cli("refresh", PLAYER, env=env)
    finally:
        mirror.set_faults(None)
    assert result.returncode == 0, result.stdout + result.stderr
    assert_same_state(read_state(tmp_path / "data"), clean)


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("kind", PERSISTENT)
def test_a_fault_that_stays_is_reported_and_loses_nothing(
    mirror: MirrorServer, reference: Reference, tmp_path: Path, place: str, kind: str
) -> None:
    clean_dir, clean = reference(PLAYER)
    data_dir = copy_data(clean_dir, tmp_path / "data")
    env = cli_env(mirror.base_url, data_dir)
    mirror.set_faults(_plan(place, PERSISTENT[kind]))
    try:
        result = run_cli("refresh", PLAYER, "--full", env=env)
    finally:
        mirror.set_faults(None)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert PLAYER in output
    if place == "month":
        assert "2020-05" in output or "2020/05" in output, output
    assert "Traceback" not in output
    # Everything stored and published before the failed refresh is still there, unchanged.
    assert_same_state(read_state(data_dir), clean)
    again = run_cli("refresh", PLAYER, env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert_same_state(read_state(data_dir), clean)

"""`sessions` and `tilt` on a hand-made day of play, including a gap of exactly 60 minutes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from adapters.warehouse import compute_summaries_from_frames
from tests.warehouse.frames import empty_moves, game, games_frame
from tests.warehouse.helpers import row, rows

NOON = datetime(2024, 3, 4, 12, 0, tzinfo=UTC)


def _at(index: int, minute: int, result: str, **values: object) -> dict[str, object]:
    start = NOON + timedelta(minutes=minute)
    values.setdefault("end_time", start + timedelta(minutes=5))
    return game(index, start_time=start, result=result, **values)


@pytest.fixture(scope="module")
def out() -> dict[str, pl.DataFrame]:
    games = [
        # session 1: W L L; game 2 starts exactly 60 minutes after game 1 ended -> same session
        _at(0, 0, "win"),
        _at(1, 10, "loss", color="black"),
        _at(2, 75, "loss"),
        # a daily game ending 14:00 would bridge the gap if daily games counted
        _at(9, 90, "win", time_class="daily", end_time=NOON + timedelta(minutes=120)),
        # session 2 starts 61 minutes after game 2 ended: W D
        _at(3, 141, "win"),
        _at(4, 150, "draw", time_class="bullet"),
    ]
    # listed out of order on purpose: sessions follow start times, not row order
    games.reverse()
    return compute_summaries_from_frames(games_frame(games), empty_moves(), "alice")


def test_sessions_boundary_daily_and_streaks(out: dict[str, pl.DataFrame]) -> None:
    sessions = out["sessions"]
    everything = row(sessions, time_class="all", color="all", game_index="all")
    assert (everything["sessions"], everything["games"]) == (2, 5)
    assert everything["mean_games_per_session"] == pytest.approx(2.5)
    assert everything["longest_session_games"] == 3
    # W L L W D
    assert (everything["longest_win_streak"], everything["longest_loss_streak"]) == (1, 2)
    assert (everything["current_streak"], everything["current_streak_result"]) == (1, "draw")
    first = row(sessions, time_class="all", color="all", game_index="1")
    assert (first["sessions"], first["games"], first["score"]) == (2, 2, 1.0)
    third = row(sessions, time_class="all", color="all", game_index="3")
    assert (third["sessions"], third["games"], third["losses"]) == (1, 1, 1)
    assert third["longest_win_streak"] is None  # streaks only on the `all` rows
    # blitz alone: W L L W -> the current streak is one win
    blitz = row(sessions, time_class="blitz", color="all", game_index="all")
    assert (blitz["games"], blitz["sessions"]) == (4, 2)
    assert (blitz["current_streak"], blitz["current_streak_result"]) == (1, "win")
    white = row(sessions, time_class="all", color="white", game_index="all")
    # white games: W (s1) L (s1) W (s2) D (s2) -> sessions 2, no loss streak longer than 1
    assert (white["games"], white["longest_loss_streak"]) == (4, 1)
    assert "daily" not in set(sessions["time_class"])


def test_tilt_after_results_streaks_positions_and_gaps(out: dict[str, pl.DataFrame]) -> None:
    tilt = out["tilt"]
    after_win = row(tilt, time_class="all", color="all", kind="result", after="win")
    # next games after a win in the same session: game 1 (loss) and game 4 (draw)
    assert (after_win["games"], after_win["losses"], after_win["draws"]) == (2, 1, 1)
    assert after_win["score"] == pytest.approx(0.25)
    after_loss = row(tilt, time_class="all", color="all", kind="result", after="loss")
    assert (after_loss["games"], after_loss["score"]) == (1, 0.0)
    # game 2 (after loss) would be across sessions if the 60-minute edge split them
    assert not rows(tilt, time_class="all", color="all", kind="result", after="draw")
    streak = row(tilt, time_class="all", color="all", kind="loss_streak", after="1")
    assert streak["games"] == 1
    positions = {
        r["after"]: (r["games"], r["score"])
        for r in rows(tilt, time_class="all", color="all", kind="session_position")
    }
    assert positions == {"1": (2, 1.0), "2": (2, 0.25), "3": (1, 0.0)}
    gaps = {
        r["after"]: r["games"]
        for r in rows(tilt, time_class="all", color="all", kind="minutes_since_last")
    }
    assert gaps == {"0-5": 1, "5-15": 1, "30-60": 1}
    bullet = row(tilt, time_class="bullet", color="all", kind="result", after="win")
    assert (bullet["games"], bullet["draws"]) == (1, 1)


def test_three_loss_streak() -> None:
    games = [
        _at(i, 6 * i, r)
        for i, r in enumerate(
            ["loss", "loss", "loss", "win", "loss", "loss", "loss", "loss", "draw"]
        )
    ]
    out = compute_summaries_from_frames(games_frame(games), empty_moves(), "alice")
    tilt = out["tilt"]
    streaks = {
        r["after"]: (r["games"], r["score"])
        for r in rows(tilt, time_class="all", color="all", kind="loss_streak")
    }
    # after 1 loss: games 1, 5 (L, L); after 2: games 2, 6 (L, L); after 3+: games 3, 7, 8 (W, L, D)
    assert streaks == {"1": (2, 0.0), "2": (2, 0.0), "3+": (3, 0.5)}
    sessions = row(out["sessions"], time_class="all", color="all", game_index="all")
    assert (sessions["sessions"], sessions["longest_loss_streak"]) == (1, 4)
    assert row(out["sessions"], time_class="all", color="all", game_index="9")["games"] == 1

"""Small hand-made games/moves frames: a test gives the columns it needs, defaults fill the rest."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from transforms.schema import GAMES_SCHEMA, MOVES_SCHEMA

USER = "alice"
T0 = datetime(2024, 3, 4, 12, 0, tzinfo=UTC)  # a Monday
_SCORE = {"win": 1.0, "draw": 0.5, "loss": 0.0}
_TERMINATION = {"win": "resignation", "draw": "agreement", "loss": "resignation"}


def game(index: int, **values: Any) -> dict[str, Any]:
    """One game row of the contract; game i starts at T0 + i hours and lasts 5 minutes."""
    start = values.get("start_time", T0 + timedelta(hours=index))
    result = values.get("result", "win")
    row: dict[str, Any] = {
        "game_id": f"g{index:03d}",
        "username": USER,
        "url": f"https://www.chess.com/game/live/{index}",
        "start_time": start,
        "end_time": (start or T0) + timedelta(minutes=5),
        "rules": "chess",
        "rated": True,
        "time_class": "blitz",
        "time_control": "180",
        "base_seconds": 180,
        "increment_seconds": 0,
        "color": "white",
        "rating": 1500,
        "opponent": "Bob",
        "opponent_rating": 1500,
        "result": result,
        "score": _SCORE[result],
        "termination": _TERMINATION[result],
        "eco": "C50",
        "opening_family": "Italian Game",
        "opening_variation": None,
        "plies": 40,
        "duration_seconds": 300,
    }
    row.update(values)
    if "month" not in row:
        row["month"] = row["end_time"].strftime("%Y-%m")
    return row


def games_frame(rows: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    """A games frame with every contract column and dtype; columns not given are null."""
    return pl.DataFrame([dict(r) for r in rows], schema=GAMES_SCHEMA)


def moves_for(
    game_id: str,
    player_color: str,
    plies: Sequence[Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """Move rows of one game: ply i+1 is plies[i]; white moves on odd plies."""
    rows = []
    for i, values in enumerate(plies):
        ply = i + 1
        mover = "white" if ply % 2 else "black"
        row: dict[str, Any] = {
            "game_id": game_id,
            "username": USER,
            "ply": ply,
            "move_number": (ply + 1) // 2,
            "color": mover,
            "is_player_move": mover == player_color,
            "san": f"m{ply}",
            "piece": "p",
            "is_check": False,
            "is_mate": False,
            "material_balance": 0,
            "phase": "opening",
        }
        row.update(values)
        rows.append(row)
    return rows


def moves_frame(rows: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame([dict(r) for r in rows], schema=MOVES_SCHEMA)


def empty_moves() -> pl.DataFrame:
    return pl.DataFrame(schema=MOVES_SCHEMA)


def evals_frame(white_cps: Mapping[str, Sequence[int | None]]) -> pl.DataFrame:
    """Engine evaluations per game: position i (0 = start) scores white_cps[game][i] for White."""
    from transforms.engine import EVALS_SCHEMA

    rows = [
        {
            "game_id": game_id,
            "username": USER,
            "ply": ply,
            "white_to_move": ply % 2 == 0,
            "cp": cp,
            "mate": None,
            "best_uci": None,
            "nodes": 1,
            "engine": "test",
            "engine_limit": "test",
        }
        for game_id, cps in white_cps.items()
        for ply, cp in enumerate(cps)
    ]
    return pl.DataFrame(rows, schema=EVALS_SCHEMA)


def engine_frames(moves: pl.DataFrame, evals: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(engine_moves, engine_games): the engine facts compute_summaries takes."""
    from transforms.engine import game_facts, move_facts

    return move_facts(moves, evals), game_facts(moves, evals)

"""Small hand-made frames in the frame contract's shape, with their results worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from transforms.schema import GAMES_SCHEMA, POLARS_TYPES

_CODES = {"win": ("win", "resigned"), "draw": ("agreed", "agreed"), "loss": ("resigned", "win")}


def games_frame(username: str, spec: list[tuple[str, str, str]], *, salt: str = "") -> pl.DataFrame:
    """One game per (time_class, color, result) in spec, a day apart from 2024-01-01."""
    rows = []
    for i, (time_class, color, result) in enumerate(spec):
        end = datetime(2024, 1, 1 + i % 28, 12, 0, tzinfo=UTC)
        mine, theirs = _CODES[result]
        rows.append(
            {
                "game_id": f"{username}-{salt}{i:04d}",
                "username": username,
                "month": "2024-01",
                "url": f"https://www.chess.com/game/live/{1000 + i}",
                "end_time": end,
                "start_time": end.replace(hour=11, minute=50),
                "rules": "chess",
                "rated": True,
                "time_class": time_class,
                "time_control": "1/86400" if time_class == "daily" else "180+2",
                "base_seconds": None if time_class == "daily" else 180,
                "increment_seconds": None if time_class == "daily" else 2,
                "days_per_move": 1 if time_class == "daily" else None,
                "color": color,
                "rating": 1500 + i,
                "opponent": f"Opp{i % 3}",
                "opponent_rating": 1490,
                "result": result,
                "score": {"win": 1.0, "draw": 0.5, "loss": 0.0}[result],
                "result_code": mine,
                "opponent_result_code": theirs,
                "termination": "agreement" if result == "draw" else "resignation",
                "eco": "C65",
                "opening_family": "Ruy-Lopez-Opening",
                "opening_variation": None if i % 2 else "Berlin-Defense",
                "eco_url": "https://www.chess.com/openings/Ruy-Lopez-Opening",
                "plies": 40 + i,
                "duration_seconds": 600,
                "accuracy": 80.25 + i if i % 2 else None,
                "opponent_accuracy": None,
                "tournament": None,
                "match": None,
                "initial_fen": None,
                "parse_error": None,
            }
        )
    return pl.DataFrame(rows, schema=GAMES_SCHEMA)


def results_frame(
    username: str, groups: dict[tuple[str, str], tuple[int, int, int]]
) -> pl.DataFrame:
    """The `results` summary from hand-counted (wins, draws, losses) per (time_class, color)."""
    rows = []
    for (time_class, color), (w, d, lo) in groups.items():
        n = w + d + lo
        rows.append(
            {
                "username": username,
                "time_class": time_class,
                "color": color,
                "games": n,
                "wins": w,
                "draws": d,
                "losses": lo,
                "score": (w + d / 2) / n,
            }
        )
    return complete("results", pl.DataFrame(rows))


def complete(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Adds the registry's other columns of a summary as typed nulls (the registry grows)."""
    from transforms.registry import BY_NAME

    summary = BY_NAME[name]
    extra = [
        pl.lit(None, dtype=POLARS_TYPES[c.type]).alias(c.name)
        for c in summary.columns
        if c.name not in frame.columns
    ]
    return frame.with_columns(extra).select([c.name for c in summary.columns])


# Alice: 5 games, counted by hand below.
ALICE_GAMES = [
    ("blitz", "white", "win"),
    ("blitz", "white", "loss"),
    ("blitz", "black", "draw"),
    ("rapid", "white", "win"),
    ("rapid", "black", "win"),
]
ALICE_RESULTS = {
    ("all", "all"): (3, 1, 1),
    ("all", "white"): (2, 0, 1),
    ("all", "black"): (1, 1, 0),
    ("blitz", "all"): (1, 1, 1),
    ("blitz", "white"): (1, 0, 1),
    ("blitz", "black"): (0, 1, 0),
    ("rapid", "all"): (2, 0, 0),
    ("rapid", "white"): (1, 0, 0),
    ("rapid", "black"): (1, 0, 0),
}


def alice() -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    return {"results": results_frame("alice", ALICE_RESULTS)}, games_frame("alice", ALICE_GAMES)

"""Small helpers for reading summary frames in tests, and the formulas worked independently."""

from __future__ import annotations

import math
from typing import Any

import polars as pl


def rows(frame: pl.DataFrame, **keys: object) -> list[dict[str, Any]]:
    """Rows whose columns equal the given values."""
    selected = frame
    for name, value in keys.items():
        selected = selected.filter(pl.col(name) == value)
    return selected.to_dicts()


def row(frame: pl.DataFrame, **keys: object) -> dict[str, Any]:
    """The one row matching the keys."""
    found = rows(frame, **keys)
    assert len(found) == 1, f"{len(found)} rows match {keys}"
    return found[0]


def wilson(k: int, n: int) -> tuple[float, float]:
    """Wilson 95 % interval, written from the textbook formula (not the SQL)."""
    z = 1.96
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def elo(me: float, opp: float) -> float:
    return 1 / (1 + 10 ** ((opp - me) / 400))

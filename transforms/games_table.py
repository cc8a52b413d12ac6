"""The games' columns, declared once: the frame contract and the published games table use them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transforms.registry import ColumnType

# Every column of a games frame, in the frame contract's order, with its published type. The
# DDL is the migrations' (sql/serving/0001_core.*.sql); tests/adapters/test_publish.py checks
# that the table they create has exactly these columns and types.
GAME_COLUMNS: tuple[tuple[str, ColumnType], ...] = (
    ("game_id", "text"),
    ("username", "text"),
    ("month", "text"),
    ("url", "text"),
    ("end_time", "timestamp"),
    ("start_time", "timestamp"),
    ("rules", "text"),
    ("rated", "boolean"),
    ("time_class", "text"),
    ("time_control", "text"),
    ("base_seconds", "integer"),
    ("increment_seconds", "integer"),
    ("days_per_move", "integer"),
    ("color", "text"),
    ("rating", "integer"),
    ("opponent", "text"),
    ("opponent_rating", "integer"),
    ("result", "text"),
    ("score", "real"),
    ("result_code", "text"),
    ("opponent_result_code", "text"),
    ("termination", "text"),
    ("eco", "text"),
    ("opening_family", "text"),
    ("opening_variation", "text"),
    ("eco_url", "text"),
    ("plies", "integer"),
    ("duration_seconds", "integer"),
    ("accuracy", "real"),
    ("opponent_accuracy", "real"),
    ("tournament", "text"),
    ("match", "text"),
    ("initial_fen", "text"),
    ("parse_error", "text"),
)

_KEY = ("username", "game_id")

# The published games table, in table order: its key, the snapshot the row belongs to, then the
# contract's other columns in order.
PUBLISHED_GAME_COLUMNS: tuple[tuple[str, ColumnType], ...] = (
    ("username", "text"),
    ("game_id", "text"),
    ("snapshot_id", "text"),
    *((name, kind) for name, kind in GAME_COLUMNS if name not in _KEY),
)

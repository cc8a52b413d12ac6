"""The frame contract: Polars schemas of the `games` and `moves` frames, and the check on frames."""

from __future__ import annotations

import polars as pl

from transforms.games_table import GAME_COLUMNS
from transforms.registry import ColumnType

# Bump SCHEMA_VERSION when a column is renamed, removed or changes dtype (consumers must adapt);
# bump PARSER_VERSION whenever the parser's output for the same bytes may change, so the lake
# re-parses every month (the lake compares it with the version tagged on each partition).
SCHEMA_VERSION = 1
PARSER_VERSION = "1.2.0"

UTC_US: pl.DataType = pl.Datetime("us", "UTC")

# A published column type as a Polars dtype: what the warehouse's summary frames hold.
POLARS_TYPES: dict[ColumnType, pl.DataType] = {
    "text": pl.Utf8(),
    "integer": pl.Int64(),
    "real": pl.Float64(),
    "boolean": pl.Boolean(),
    "timestamp": UTC_US,
    "date": pl.Date(),
}

# The games frame: transforms/games_table.py's columns; its integers (ratings, seconds, plies)
# fit in 32 bits, so the contract keeps them as Int32.
GAMES_SCHEMA = pl.Schema(
    {name: pl.Int32() if kind == "integer" else POLARS_TYPES[kind] for name, kind in GAME_COLUMNS}
)

MOVES_SCHEMA = pl.Schema(
    {
        "game_id": pl.Utf8(),
        "username": pl.Utf8(),
        "ply": pl.Int32(),
        "move_number": pl.Int32(),
        "color": pl.Utf8(),
        "is_player_move": pl.Boolean(),
        "san": pl.Utf8(),
        "uci": pl.Utf8(),
        "piece": pl.Utf8(),
        "captured": pl.Utf8(),
        "is_check": pl.Boolean(),
        "is_mate": pl.Boolean(),
        "castling": pl.Utf8(),
        "promotion": pl.Utf8(),
        "clock_seconds": pl.Float64(),
        "time_spent_seconds": pl.Float64(),
        "clock_share": pl.Float64(),
        "material_balance": pl.Int32(),
        "phase": pl.Utf8(),
    }
)


class SchemaMismatchError(ValueError):
    """A frame lacks a contract column or carries it with the wrong dtype."""


def conform(frame: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
    """Check `frame` against `schema` and return it with the contract columns first, in order.

    Extra columns are allowed (the contract may be extended) and kept after the contract ones;
    a missing column or a different dtype is a bug in the producer, so it raises.
    """
    problems: list[str] = []
    for name, dtype in schema.items():
        if name not in frame.schema:
            problems.append(f"missing column {name!r} ({dtype})")
        elif frame.schema[name] != dtype:
            problems.append(f"column {name!r} is {frame.schema[name]}, expected {dtype}")
    if problems:
        raise SchemaMismatchError("frame does not match the contract: " + "; ".join(problems))
    extras = [name for name in frame.columns if name not in schema]
    return frame.select([*schema.names(), *extras])


def empty_frame(schema: pl.Schema) -> pl.DataFrame:
    """A zero-row frame with exactly the contract's columns and dtypes."""
    return pl.DataFrame(schema=schema)

"""The frame contract: Polars schemas of the `games` and `moves` frames, and the check on frames."""

from __future__ import annotations

import polars as pl

# Bump SCHEMA_VERSION when a column is renamed, removed or changes dtype (consumers must adapt);
# bump PARSER_VERSION whenever the parser's output for the same bytes may change, so the lake
# re-parses every month (the lake compares it with the version tagged on each partition).
SCHEMA_VERSION = 1
PARSER_VERSION = "1.3.0"

UTC_US: pl.DataType = pl.Datetime("us", "UTC")

GAMES_SCHEMA = pl.Schema(
    {
        "game_id": pl.Utf8(),
        "username": pl.Utf8(),
        "month": pl.Utf8(),
        "url": pl.Utf8(),
        "end_time": UTC_US,
        "start_time": UTC_US,
        "rules": pl.Utf8(),
        "rated": pl.Boolean(),
        "time_class": pl.Utf8(),
        "time_control": pl.Utf8(),
        "base_seconds": pl.Int32(),
        "increment_seconds": pl.Int32(),
        "days_per_move": pl.Int32(),
        "color": pl.Utf8(),
        "rating": pl.Int32(),
        "opponent": pl.Utf8(),
        "opponent_rating": pl.Int32(),
        "result": pl.Utf8(),
        "score": pl.Float64(),
        "result_code": pl.Utf8(),
        "opponent_result_code": pl.Utf8(),
        "termination": pl.Utf8(),
        "eco": pl.Utf8(),
        "opening_family": pl.Utf8(),
        "opening_variation": pl.Utf8(),
        "eco_url": pl.Utf8(),
        "plies": pl.Int32(),
        "duration_seconds": pl.Int32(),
        "accuracy": pl.Float64(),
        "opponent_accuracy": pl.Float64(),
        "tournament": pl.Utf8(),
        "match": pl.Utf8(),
        "initial_fen": pl.Utf8(),
        "parse_error": pl.Utf8(),
        # The PGN Termination header as written (any language), and, when the final position
        # overruled it (or Chess.com's codes), the category they had named.
        "termination_text": pl.Utf8(),
        "termination_conflict": pl.Utf8(),
    }
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

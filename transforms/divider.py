"""Game phases by Lichess' Divider (scalachess `Divider`), computed for many games at once."""

from __future__ import annotations

import polars as pl

_RANK_1 = 0xFF
_RANK_8 = 0xFF << 56


def _score(white: int, black: int, y: int) -> int:
    """Mixedness score of one 2x2 region whose lower rank is `y` (1-based).

    The table is Lichess' own, entry for entry: lichess-org/scalachess,
    core/src/main/scala/Divider.scala, `Divider.score` (read at commit 12ba8fd7). Phases must match
    Lichess', so do not "tidy" its asymmetries (e.g. (4, 0) and (0, 4) both start at 3).
    """
    table = {
        (0, 0): 0,
        (1, 0): 1 + (8 - y),
        (2, 0): 2 + (y - 2) if y > 2 else 0,
        (3, 0): 3 + (y - 1) if y > 1 else 0,
        (4, 0): 3 + (y - 1) if y > 1 else 0,  # a group of 4 on the home row scores 0
        (0, 1): 1 + y,
        (1, 1): 5 + abs(3 - y),
        (2, 1): 4 + y,
        (3, 1): 5 + y,
        (0, 2): 2 + (6 - y) if y < 6 else 0,
        (1, 2): 4 + (6 - y),
        (2, 2): 7,
        (0, 3): 3 + (7 - y) if y < 7 else 0,
        (1, 3): 5 + (6 - y),
        (0, 4): 3 + (7 - y) if y < 7 else 0,
    }
    return table.get((white, black), 0)


# Lookup by y * 25 + white * 5 + black for y in 1..7.
_SCORES = pl.Series("score", [_score(k % 25 // 5, k % 5, k // 25) for k in range(8 * 25)], pl.Int32)
_REGIONS = [
    (y + 1, (0b11 << (8 * y + x)) | (0b11 << (8 * (y + 1) + x))) for y in range(7) for x in range(7)
]


def mixedness_expr(white: str, black: str) -> pl.Expr:
    """Sum of region scores over the 49 overlapping 2x2 regions (ranks 1-7 x files a-g)."""
    w = pl.col(white)
    b = pl.col(black)
    terms = []
    for y, mask in _REGIONS:
        m = pl.lit(mask, pl.UInt64)
        key = (
            (w & m).bitwise_count_ones().cast(pl.Int32) * 5
            + (b & m).bitwise_count_ones().cast(pl.Int32)
            + y * 25
        )
        terms.append(pl.lit(_SCORES).gather(key))
    return pl.sum_horizontal(terms)


def mixedness(white_bb: int, black_bb: int) -> int:
    """Scalar mixedness of one position (used by tests and for single boards)."""
    total = 0
    for y, mask in _REGIONS:
        total += _score((white_bb & mask).bit_count(), (black_bb & mask).bit_count(), y)
    return total


def phase_boundaries(positions: pl.DataFrame) -> pl.DataFrame:
    """Per game, the position index where the middlegame and the endgame start (null = never).

    `positions` has one row per position: `game_key`, `index` (0 = start, n = after ply n),
    and UInt64 bitboards `white_bb`, `black_bb`, `pieces_bb` (non-king non-pawn pieces).
    Middlegame: majors+minors <= 10, or a back rank with fewer than 4 own pieces, or
    mixedness > 150; endgame: majors+minors <= 6; a middlegame not before the endgame is dropped.
    """
    minors_majors = pl.col("pieces_bb").bitwise_count_ones()
    backrank_sparse = (
        (pl.col("white_bb") & pl.lit(_RANK_1, pl.UInt64)).bitwise_count_ones() < 4
    ) | ((pl.col("black_bb") & pl.lit(_RANK_8, pl.UInt64)).bitwise_count_ones() < 4)
    flagged = positions.with_columns(
        mid=(minors_majors <= 10)
        | backrank_sparse
        | (mixedness_expr("white_bb", "black_bb") > 150),
        end=minors_majors <= 6,
    )
    bounds = flagged.group_by("game_key").agg(
        middle=pl.col("index").filter(pl.col("mid")).min(),
        end=pl.col("index").filter(pl.col("end")).min(),
    )
    return bounds.with_columns(
        end=pl.when(pl.col("middle").is_not_null()).then(pl.col("end")),
    ).with_columns(
        middle=pl.when(pl.col("end").is_null() | (pl.col("middle") < pl.col("end"))).then(
            pl.col("middle")
        ),
    )


def phase_expr(ply: str = "ply", middle: str = "middle", end: str = "end") -> pl.Expr:
    """Phase of the move at `ply`: the phase of the position it produces."""
    return (
        pl.when(pl.col(end).is_not_null() & (pl.col(ply) >= pl.col(end)))
        .then(pl.lit("endgame"))
        .when(pl.col(middle).is_not_null() & (pl.col(ply) >= pl.col(middle)))
        .then(pl.lit("middlegame"))
        .otherwise(pl.lit("opening"))
    )

"""Engine evaluations to move and game facts: Lichess' win %, move and game accuracy, judgements."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Literal

import polars as pl

# Lichess' constants (lila, modules/analyse WinPercent and AccuracyPercent), as in patterns.md.
WIN_SLOPE = 0.00368208
CP_CEILING = 1000
ACCURACY_SCALE = 103.1668
ACCURACY_DECAY = 0.04354
ACCURACY_OFFSET = -3.1669
ACCURACY_BONUS = 1.0  # Lichess' "uncertainty bonus", added after the curve
INACCURACY, MISTAKE, BLUNDER = 5.0, 10.0, 15.0  # win-% points lost
WINNING_CP = 200  # "winning": +2 for the side to move, the throws and missed wins threshold

Judgement = Literal["inaccuracy", "mistake", "blunder"]

# The lake's `evals` table: one row per position (ply 0 = the starting position, ply k = after
# the k-th ply), scores from White's point of view, tagged with the engine and its limit.
EVALS_SCHEMA = pl.Schema(
    {
        "game_id": pl.Utf8(),
        "username": pl.Utf8(),
        "ply": pl.Int32(),
        "white_to_move": pl.Boolean(),
        # centipawns for White; null when the engine reports a mate
        "cp": pl.Int32(),
        # moves to mate, > 0 White mates, < 0 Black mates; 0 = the side to move is checkmated
        "mate": pl.Int32(),
        "best_uci": pl.Utf8(),
        "nodes": pl.Int64(),
        "engine": pl.Utf8(),
        "engine_limit": pl.Utf8(),
    }
)


def mate_cp(mate: int, white_to_move: bool) -> int:
    """A mate as centipawns for White: mate in N is ±100·(21 - min(10, N)); mated now is ±2100."""
    if mate == 0:
        return -2100 if white_to_move else 2100
    return (1 if mate > 0 else -1) * 100 * (21 - min(10, abs(mate)))


def white_cp(cp: int | None, mate: int | None, white_to_move: bool) -> int:
    """The evaluation for White in centipawns, clamped to ±1000 (mates included)."""
    value = mate_cp(mate, white_to_move) if mate is not None else (cp or 0)
    return max(-CP_CEILING, min(CP_CEILING, value))


def win_percent(cp: float) -> float:
    """Lichess' Win%: 50 + 50·(2 / (1 + e^(-0.00368208·cp)) - 1), cp clamped to ±1000."""
    cp = max(-CP_CEILING, min(CP_CEILING, cp))
    return 50 + 50 * (2 / (1 + math.exp(-WIN_SLOPE * cp)) - 1)


def move_accuracy(win_before: float, win_after: float) -> float:
    """Accuracy of one move from the mover's Win% before and after it (0-100)."""
    if win_after >= win_before:
        return 100.0
    raw = ACCURACY_SCALE * math.exp(-ACCURACY_DECAY * (win_before - win_after)) + ACCURACY_OFFSET
    return max(0.0, min(100.0, raw + ACCURACY_BONUS))


def judgement(win_before: float, win_after: float) -> Judgement | None:
    """Inaccuracy, mistake or blunder by the mover's Win% points lost (5 / 10 / 15), else None."""
    drop = win_before - win_after
    if drop >= BLUNDER:
        return "blunder"
    if drop >= MISTAKE:
        return "mistake"
    if drop >= INACCURACY:
        return "inaccuracy"
    return None


def centipawn_loss(cp_before: int, cp_after: int) -> int:
    """The mover's loss in centipawns (both evaluations for the mover, clamped), in [0, 1000]."""
    before = max(-CP_CEILING, min(CP_CEILING, cp_before))
    after = max(-CP_CEILING, min(CP_CEILING, cp_after))
    return max(0, min(CP_CEILING, before - after))


def window_size(plies: int) -> int:
    """Lichess' accuracy window: clamp(⌊plies / 10⌋, 2, 8)."""
    return max(2, min(8, plies // 10))


def volatility_weights(white_wins: Sequence[float]) -> list[float]:
    """One weight per move: the (population) standard deviation of its window, in [0.5, 12].

    The windows are w - 2 copies of the first w values, then every sliding window of w values,
    so there are exactly as many as moves. Lichess (lila `Maths.standardDeviation`) divides by
    n, not n - 1.
    """
    moves = len(white_wins) - 1
    w = min(window_size(moves), len(white_wins))
    windows = [white_wins[:w]] * (w - 2)
    windows += [white_wins[i : i + w] for i in range(len(white_wins) - w + 1)]
    return [max(0.5, min(12.0, statistics.pstdev(window))) for window in windows]


def game_accuracy(
    white_wins: Sequence[float], white_moves_first: bool = True
) -> tuple[float | None, float | None]:
    """(White's, Black's) game accuracy by Lichess' method from White's Win% sequence.

    `white_wins[0]` is the starting position's; move i goes from value i to i + 1. A side's
    accuracy is the mean of the volatility-weighted mean of its move accuracies and their
    harmonic mean (each accuracy floored at 1 in the harmonic mean, as lila does, so one 0 does
    not make it 0). None for a side without moves.
    """
    if len(white_wins) < 2:
        return None, None
    weights = volatility_weights(white_wins)
    sides: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    for i in range(len(white_wins) - 1):
        is_white = (i % 2 == 0) == white_moves_first
        before, after = white_wins[i], white_wins[i + 1]
        if not is_white:
            before, after = 100 - before, 100 - after
        sides[is_white].append((move_accuracy(before, after), weights[i]))
    result: list[float | None] = []
    for is_white in (True, False):
        pairs = sides[is_white]
        if not pairs:
            result.append(None)
            continue
        weighted = sum(a * w for a, w in pairs) / sum(w for _, w in pairs)
        harmonic = len(pairs) / sum(1 / max(1.0, a) for a, _ in pairs)
        result.append((weighted + harmonic) / 2)
    return result[0], result[1]


# ---------------------------------------------------------------------------------------------
# frames


def _white_cp_expr() -> pl.Expr:
    mate = pl.col("mate")
    mate_value = (
        pl.when(mate == 0)
        .then(pl.when(pl.col("white_to_move")).then(-2100).otherwise(2100))
        .otherwise(mate.sign() * 100 * (21 - mate.abs().clip(upper_bound=10)))
    )
    value = pl.when(mate.is_not_null()).then(mate_value).otherwise(pl.col("cp").fill_null(0))
    return value.clip(-CP_CEILING, CP_CEILING).cast(pl.Int32)


def _win_expr(cp: pl.Expr) -> pl.Expr:
    return 50 + 50 * (2 / (1 + (-WIN_SLOPE * cp.cast(pl.Float64)).exp()) - 1)


def move_facts(moves: pl.DataFrame, evals: pl.DataFrame) -> pl.DataFrame:
    """One row per analysed ply: the mover's cp and Win% before and after, accuracy, judgement.

    `moves` is the lake's moves frame (game_id, ply, color, is_player_move, phase,
    clock_share); `evals` one engine's evaluations (EVALS_SCHEMA). A ply is analysed when both
    the position before it and the one after it are evaluated.
    """
    scored = evals.select("game_id", "ply", _white_cp_expr().alias("white_cp")).with_columns(
        _win_expr(pl.col("white_cp")).alias("white_win")
    )
    before = scored.select(
        "game_id",
        (pl.col("ply") + 1).alias("ply"),
        pl.col("white_cp").alias("white_cp_before"),
        pl.col("white_win").alias("white_win_before"),
    )
    after = scored.select(
        "game_id",
        "ply",
        pl.col("white_cp").alias("white_cp_after"),
        pl.col("white_win").alias("white_win_after"),
    )
    white = pl.col("color") == "white"

    def mover(col: str, scale: float) -> pl.Expr:
        return pl.when(white).then(pl.col(col)).otherwise(scale - pl.col(col))

    facts = (
        moves.select("game_id", "ply", "color", "is_player_move", "phase", "clock_share")
        .join(before, on=["game_id", "ply"], how="inner")
        .join(after, on=["game_id", "ply"], how="inner")
        .with_columns(
            pl.when(white)
            .then(pl.col("white_cp_before"))
            .otherwise(-pl.col("white_cp_before"))
            .alias("cp_before"),
            pl.when(white)
            .then(pl.col("white_cp_after"))
            .otherwise(-pl.col("white_cp_after"))
            .alias("cp_after"),
            mover("white_win_before", 100.0).alias("win_before"),
            mover("white_win_after", 100.0).alias("win_after"),
        )
        .with_columns((pl.col("win_before") - pl.col("win_after")).alias("win_drop"))
    )
    drop = pl.col("win_drop")
    accuracy = (
        pl.when(drop <= 0)
        .then(100.0)
        .otherwise(
            (
                ACCURACY_SCALE * (-ACCURACY_DECAY * drop).exp() + ACCURACY_OFFSET + ACCURACY_BONUS
            ).clip(0.0, 100.0)
        )
    )
    judged = (
        pl.when(drop >= BLUNDER)
        .then(pl.lit("blunder"))
        .when(drop >= MISTAKE)
        .then(pl.lit("mistake"))
        .when(drop >= INACCURACY)
        .then(pl.lit("inaccuracy"))
    )
    winning = pl.col("cp_before") >= WINNING_CP
    return (
        facts.with_columns(
            accuracy.alias("accuracy"),
            (pl.col("cp_before") - pl.col("cp_after"))
            .clip(0, CP_CEILING)
            .cast(pl.Int32)
            .alias("cp_loss"),
            judged.alias("judgement"),
        )
        .with_columns(
            (winning & (drop >= BLUNDER)).alias("is_throw"),
            (winning & (pl.col("cp_after") < WINNING_CP)).alias("is_missed_win"),
        )
        .select(
            "game_id",
            "ply",
            "color",
            "is_player_move",
            "phase",
            "clock_share",
            "cp_before",
            "cp_after",
            "win_before",
            "win_after",
            "accuracy",
            "cp_loss",
            "judgement",
            "is_throw",
            "is_missed_win",
        )
        .sort("game_id", "ply")
    )


GAME_FACTS_SCHEMA = pl.Schema(
    {
        "game_id": pl.Utf8(),
        "color": pl.Utf8(),
        "engine_accuracy": pl.Float64(),
        "acpl": pl.Float64(),
        "analysed_moves": pl.Int32(),
    }
)


def game_facts(moves: pl.DataFrame, evals: pl.DataFrame) -> pl.DataFrame:
    """Per game and colour: Lichess game accuracy, ACPL and the number of analysed moves.

    Only games whose every position (ply 0 to the last) is evaluated: a game's accuracy needs
    its whole Win% sequence.
    """
    facts = move_facts(moves, evals)
    if facts.is_empty():
        return pl.DataFrame(schema=GAME_FACTS_SCHEMA)
    plies = moves.group_by("game_id").agg(
        pl.col("ply").max().alias("last_ply"),
        pl.col("color").sort_by("ply").first().alias("first_color"),
    )
    scored = (
        evals.select("game_id", "ply", _white_cp_expr().alias("white_cp"))
        .with_columns(_win_expr(pl.col("white_cp")).alias("white_win"))
        .sort("game_id", "ply")
        .group_by("game_id", maintain_order=True)
        .agg(pl.col("ply"), pl.col("white_win"))
        .join(plies, on="game_id", how="inner")
    )
    rows: list[tuple[str, str, float | None]] = []
    for game_id, ply_list, wins, last_ply, first_color in scored.iter_rows():
        if list(ply_list) != list(range(last_ply + 1)):
            continue
        white_acc, black_acc = game_accuracy(wins, first_color == "white")
        rows.append((game_id, "white", white_acc))
        rows.append((game_id, "black", black_acc))
    accuracies = pl.DataFrame(
        rows,
        schema={"game_id": pl.Utf8(), "color": pl.Utf8(), "engine_accuracy": pl.Float64()},
        orient="row",
    )
    losses = facts.group_by("game_id", "color").agg(
        pl.col("cp_loss").cast(pl.Float64).mean().alias("acpl"),
        pl.len().cast(pl.Int32).alias("analysed_moves"),
    )
    return (
        accuracies.join(losses, on=["game_id", "color"], how="inner")
        .select(GAME_FACTS_SCHEMA.names())
        .cast(GAME_FACTS_SCHEMA)
        .sort("game_id", "color")
    )

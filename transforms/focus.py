"""What to work on: the slices that cost the most points against the ratings, in plain words."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

# Plain rules of the list (the API publishes them beside it, the report prints them).
FOCUS_VERSION = 1
FOCUS_SLICES = 3
FOCUS_DEFINITION = (
    "The slices are the time class x colour cells of `results` (no `all` roll-up), so they never "
    "overlap. Each cell's cost is residual x games_with_ratings: the points scored below what the "
    "ratings predict (residual is the mean of score - expectation over those games). The three "
    "cells with the most negative cost are listed, most points lost first; a cell that scores at "
    "or above the ratings is never listed. The interval is the score's 95 % interval moved by the "
    "expectation (residual + score_low - score, residual + score_high - score), treating the "
    "expectation as known. Within a cell, the opening named is the family of `openings` (same "
    "time class and colour) with the most negative residual x games, and the way of losing is the "
    "termination of `terminations` (same cell, all openings) with the most lost games."
)

TERMINATION_WORDS = {
    "checkmate": "by checkmate",
    "resignation": "by resignation",
    "timeout": "on time",
    "abandonment": "by abandoning",
    "agreement": "by agreement",
    "repetition": "by repetition",
    "stalemate": "by stalemate",
    "insufficient": "by insufficient material",
    "timevsinsufficient": "on time against insufficient material",
    "50move": "by the 50-move rule",
    "other": "in other ways",
}

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Focus:
    """One slice to work on, its numbers and the sentence that says it."""

    time_class: str
    color: str
    games: int
    games_with_ratings: int
    score: float
    expected_score: float
    residual: float
    residual_low: float | None
    residual_high: float | None
    points: float  # residual x games_with_ratings: negative, points below the ratings
    low_sample: bool
    opening_family: str | None
    opening_points: float | None
    opening_games: int | None
    loss_termination: str | None
    loss_termination_games: int | None
    losses: int
    text: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def as_number(value: object) -> float | None:
    """A published cell as a float: None for missing, booleans and text that is no number."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def _flag(value: object) -> bool:
    # SQLite hands booleans back as 0/1
    return value is True or value in (1, "true", "t")


def _specific(row: Row) -> bool:
    return row.get("time_class") not in (None, "all") and row.get("color") not in (None, "all")


def _cost(row: Row, games_column: str) -> float | None:
    residual, games = as_number(row.get("residual")), as_number(row.get(games_column))
    if residual is None or games is None:
        return None
    return residual * games


def _worst_opening(openings: Iterable[Row], time_class: str, color: str) -> Row | None:
    worst: tuple[float, str, Row] | None = None
    for row in openings:
        if (row.get("time_class"), row.get("color")) != (time_class, color):
            continue
        if row.get("eco") != "all" or row.get("opening_variation") != "all":
            continue
        family = str(row.get("opening_family"))
        if family in ("all", "unknown"):
            continue
        cost = _cost(row, "games")
        if cost is None or cost >= 0:
            continue
        key = (cost, family, row)
        if worst is None or key[:2] < worst[:2]:
            worst = key
    return worst[2] if worst else None


def _main_loss(terminations: Iterable[Row], time_class: str, color: str) -> Row | None:
    best: tuple[int, str, Row] | None = None
    for row in terminations:
        if (row.get("time_class"), row.get("color"), row.get("opening_family")) != (
            time_class,
            color,
            "all",
        ):
            continue
        if row.get("result") != "loss":
            continue
        games = int(as_number(row.get("games")) or 0)
        if games <= 0:
            continue
        name = str(row.get("termination"))
        # most games first, then the name, so a tie always picks the same one
        if best is None or (-games, name) < (-best[0], best[1]):
            best = (games, name, row)
    return best[2] if best else None


def _signed(value: float) -> str:
    return f"{value:+.2f}".replace("-", "\u2212")


def _points(value: float) -> str:
    size = abs(value)
    return f"{size:.1f} points" if size < 10 else f"{size:,.0f} points"


def _sentence(f: Focus) -> str:
    where = f"As {f.color.capitalize()} in {f.time_class}"
    below = abs(f.residual)
    digits = 2 if below >= 0.005 else 3  # 0.002 below must not read "0.00 below"
    text = (
        f"{where} you score {below:.{digits}f} below what the ratings predict over "
        f"{f.games_with_ratings:,} games"
    )
    if f.residual_low is not None and f.residual_high is not None:
        text += f" [{_signed(f.residual_low)}, {_signed(f.residual_high)}]"
    text += f", about {_points(f.points)} lost"
    reasons = []
    if f.opening_family and f.opening_points is not None:
        reasons.append(
            f"mostly the {f.opening_family} ({_points(f.opening_points)} over "
            f"{f.opening_games:,} games)"
        )
    if f.loss_termination and f.loss_termination_games and f.losses:
        share = f.loss_termination_games / f.losses
        words = TERMINATION_WORDS.get(f.loss_termination, f.loss_termination)
        reasons.append(f"{share:.0%} of the {f.losses:,} losses {words}")
    if reasons:
        text += ": " + "; ".join(reasons)
    if f.low_sample:
        text += " (fewer than 10 games: read with care)"
    return text + "."


def what_to_work_on(
    results: Iterable[Row],
    openings: Iterable[Row] = (),
    terminations: Iterable[Row] = (),
    *,
    count: int = FOCUS_SLICES,
) -> list[Focus]:
    """The `count` time class x colour cells with the most negative residual x games, worst
    first, each with its worst opening family and its most common way of losing."""
    openings, terminations = list(openings), list(terminations)
    candidates: list[tuple[float, str, str, Row]] = []
    for row in results:
        if not _specific(row):
            continue
        cost = _cost(row, "games_with_ratings")
        if cost is None or cost >= 0:
            continue
        candidates.append((cost, str(row["time_class"]), str(row["color"]), row))
    candidates.sort(key=lambda c: c[:3])
    picked: list[Focus] = []
    for cost, time_class, color, row in candidates[:count]:
        residual = float(row["residual"])
        score = as_number(row.get("score"))
        low, high = as_number(row.get("score_low")), as_number(row.get("score_high"))
        opening = _worst_opening(openings, time_class, color)
        loss = _main_loss(terminations, time_class, color)
        focus = Focus(
            time_class=time_class,
            color=color,
            games=int(as_number(row.get("games")) or 0),
            games_with_ratings=int(as_number(row.get("games_with_ratings")) or 0),
            score=score if score is not None else 0.0,
            expected_score=as_number(row.get("expected_score")) or 0.0,
            residual=residual,
            residual_low=_shift(residual, low, score),
            residual_high=_shift(residual, high, score),
            points=cost,
            low_sample=_flag(row.get("low_sample")),
            opening_family=str(opening["opening_family"]) if opening else None,
            opening_points=_cost(opening, "games") if opening else None,
            opening_games=int(as_number(opening.get("games")) or 0) if opening else None,
            loss_termination=str(loss["termination"]) if loss else None,
            loss_termination_games=int(as_number(loss.get("games")) or 0) if loss else None,
            losses=int(as_number(row.get("losses")) or 0),
            text="",
        )
        picked.append(replace(focus, text=_sentence(focus)))
    return picked


def _shift(residual: float, end: float | None, score: float | None) -> float | None:
    """An end of the score's interval moved onto the residual (expectation held fixed)."""
    if end is None or score is None:
        return None
    return residual + end - score

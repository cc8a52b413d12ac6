"""The registry of summaries: name, version, definition, dimension and metric columns of each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ColumnType = Literal["text", "integer", "real", "boolean", "timestamp", "date"]


@dataclass(frozen=True)
class Column:
    """One published column of a summary table."""

    name: str
    type: ColumnType
    description: str


@dataclass(frozen=True)
class Summary:
    """A summary: computed by sql/warehouse/<name>.sql, published as table summary_<name>."""

    name: str
    version: int
    title: str
    definition: str
    dimensions: tuple[Column, ...]
    metrics: tuple[Column, ...]

    @property
    def table(self) -> str:
        return f"summary_{self.name}"

    @property
    def columns(self) -> tuple[Column, ...]:
        return (
            Column("username", "text", "The player, lowercase."),
            *self.dimensions,
            *self.metrics,
        )


TIME_CLASS = Column("time_class", "text", "bullet, blitz, rapid, daily, or all.")
COLOR = Column("color", "text", "white, black, or all.")

# Shared wording, so every definition says the same thing the same way.
_ROLLUP = (
    "Rolled up over time class and colour with GROUPING SETS; `all` labels a rolled-up dimension."
)
_RESULTS_RULES = (
    "score = (wins + draws / 2) / games, with a 95 % interval mean ± 1.96·sd/√games clipped to "
    "[0, 1] (a single game gives [0, 1]); low_sample when games < 10. expected_score is the mean "
    "Elo expectation 1 / (1 + 10^((opponent_rating - rating) / 400)) over the games where both "
    "pre-game ratings are known, residual the mean of score - expectation over those same games "
    "(positive: better than the ratings predict). Unrated games count in the results because "
    "players expect them there; Chess.com reports ratings for them too, so they also enter the "
    "expectation; a game without a rating is left out of expected_score and residual only."
)
_MOVE_BASED = (
    "Move-based: games with a parse_error or without moves are excluded because there is "
    "nothing to read from them."
)


def _results_block(noun: str = "Games in the group") -> tuple[Column, ...]:
    """The result columns every summary that shows results carries, in this order."""
    return (
        Column("games", "integer", f"{noun}."),
        Column("wins", "integer", "Games won."),
        Column("draws", "integer", "Games drawn."),
        Column("losses", "integer", "Games lost."),
        Column("score", "real", "(wins + draws / 2) / games."),
        Column("score_low", "real", "Lower end of the 95 % interval of score."),
        Column("score_high", "real", "Upper end of the 95 % interval of score."),
        Column("expected_score", "real", "Mean Elo expected score (games with both ratings)."),
        Column("residual", "real", "Mean of score - expected score: > 0 beats the ratings."),
        Column("low_sample", "boolean", "True when games < 10: read the numbers with care."),
    )


RESULTS = Summary(
    name="results",
    version=1,
    title="Results by time class and colour",
    definition=(
        f"Every game of the player (rated and unrated, every variant). {_ROLLUP} {_RESULTS_RULES} "
        "Performance ratings use the games whose opponent rating is known: performance_fide = mean "
        "opponent rating + dp(p) from the FIDE table (p rounded to 2 decimals, ±800 at 100 %/0 %); "
        "performance_linear (Lichess' method) = mean of opponent rating + 500 for a win, + 0 for "
        "a draw, - 500 for a loss."
    ),
    dimensions=(TIME_CLASS, COLOR),
    metrics=(
        *_results_block(),
        Column("games_with_ratings", "integer", "Games where both pre-game ratings are known."),
        Column("mean_opponent_rating", "real", "Mean pre-game rating of the opponents."),
        Column("performance_fide", "real", "FIDE performance rating: mean opponent + dp(p)."),
        Column(
            "performance_linear", "real", "Lichess linear performance: opponent ± 500 averaged."
        ),
    ),
)

SUMMARIES: tuple[Summary, ...] = (RESULTS,)
BY_NAME: dict[str, Summary] = {s.name: s for s in SUMMARIES}

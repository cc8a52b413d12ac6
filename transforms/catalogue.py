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
        return (Column("username", "text", "The player, lowercase."), *self.dimensions, *self.metrics)


TIME_CLASS = Column("time_class", "text", "bullet, blitz, rapid, daily, or all.")
COLOR = Column("color", "text", "white, black, or all.")

RESULTS = Summary(
    name="results",
    version=1,
    title="Results by time class and colour",
    definition=(
        "Every game of the player, grouped by time class and colour with `all` roll-ups "
        "(GROUPING SETS). score = (wins + draws / 2) / games."
    ),
    dimensions=(TIME_CLASS, COLOR),
    metrics=(
        Column("games", "integer", "Games in the group."),
        Column("wins", "integer", "Games won."),
        Column("draws", "integer", "Games drawn."),
        Column("losses", "integer", "Games lost."),
        Column("score", "real", "(wins + draws / 2) / games."),
    ),
)

SUMMARIES: tuple[Summary, ...] = (RESULTS,)
BY_NAME: dict[str, Summary] = {s.name: s for s in SUMMARIES}

"""The terminal report of `chess-patterns report`: each published summary as a rich table."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime

from rich.console import Console
from rich.table import Table
from rich.text import Text

from transforms.focus import as_number, what_to_work_on
from transforms.registry import SUMMARIES, Summary

MAX_ROWS = 25

# Which column is the sample size of each rate: shown beside the rate as n=...
RATE_N: dict[str, str] = {
    "score": "games",
    "share": "group_games",
    "instant_share": "timed_games",
    "share_clock_le_3": "clock_games",
    "share_clock_3_10": "clock_games",
    "share_clock_10_25": "clock_games",
    "share_clock_25_50": "clock_games",
    "share_clock_ge_50": "clock_games",
    "coverage": "games",
    "rate": "rate_n",
    "opposite_side_share": "games",
    "mean_accuracy": "reviewed_games",
}
DATES = {"first_game", "last_game", "day", "end_time"}
# Links are too wide for a terminal table; the API and the database keep them.
WIDE = {"example_urls", "url"}
# Long tables are shown by what matters most first; the rest by their dimensions, `all` first.
SORT_BY_GAMES = {"openings", "opening_tree"}
SORT_COLUMNS = {
    "opponent_strength": ("time_class", "color", "scheme", "bucket_order"),
    "opponents": ("time_class", "color", "kind", "rank"),
}
_LEADING_NUMBER = re.compile(r"^-?\d+")


def _plain(value: object, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _rate_cell(row: Mapping[str, object], name: str) -> str:
    """`0.62 [0.55, 0.69] n=34`: the rate, its 95 % interval and its sample size."""
    value = as_number(row.get(name))
    if value is None:
        return "-"
    digits = 1 if name == "mean_accuracy" else 2
    text = f"{value:.{digits}f}"
    low, high = as_number(row.get(f"{name}_low")), as_number(row.get(f"{name}_high"))
    if low is not None and high is not None:
        text += f" [{low:.{digits}f}, {high:.{digits}f}]"
    n_column = RATE_N.get(name)
    if n_column is not None and row.get(n_column) is not None:
        text += f" n={row[n_column]}"
    return text


def _cell(row: Mapping[str, object], name: str) -> str:
    if name in RATE_N:
        return _rate_cell(row, name)
    value = row.get(name)
    if name == "residual":
        number = as_number(value)
        return "-" if number is None else f"{number:+.3f}"
    if name.startswith(("performance_", "mean_opponent_rating", "mean_rating")):
        return _plain(value, 0)
    return _plain(value, 2 if name.startswith(("mean_", "median_", "hours_")) else 3)


def _shown_columns(summary: Summary, rows: Sequence[Mapping[str, object]]) -> list[str]:
    """Every column except username and the _low/_high that fold into their rate's cell."""
    folded = {f"{rate}_{end}" for rate in RATE_N for end in ("low", "high")} | WIDE
    names = [c.name for c in summary.columns if c.name not in folded and c.name != "username"]
    # a column empty in every shown row says nothing; the low_sample flag becomes a row marker
    return [n for n in names if n != "low_sample" and any(r.get(n) is not None for r in rows)]


def _natural(value: object) -> tuple[int, float, str]:
    """`all` first, then numbers (also "10+", "-100..-50") by value, then text."""
    if value == "all":
        return (0, 0.0, "")
    number = as_number(value)
    if number is None and isinstance(value, str):
        match = _LEADING_NUMBER.match(value)
        number = float(match.group()) if match else None
    if number is not None:
        return (1, number, str(value))
    return (2, 0.0, "" if value is None else str(value))


def _sort_key(summary: Summary) -> Callable[[Mapping[str, object]], tuple[object, ...]]:
    names = SORT_COLUMNS.get(summary.name, tuple(c.name for c in summary.dimensions))

    def key(row: Mapping[str, object]) -> tuple[object, ...]:
        parts: list[object] = []
        if summary.name in SORT_BY_GAMES:
            parts.append(-(as_number(row.get("games")) or 0))
        parts.extend(_natural(row.get(name)) for name in names)
        return tuple(parts)

    return key


def _is_low(row: Mapping[str, object]) -> bool:
    # SQLite hands booleans back as 0/1
    return row.get("low_sample") is True or row.get("low_sample") in (1, "true", "t")


def _chunks(
    dims: list[str], metrics: list[str], cells: dict[str, list[str]], width: int
) -> list[list[str]]:
    """Metric columns packed into tables no wider than the console, dimensions repeated in each."""

    def natural(name: str) -> int:
        return max([len(name), *(len(c) for c in cells[name])]) + 3

    room = max(width - 4 - sum(natural(d) for d in dims), 30)
    chunks: list[list[str]] = [[]]
    used = 0
    for name in metrics:
        if chunks[-1] and used + natural(name) > room:
            chunks.append([])
            used = 0
        chunks[-1].append(name)
        used += natural(name)
    return chunks


def _tables(summary: Summary, rows: Sequence[Mapping[str, object]], width: int) -> list[Table]:
    ordered = sorted(rows, key=_sort_key(summary))
    shown = ordered[:MAX_ROWS]
    columns = _shown_columns(summary, shown)
    dim_names = {c.name for c in summary.dimensions}
    dims = [n for n in columns if n in dim_names]
    cells = {n: [_cell(row, n) for row in shown] for n in columns}
    chunks = _chunks(dims, [n for n in columns if n not in dim_names], cells, width)
    tables = []
    for index, chunk in enumerate(chunks):
        part = f", part {index + 1} of {len(chunks)}" if len(chunks) > 1 else ""
        table = Table(
            title=f"{summary.title}  [dim]({summary.name} v{summary.version}{part})[/dim]",
            title_justify="left",
            caption=(
                f"{len(shown)} of {len(rows)} rows (! = low_sample: fewer than 10 in the sample)"
            ),
            caption_justify="left",
        )
        table.add_column("!", justify="center", style="yellow", no_wrap=True)
        for name in dims + chunk:
            table.add_column(
                name,
                justify="left" if name in dim_names else "right",
                style="bold" if name in dim_names else "",
                # a rate, its interval and n read as one unit: never broken over lines
                no_wrap=name in RATE_N or name in dim_names or name in DATES,
            )
        for i, row in enumerate(shown):
            low = _is_low(row)
            table.add_row(
                "!" if low else "",
                *(cells[n][i] for n in dims + chunk),
                style="dim" if low else None,
            )
        tables.append(table)
    return tables


def render_report(
    console: Console, username: str, tables: Mapping[str, Sequence[Mapping[str, object]]]
) -> None:
    """Print every summary of `username` from its published rows (plain dicts, any order)."""
    console.print(Text(f"Chess patterns of {username}", style="bold underline"))
    console.print(
        Text(
            "Rates show [95 % interval] and n, the sample size; rows marked ! have n < 10. "
            "expected_score is what the ratings predict, residual = score - expected.",
            style="dim",
        )
    )
    focus = what_to_work_on(*(tables.get(n, ()) for n in ("results", "openings", "terminations")))
    console.print()
    console.print(Text("What to work on", style="bold"))
    for index, item in enumerate(focus, 1):
        console.print(Text(f"{index}. {item.text}"))
    if not focus:
        console.print(Text("No time class and colour scores below what the ratings predict."))
    for summary in SUMMARIES:
        rows = tables.get(summary.name)
        console.print()
        if not rows:
            console.print(Text(f"{summary.title} ({summary.name}): no rows", style="italic"))
            continue
        for table in _tables(summary, rows, console.width):
            console.print(table)
        console.print(Text(summary.definition, style="dim"), width=min(console.width, 110))

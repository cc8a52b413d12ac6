"""Query-string parsing shared by the routes: one value per known key, choices, dates, filters."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Literal, get_args

from starlette.datastructures import QueryParams

from api.problems import ProblemError

USERNAME_PATTERN = r"^[A-Za-z0-9_-]{1,50}$"
SUMMARY_NAME_PATTERN = r"^[a-z_][a-z0-9_]{0,62}$"
# The filters of the summary route take the values of the summaries' own rows (`all` included).
SummaryTimeClass = Literal["all", "bullet", "blitz", "rapid", "daily"]
SummaryColor = Literal["all", "white", "black"]
TIME_CLASSES: tuple[str, ...] = get_args(SummaryTimeClass)
COLORS: tuple[str, ...] = get_args(SummaryColor)
SUMMARY_QUERY_KEYS = frozenset({"time_class", "color", "since", "until"})


def invalid(name: str, value: str, expected: str) -> ProblemError:
    """The 422 of one bad query parameter."""
    return ProblemError(
        422,
        f"query.{name}: {value[:40]!r} is not {expected}",
        errors=[{"loc": ["query", name]}],
    )


def choice(params: QueryParams, name: str, allowed: tuple[str, ...]) -> str | None:
    """The parameter if it is one of `allowed`; None when absent; else 422."""
    value = params.get(name)
    if value is None or value in allowed:
        return value
    raise invalid(name, value, f"one of {', '.join(allowed)}")


def day(params: QueryParams, name: str) -> date | None:
    """A YYYY-MM-DD parameter as a date; None when absent; else 422."""
    value = params.get(name)
    if value is None:
        return None
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise invalid(name, value, "a date (YYYY-MM-DD)") from None


def check_date_range(since: date | None, until: date | None) -> None:
    """422 when both ends are given and since is after until (every route's date filter)."""
    if since and until and since > until:
        raise ProblemError(422, "since is after until; swap them.")


def check_keys(params: QueryParams, known: Collection[str]) -> None:
    """422 for a key the route does not know (a misspelt filter must never pass for "no
    filter") or a key given more than once (which value was meant is anyone's guess)."""
    unknown = sorted(set(params.keys()) - set(known))
    if unknown:
        name = unknown[0][:40]
        raise ProblemError(
            422,
            f"query.{name}: unknown parameter; known: {', '.join(sorted(known))}",
            errors=[{"loc": ["query", name]}],
        )
    for name in params:
        count = len(params.getlist(name))
        if count > 1:
            raise ProblemError(
                422,
                f"query.{name}: given {count} times; give it once",
                errors=[{"loc": ["query", name]}],
            )


@dataclass(frozen=True)
class Filters:
    """The validated query of the summary route."""

    time_class: str | None = None
    color: str | None = None
    since: date | None = None
    until: date | None = None

    def as_query(self) -> dict[str, str]:
        pairs = {
            "time_class": self.time_class,
            "color": self.color,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }
        return {k: v for k, v in pairs.items() if v is not None}

    def key(self) -> str:
        return "&".join(f"{k}={v}" for k, v in sorted(self.as_query().items()))


NO_FILTERS = Filters()


def parse_summary_filters(params: QueryParams) -> Filters:
    """The query of the summary route, or a 422 problem naming the first bad parameter."""
    if not params:
        return NO_FILTERS
    check_keys(params, SUMMARY_QUERY_KEYS)
    filters = Filters(
        choice(params, "time_class", TIME_CLASSES),
        choice(params, "color", COLORS),
        day(params, "since"),
        day(params, "until"),
    )
    check_date_range(filters.since, filters.until)
    return filters

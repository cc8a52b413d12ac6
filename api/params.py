"""Query-string parsing shared by the routes: one value per known key, choices and dates."""

from __future__ import annotations

from datetime import date

from starlette.datastructures import QueryParams

from api.problems import ProblemError


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

"""Query-string parsing shared by the routes: one value per known key, choices and dates."""

from __future__ import annotations

from collections.abc import Collection
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

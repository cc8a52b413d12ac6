"""Chess.com username validation: the only gate between user input and URLs or file paths."""

from __future__ import annotations

import re

# Today's sign-up rule is 3-25 characters, but older accounts are shorter or longer, so accept
# 1-50 of the characters Chess.com has ever allowed.
_USERNAME = re.compile(r"[A-Za-z0-9_-]{1,50}")


class InvalidUsernameError(ValueError):
    """A string that cannot be a Chess.com username."""


def normalize_username(raw: str) -> str:
    """Return the lowercase username, or raise InvalidUsernameError saying what is wrong."""
    if not _USERNAME.fullmatch(raw):
        shown = raw if len(raw) <= 60 else raw[:57] + "..."
        raise InvalidUsernameError(
            f"{shown!r} is not a Chess.com username: use 1-50 ASCII letters, digits, '_' or '-'."
        )
    return raw.lower()

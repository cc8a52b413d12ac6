"""Game-level facts from Chess.com values: time controls, per-side result codes, openings, ids."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import UTC, datetime

from transforms.terminations import termination_reason, winner_name

# Chess.com per-side codes that mean the game was drawn (chesscom-data.md §2).
DRAW_CODES = frozenset(
    {"agreed", "repetition", "stalemate", "insufficient", "timevsinsufficient", "50move", "draw"}
)
# The losing (or drawing) side's code decides how the game ended.
TERMINATION_BY_CODE = {
    "checkmated": "checkmate",
    "resigned": "resignation",
    "timeout": "timeout",
    "abandoned": "abandonment",
    "agreed": "agreement",
    "repetition": "repetition",
    "stalemate": "stalemate",
    "insufficient": "insufficient",
    "timevsinsufficient": "timevsinsufficient",
    "50move": "50move",
}

# patterns.md: the family runs to its first Defense / Game / Opening / Attack / Gambit /
# Countergambit / System word, with a following Accepted or Declined.
_OPENING_FAMILY_WORDS = frozenset(
    {"Opening", "Defense", "Game", "Gambit", "Countergambit", "Attack", "System"}
)
_OPENING_FAMILY_SUFFIXES = frozenset({"Declined", "Accepted"})
# A name with moves glued on by "...": "Defense...4.exd5" (not a move such as "1...c6").
_GLUED_RE = re.compile(r"^([A-Za-z][^.]*?)\.\.\.(.*)$")
_MOVE_RE = re.compile(r"^\d")
_ECO_PREFIX_RE = re.compile(r"^[A-E]\d\d-")
_OLD_LINK_RE = re.compile(r"^https?://(www\.)?chess\.com/(live|daily)/game/(\d+)")


def parse_time_control(time_control: str | None) -> tuple[int | None, int | None, int | None]:
    """`"300+5"` -> (300, 5, None); `"1/86400"` -> (None, None, 1); `"-"`/junk -> all None."""
    if not time_control:
        return None, None, None
    tc = time_control.strip()
    try:
        if "/" in tc:
            _, _, seconds = tc.partition("/")
            return None, None, max(1, round(int(seconds) / 86400))
        if tc == "-":
            return None, None, None
        base, _, inc = tc.partition("+")
        return int(base), int(inc) if inc else 0, None
    except ValueError:
        return None, None, None


def time_class_for(time_control: str | None) -> str | None:
    """Chess.com's current rule: base + 40 x increment < 180 s bullet, < 600 s blitz, else rapid."""
    base, inc, days = parse_time_control(time_control)
    if days is not None:
        return "daily"
    if base is None or inc is None:
        return "daily" if time_control and time_control.strip() == "-" else None
    estimate = base + 40 * inc
    if estimate < 180:
        return "bullet"
    if estimate < 600:
        return "blitz"
    return "rapid"


def result_of(code: str | None) -> tuple[str | None, float | None]:
    """Result for the side with this per-side code, and its score."""
    if not code:
        return None, None
    if code == "win":
        return "win", 1.0
    if code in DRAW_CODES:
        return "draw", 0.5
    return "loss", 0.0


def termination_of(code: str | None, opponent_code: str | None) -> str:
    """Termination category: the non-winning side's code decides."""
    deciding = opponent_code if code == "win" else code
    return TERMINATION_BY_CODE.get(deciding or "", "other")


def pgn_reason(
    result: str | None, termination: str | None, names: tuple[str | None, str | None] = (None, None)
) -> str | None:
    """The per-side code the Termination text names in any language, or None when unreadable;
    `names` are (White, Black): the winner's is taken out of the text first."""
    return termination_reason(termination, winner_name(result, *names))


def codes_from_pgn(
    result: str | None, termination: str | None, names: tuple[str | None, str | None] = (None, None)
) -> tuple[str | None, str | None]:
    """(white code, black code) from PGN `Result` and `Termination` (imports without JSON sides).

    The reason is read by pgn_reason (transforms/terminations.py, in any language of the phrase
    table); an unreadable one leaves "lose" / "draw".
    """
    reason = pgn_reason(result, termination, names)
    if result == "1-0":
        return "win", reason if reason and reason not in DRAW_CODES else "lose"
    if result == "0-1":
        return reason if reason and reason not in DRAW_CODES else "lose", "win"
    if result in ("1/2-1/2", "1/2"):
        code = reason if reason in DRAW_CODES else "draw"
        return code, code
    return None, None


def opening_from_url(eco_url: str | None) -> tuple[str | None, str | None]:
    """(family, variation) from a Chess.com opening URL slug (patterns.md's rule).

    "Ruy-Lopez-Opening-Berlin-Defense-4.d3-Bc5" -> ("Ruy Lopez Opening", "Berlin Defense 4.d3 Bc5"):
    the family runs to the first family word (Defense, Game, Opening, Attack, Gambit,
    Countergambit, System), plus a following Declined/Accepted. Moves glued on with "..."
    ("Alapin-Sicilian-Defense...4.exd5-Qxd5") belong to the variation, never to the family, and
    so does any move of a slug without a family word; old URLs start with the ECO code, dropped.
    """
    if not eco_url:
        return None, None
    slug = eco_url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]
    slug = _ECO_PREFIX_RE.sub("", slug)
    words: list[str] = []
    glued_at: int | None = None  # index of the first word after the first "..." glue
    for word in slug.split("-"):
        match = _GLUED_RE.match(word)
        if match:
            words.append(match.group(1))
            glued_at = len(words) if glued_at is None else glued_at
            if match.group(2):
                words.append(match.group(2))
        elif word:
            words.append(word)
    if not words:
        return None, None
    cut = len(words)
    for i, word in enumerate(words):
        if i == glued_at or _MOVE_RE.match(word):
            cut = i
            break
        if word in _OPENING_FAMILY_WORDS:
            cut = i + 1
            if cut < len(words) and words[cut] in _OPENING_FAMILY_SUFFIXES and cut != glued_at:
                cut += 1
            break
    if cut == 0:  # a slug that starts with a move has no family name
        return None, " ".join(words) or None
    family = " ".join(words[:cut])
    variation = " ".join(words[cut:]) or None
    return family, variation


def canonical_url(url: str | None) -> str | None:
    """Old `https://www.chess.com/live/game/<id>` links in the current `/game/live/<id>` form."""
    if not url:
        return url
    match = _OLD_LINK_RE.match(url.strip())
    if match:
        return f"https://www.chess.com/game/{match.group(2)}/{match.group(3)}"
    return url.strip()


def is_game_url(url: str | None) -> bool:
    """True for a URL naming one game (website exports only say `Site "Chess.com"`)."""
    if not url or not url.startswith(("http://", "https://")):
        return False
    path = url.split("://", 1)[1].partition("/")[2].strip("/")
    return any(ch.isdigit() for ch in path) or len(path) >= 8


# A game number of 0 is a placeholder, not an id: daily games against bots all carry
# `.../game/daily/0` (chesscom-data.md §2, §6), so such a URL cannot key a game.
_PLACEHOLDER_URL_RE = re.compile(r"/game/(?:live/|daily/)?0+/?$")


def is_unique_game_url(url: str | None) -> bool:
    """True for a game URL that can key one game (not the bots' `.../game/daily/0`)."""
    return is_game_url(url) and not _PLACEHOLDER_URL_RE.search((url or "").split("?", 1)[0])


def game_id_for(uuid_value: object, url: str | None, headers_and_moves: str) -> str:
    """The Chess.com uuid, else uuid5 of the canonical URL, else of a hash of the PGN text.

    A URL that many games share (the bots' `.../game/daily/0`) counts as no URL.
    """
    if isinstance(uuid_value, str) and uuid_value.strip():
        return uuid_value.strip()
    if is_unique_game_url(url):
        return str(uuid.uuid5(uuid.NAMESPACE_URL, url or ""))
    digest = hashlib.sha256(headers_and_moves.encode("utf-8", "replace")).hexdigest()
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sha256:{digest}"))


def utc_from_unix(value: object) -> datetime | None:
    """A Unix-seconds JSON number as an aware UTC datetime (None if absent or absurd)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def utc_from_pgn(date: str | None, time: str | None) -> datetime | None:
    """`UTCDate` "2024.05.04" + `UTCTime` "15:45:01" as a UTC datetime, None if unreadable."""
    if not date or not time:
        return None
    try:
        return datetime.strptime(f"{date} {time}", "%Y.%m.%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def int_or_none(value: object) -> int | None:
    """An int from a JSON number or a PGN tag ("?" and junk -> None), within Int32."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = int(value) if isinstance(value, int | float | str) else None
    except (ValueError, OverflowError):
        return None
    if number is None or not -(2**31) <= number < 2**31:
        return None
    return number


def float_or_none(value: object) -> float | None:
    """A float from a JSON number (Chess.com sometimes sends integer accuracies)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)

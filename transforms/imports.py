"""Import logic over text: PGN splitting, SAN extraction, game keys, end times, dedupe."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from transforms.games import canonical_url, is_unique_game_url
from transforms.pgn import parse_headers, split_pgn_games


class ImportFormatError(ValueError):
    """An import file that cannot be read as Chess.com games; nothing was written."""


# Movetext pieces that are not moves (comments may span lines in the website's wrapped export).
_COMMENT = re.compile(r"\{[^}]*\}?|;[^\n]*")
_VARIATION = re.compile(r"\([^()]*\)")
_MOVE_NUMBER = re.compile(r"^[0-9]+\.+")
_RESULTS = frozenset({"1-0", "0-1", "1/2-1/2", "*"})
# What transforms.games.canonical_url returns for a link naming one Chess.com game.
_GAME_URL = re.compile(r"https://www\.chess\.com/game/(?:live|daily)/[0-9]+")
_CLOCK_TIME = re.compile(r"^([0-9]{1,2}):([0-9]{2}):([0-9]{2})(?:\s+(\S+))?$")
_NUMERIC_ZONE = re.compile(r"^(?:GMT|UTC)([+-])([0-9]{2}):?([0-9]{2})$")
# The website's "Download PGN" writes EndTime in the downloader's zone as an abbreviation.
# Only unambiguous ones are listed (IST, for one, is India, Ireland or Israel).
_ZONE_HOURS: dict[str, float] = {
    "UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "BST": 1, "WEST": 1, "CET": 1, "CEST": 2,
    "EET": 2, "EEST": 3, "MSK": 3, "PST": -8, "PDT": -7, "MST": -7, "MDT": -6, "CST": -6,
    "CDT": -5, "EST": -5, "EDT": -4, "AST": -4, "ADT": -3, "NST": -3.5, "NDT": -2.5,
    "AKST": -9, "AKDT": -8, "HST": -10, "JST": 9, "KST": 9, "AEST": 10, "AEDT": 11,
    "ACST": 9.5, "ACDT": 10.5, "AWST": 8, "NZST": 12, "NZDT": 13,
}  # fmt: skip


def canonical_game_url(link: str | None) -> str:
    """`https://www.chess.com/game/live/<id>` (or daily) from any form Chess.com has used, or "".

    A thin wrapper over transforms.games.canonical_url, which passes any other URL through:
    an import keys games by this, so anything not naming one Chess.com game becomes "".
    """
    url = canonical_url(link)
    return url if url and _GAME_URL.fullmatch(url) else ""


def san_moves(movetext: str) -> list[str]:
    """The bare SAN moves of a movetext: no comments, clocks, variations, NAGs, numbers, result.

    Text processing only (no replay), so it is cheap and reads any export's layout: the website
    wraps at 80 columns, even inside a `{[%clk ...]}` comment; the API writes one line.
    """
    text = _COMMENT.sub(" ", movetext)
    while True:
        stripped = _VARIATION.sub(" ", text)
        if stripped == text:
            break
        text = stripped
    moves = []
    for token in text.split():
        token = _MOVE_NUMBER.sub("", token)
        if not token or token in _RESULTS or token.startswith("$"):
            continue
        moves.append(token.rstrip("!?"))
    return moves


def content_key(game: dict[str, Any]) -> str | None:
    """The same key for one game in every export format, or None when it has no PGN.

    Built from what every format carries alike: White, Black (lowercased), Result, the bare SAN
    moves, and the UTC time of day the game ended. The time of day tells apart rematches with
    the same moves (two abandoned zero-move games against one opponent); it, not the date, is
    used because a website export's local `Date` can put the end a day early.
    """
    pgn = game.get("pgn")
    end_time = game.get("end_time")
    if not isinstance(pgn, str) or not pgn.strip() or not isinstance(end_time, int):
        return None
    headers, movetext = parse_headers(pgn)
    parts = [
        headers.get("White", "").lower(),
        headers.get("Black", "").lower(),
        headers.get("Result", ""),
        str(end_time % 86_400),
        " ".join(san_moves(movetext)),
    ]
    return "moves:" + hashlib.sha256("\n".join(parts).encode()).hexdigest()


def game_key(game: dict[str, Any]) -> str:
    """The key an import tells games apart by: canonical URL, else content key, else uuid.

    Not the lake's `game_id` (transforms.games.game_id_for), which must stay what it always
    was; an imported game's uuid is uuid5 of this key, so game_id_for then keeps it.
    """
    url = canonical_game_url(str(game.get("url") or ""))
    # Daily games against bots can all carry id 0 (`.../game/daily/0`), so that URL is no key.
    if is_unique_game_url(url):
        return url
    return content_key(game) or "uuid:" + str(game.get("uuid", ""))


class MonthIndex:
    """The games of one month, to tell whether an incoming game is already there.

    Two games with different canonical URLs are different games; otherwise they are the same
    when their URLs or their content keys match (a website export has no Link at all).
    """

    def __init__(self) -> None:
        self.games: list[dict[str, Any]] = []
        self._by_url: dict[str, int] = {}
        self._by_content: dict[str, list[tuple[int, str]]] = {}  # key -> (index, url or "")
        self._by_key: dict[str, int] = {}

    @staticmethod
    def _keys(game: dict[str, Any]) -> tuple[str, str, str | None]:
        key = game_key(game)
        return key, key if key.startswith("https://") else "", content_key(game)

    def add(self, game: dict[str, Any]) -> None:
        self.games.append(game)
        self._index(len(self.games) - 1)

    def _index(self, position: int) -> None:
        key, url, content = self._keys(self.games[position])
        self._by_key.setdefault(key, position)
        if url:
            self._by_url.setdefault(url, position)
        if content:
            self._by_content.setdefault(content, []).append((position, url))

    def find(self, game: dict[str, Any]) -> int | None:
        """Position of the stored copy of `game`, or None when it is new."""
        key, url, content = self._keys(game)
        if url and url in self._by_url:
            return self._by_url[url]
        for position, other_url in self._by_content.get(content or "", []):
            if not url or not other_url:
                return position
        if not url and not content:
            return self._by_key.get(key)
        return None

    def upgrade(self, position: int, game: dict[str, Any]) -> bool:
        """Put `game` in place of its stored copy when only `game` has a URL; True if it did."""
        if not self._keys(game)[1] or self._keys(self.games[position])[1]:
            return False
        self.games[position] = game
        self._index(position)
        return True


def _zone_offset(zone: str | None) -> timedelta | None:
    if not zone:
        return timedelta(0)  # API PGN headers are UTC (Timezone "UTC")
    numeric = _NUMERIC_ZONE.match(zone.upper())
    if numeric:
        sign = 1 if numeric.group(1) == "+" else -1
        return sign * timedelta(hours=int(numeric.group(2)), minutes=int(numeric.group(3)))
    hours = _ZONE_HOURS.get(zone.upper())
    return None if hours is None else timedelta(hours=hours)


def pgn_end_time(headers: dict[str, str]) -> int:
    """UTC end time in Unix seconds from API headers (EndDate/EndTime in UTC) or website ones
    (local `Date` and `EndTime "22:38:19 PST"`); raises ValueError saying what is missing."""
    end_time = headers.get("EndTime")
    if not end_time:
        raise ValueError(
            "has no EndTime header, so the month it belongs to is unknown; export the games "
            "again from Chess.com (the API's /pgn export and the website's Download PGN both "
            "write EndTime) rather than a copy another program rewrote"
        )
    match = _CLOCK_TIME.match(end_time.strip())
    if match is None:
        raise ValueError(
            f"has EndTime {end_time!r}, which is not HH:MM:SS [ZONE]; export the games again "
            "from Chess.com rather than a copy another program rewrote"
        )
    zone = match.group(4)
    offset = _zone_offset(zone)
    if offset is None:
        raise ValueError(
            f"has EndTime {end_time!r} in time zone {zone!r}, which is not one this importer "
            "knows; re-export with a known zone (PST, PDT, GMT+0000, ...)"
        )
    # API exports carry the UTC end date; website exports only the local date.
    if zone:
        # Website exports only carry the local date; a game ending just after local midnight
        # may be a day early (the export gives no start time to tell).
        date = headers.get("Date")
    else:
        date = headers.get("EndDate") or headers.get("UTCDate") or headers.get("Date")
    if not date or not re.fullmatch(r"[0-9]{4}\.[0-9]{2}\.[0-9]{2}", date):
        raise ValueError(
            f"has no usable date (EndDate, UTCDate or Date is {date!r}, not YYYY.MM.DD), so the "
            "month it belongs to is unknown; export the games again from Chess.com rather "
            "than a copy another program rewrote"
        )
    year, month, day = (int(x) for x in date.split("."))
    hh, mm, ss = (int(x) for x in match.group(1, 2, 3))
    local = datetime(year, month, day, hh, mm, ss, tzinfo=UTC)
    return int((local - offset).timestamp())


def split_pgn(text: str) -> list[str]:
    """Games of a multi-game PGN text, each ending in one newline (as the API's `pgn` field).

    A thin wrapper over transforms.pgn.split_pgn_games (which splits at `[Event ` line starts):
    an import must refuse a file that is not PGN, where the parser keeps leading text as a game.
    """
    games = split_pgn_games(text)
    if games and not games[0].startswith("[Event "):
        raise ValueError("text before the first [Event header")
    return [game.rstrip() + "\n" for game in games]


def game_from_pgn(pgn: str) -> dict[str, Any]:
    headers, _ = parse_headers(pgn)
    site = headers.get("Site", "Chess.com")
    if "chess.com" not in site.lower():
        raise ValueError(
            f"has Site {site!r}, not Chess.com; import only games exported from Chess.com"
        )
    url = canonical_game_url(headers.get("Link"))
    game: dict[str, Any] = {"url": url, "pgn": pgn, "end_time": pgn_end_time(headers)}
    game["uuid"] = str(uuid.uuid5(uuid.NAMESPACE_URL, game_key(game)))
    return game


def describe(pgn: str) -> str:
    """`White vs Black, Date` of a PGN game, to point at it in an error message."""
    headers, _ = parse_headers(pgn)
    white, black = headers.get("White", "?"), headers.get("Black", "?")
    return f"{white} vs {black}, {headers.get('Date', 'no date')}"


def players(game: dict[str, Any]) -> set[str]:
    names = set()
    for side in ("white", "black"):
        player = game.get(side)
        if isinstance(player, dict) and player.get("username"):
            names.add(str(player["username"]).lower())
    if isinstance(game.get("pgn"), str):
        headers, _ = parse_headers(game["pgn"])
        names.update(headers.get(s, "").lower() for s in ("White", "Black"))
    return names


def decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        # Keep every byte (latin-1 maps each byte to one character) rather than refuse the file.
        text = data.decode("latin-1")
    return text.removeprefix("\ufeff").replace("\r\n", "\n")


def games_from_bytes(path: str, raw: bytes) -> list[dict[str, Any]]:
    """Game objects from a monthly JSON body (or a JSON list of games) or a PGN text; `path`
    names the file in error messages (ImportFormatError)."""
    text = decode(raw)
    # A JSON body starts with `{` (or `[{` for a bare list); PGN starts with `[Event "`.
    if re.match(r"\s*(\{|\[\s*[{\]])", text):
        try:
            data = json.loads(text)
        except ValueError as error:
            raise ImportFormatError(f"{path}: not valid JSON ({error})") from None
        games = data.get("games") if isinstance(data, dict) else data
        if not isinstance(games, list):
            raise ImportFormatError(f'{path}: expected a monthly body {{"games": [...]}}')
        for index, game in enumerate(games, start=1):
            if not isinstance(game, dict) or not isinstance(game.get("end_time"), int):
                url = game.get("url") if isinstance(game, dict) else None
                raise ImportFormatError(
                    f"{path}: game {index} of {len(games)}"
                    + (f" ({url})" if url else "")
                    + " has no integer end_time (Unix seconds), so the month it belongs to is "
                    "unknown; import monthly bodies exactly as Chess.com sent them "
                    "(/pub/player/USER/games/YYYY/MM) or the games' PGN export. Nothing was "
                    "imported."
                )
        return games
    try:
        texts = split_pgn(text)
    except ValueError as error:
        raise ImportFormatError(f"{path}: {error}; is this a PGN file?") from None
    games = []
    for index, pgn in enumerate(texts, start=1):
        try:
            games.append(game_from_pgn(pgn))
        except ValueError as error:
            raise ImportFormatError(
                f"{path}: game {index} of {len(texts)} ({describe(pgn)}) {error}. "
                "Nothing was imported."
            ) from None
    return games


def month_of_epoch(seconds: int) -> str:
    """`YYYY-MM` of a Unix time in UTC: the month a game belongs to."""
    moment = datetime.fromtimestamp(seconds, UTC)
    return f"{moment.year:04d}-{moment.month:02d}"


def merge_month(
    stored: list[dict[str, Any]], incoming: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]] | None, int, int]:
    """(the month's games after the import, sorted by end time, or None when nothing changed;
    games added; games already present) for one month."""
    index = MonthIndex()
    for game in stored:
        index.add(game)
    added = present = 0
    changed = False
    for game in incoming:
        found = index.find(game)
        if found is None:
            index.add(game)
            added += 1
            changed = True
            continue
        present += 1
        # The copy with a Link (API JSON or /pgn export) has the id and the UTC headers;
        # it replaces a website export's copy of the same game.
        changed = index.upgrade(found, game) or changed
    if not changed:
        return None, added, present
    return sorted(index.games, key=lambda g: int(g.get("end_time", 0))), added, present  # stable


def month_body(games: list[dict[str, Any]]) -> bytes:
    """A monthly body `{"games": [...]}` as an import writes it."""
    return json.dumps({"games": games}, ensure_ascii=False, separators=(",", ":")).encode()


__all__ = [
    "ImportFormatError",
    "MonthIndex",
    "canonical_game_url",
    "content_key",
    "decode",
    "describe",
    "game_from_pgn",
    "game_key",
    "games_from_bytes",
    "merge_month",
    "month_body",
    "month_of_epoch",
    "pgn_end_time",
    "players",
    "san_moves",
    "split_pgn",
]

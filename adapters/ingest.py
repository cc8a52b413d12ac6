"""Bring a player's archives into the raw store: incremental refresh from Chess.com, or import."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.chesscom import (
    BlockedError,
    ChessComClient,
    ChessComError,
    ChessComUnavailableError,
    PlayerGoneError,
)
from adapters.raw_store import RawStore, iso, now_utc, parse_iso
from settings import Settings
from transforms.games import canonical_url
from transforms.pgn import parse_headers, split_pgn_games
from transforms.terminations import TerminationIssues, text_issues, winner_name
from transforms.usernames import normalize_username


@dataclass
class IngestReport:
    """What one refresh of one player did."""

    username: str
    months_listed: int
    fetched: list[str] = field(default_factory=list)  # new bytes written
    unchanged: list[str] = field(default_factory=list)  # 304, or 200 with the same bytes
    failed: dict[str, str] = field(default_factory=dict)  # month -> one-line reason
    skipped: list[str] = field(default_factory=list)  # stored, old, not due for revalidation
    canonical_username: str | None = None

    @property
    def ok(self) -> bool:
        return not self.failed


def _month_of(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


def _previous_month(moment: datetime) -> str:
    first = moment.replace(day=1)
    return _month_of(first - timedelta(days=1))


def plan_months(
    listed: Sequence[str],
    store: RawStore,
    username: str,
    *,
    full: bool,
    revalidate_after_days: int,
    now: datetime,
) -> tuple[list[str], list[str]]:
    """Split the listed months into (to ask for, to skip).

    Asked: months not stored (or only imported), the current and previous month (late games land
    there), and older months when `full` or when last checked more than the revalidation age ago.
    """
    manifest = store.manifest(username)
    stored = set(store.stored_months(username))
    recent = {_month_of(now), _previous_month(now)}
    horizon = now - timedelta(days=revalidate_after_days)
    ask: list[str] = []
    skip: list[str] = []
    for month in listed:
        record = manifest.get(month)
        never_fetched = month not in stored or record is None or record.source != "api"
        due = (
            never_fetched
            or month in recent
            or full
            or record is None
            or record.last_status not in ("200", "304")
            or record.last_checked_at is None
            or parse_iso(record.last_checked_at) <= horizon
        )
        (ask if due else skip).append(month)
    return ask, skip


def fetch_player(
    settings: Settings,
    username: str,
    *,
    full: bool = False,
    client: ChessComClient | None = None,
    now: datetime | None = None,
    lock_timeout: float = 300.0,
) -> IngestReport:
    """Refresh one player's raw store from Chess.com.

    Player-level failures raise (PlayerNotFoundError, PlayerGoneError, BlockedError,
    ChessComUnavailableError, PlayerLockedError); a month that fails goes into `report.failed`
    and its stored copy stays as it was. Once a month fails because Chess.com stopped answering
    (ChessComUnavailableError), the months after it are not asked: each goes into
    `report.failed` as "not asked: ...", its file and manifest record untouched. A second
    refresh of the same player waits up to `lock_timeout` seconds for the first to finish,
    then raises PlayerLockedError.
    """
    user = normalize_username(username)
    moment = (now or now_utc()).astimezone(UTC)
    store = RawStore(settings.raw_dir)
    own_client = client is None
    http = client if client is not None else ChessComClient(settings)
    try:
        with store.lock(user, timeout=lock_timeout):
            info = store.player_info(user)
            if info.gone_at and not full:
                raise PlayerGoneError(
                    f"Chess.com said player {user!r} is gone (410) on {info.gone_at}; not asking "
                    "again. Stored archives are kept; use --full to ask once more.",
                    username=user,
                )
            remote = info.canonical_username or user
            try:
                archives = http.archives(remote)
            except PlayerGoneError:
                info.gone_at = iso(moment)
                store.save_player_info(user, info)
                raise
            if archives.username != user or info.gone_at:
                info.canonical_username = archives.username if archives.username != user else None
                info.gone_at = None
                store.save_player_info(user, info)
            remote = archives.username
            report = IngestReport(
                username=user,
                months_listed=len(archives.months),
                canonical_username=archives.username if archives.username != user else None,
            )
            ask, report.skipped = plan_months(
                archives.months,
                store,
                user,
                full=full,
                revalidate_after_days=settings.revalidate_after_days,
                now=moment,
            )
            # A month that failed last time goes last: if it keeps failing with a 5xx, the stop
            # below would otherwise keep every later month from being asked, refresh after refresh.
            manifest = store.manifest(user)
            ask.sort(key=lambda m: m in manifest and manifest[m].last_status.startswith("error:"))
            stopped: str | None = None
            try:
                for month in ask:
                    if stopped is not None:
                        report.failed[month] = (
                            f"not asked: Chess.com stopped answering during this refresh "
                            f"({stopped}); run the refresh again later"
                        )
                        continue
                    error = _fetch_month(http, store, user, remote, month, report, moment)
                    # A month whose whole retry budget went on 5xx/429, timeouts, dropped or
                    # refused connections says the service is not answering; asking the rest
                    # would cost a budget each (95 months x 120 s), so they wait for the next
                    # refresh, their stored files and manifest records untouched. From here a
                    # 503 on one month cannot be told from an outage without spending more
                    # budget, so any such failure stops the refresh; a month failing for its own
                    # reason (404, a body that stays broken) does not.
                    if isinstance(error, ChessComUnavailableError):
                        stopped = f"month {month} gave up: {error.problem or 'no answer'}"
            except PlayerGoneError:
                # A 410 on a month means the same as on the archives list: stop asking.
                info = store.player_info(user)
                info.gone_at = iso(moment)
                store.save_player_info(user, info)
                raise
            return report
    finally:
        if own_client:
            http.close()


def _fetch_month(
    http: ChessComClient,
    store: RawStore,
    user: str,
    remote: str,
    month: str,
    report: IngestReport,
    moment: datetime,
) -> ChessComError | None:
    """Ask for one month and store the answer; the error when it failed (recorded in `report`)."""
    record = store.manifest(user).get(month)
    etag = last_modified = None
    # Validators are sent only when the stored file is still the exact body they describe
    # (an import, or a crash between the file rename and the manifest write, breaks that).
    if (
        record is not None
        and record.stored
        and record.source == "api"
        and store.file_sha256(user, month) == record.sha256
    ):
        etag, last_modified = record.etag, record.last_modified
    try:
        response = http.month(remote, month, etag=etag, last_modified=last_modified)
    except PlayerGoneError:
        store.record_check(user, month, status="410", now=moment)
        raise
    except BlockedError as error:
        store.record_check(user, month, status=f"blocked: {error}", now=moment)
        raise
    except ChessComError as error:
        report.failed[month] = str(error)
        store.record_check(user, month, status=f"error: {error}", now=moment)
        return error
    if response.status == 304:
        store.record_check(
            user,
            month,
            status="304",
            etag=response.etag,
            last_modified=response.last_modified,
            now=moment,
        )
        report.unchanged.append(month)
        return None
    assert response.body is not None
    changed = store.write_month(
        user,
        month,
        response.body,
        etag=response.etag,
        last_modified=response.last_modified,
        status="200",
        now=moment,
    )
    (report.fetched if changed else report.unchanged).append(month)
    return None


@dataclass
class ImportReport:
    """What one `import` did."""

    username: str
    months_written: list[str] = field(default_factory=list)
    games_added: int = 0
    games_already_present: int = 0
    games_read: int = 0
    # Imported games without Chess.com result codes whose Termination text names no known reason.
    unread_terminations: TerminationIssues = field(
        default_factory=lambda: TerminationIssues(0, (), 0)
    )


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
    """The id a game is stored under: its canonical URL, else its content key, else its uuid."""
    url = canonical_game_url(str(game.get("url") or ""))
    # Daily games against bots can all carry id 0 (`.../game/daily/0`), so that URL is no key.
    if url and not url.endswith("/0"):
        return url
    return content_key(game) or "uuid:" + str(game.get("uuid", ""))


class _MonthIndex:
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


def _game_from_pgn(pgn: str) -> dict[str, Any]:
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


def _describe(pgn: str) -> str:
    """`White vs Black, Date` of a PGN game, to point at it in an error message."""
    headers, _ = parse_headers(pgn)
    white, black = headers.get("White", "?"), headers.get("Black", "?")
    return f"{white} vs {black}, {headers.get('Date', 'no date')}"


def _players(game: dict[str, Any]) -> set[str]:
    names = set()
    for side in ("white", "black"):
        player = game.get(side)
        if isinstance(player, dict) and player.get("username"):
            names.add(str(player["username"]).lower())
    if isinstance(game.get("pgn"), str):
        headers, _ = parse_headers(game["pgn"])
        names.update(headers.get(s, "").lower() for s in ("White", "Black"))
    return names


def _decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        # Keep every byte (latin-1 maps each byte to one character) rather than refuse the file.
        text = data.decode("latin-1")
    return text.removeprefix("\ufeff").replace("\r\n", "\n")


def read_import_file(path: Path) -> list[dict[str, Any]]:
    """Game objects from a monthly JSON body (or a JSON list of games) or a PGN file."""
    text = _decode(Path(path).read_bytes())
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
            games.append(_game_from_pgn(pgn))
        except ValueError as error:
            raise ImportFormatError(
                f"{path}: game {index} of {len(texts)} ({_describe(pgn)}) {error}. "
                "Nothing was imported."
            ) from None
    return games


def _month_of_epoch(seconds: int) -> str:
    return _month_of(datetime.fromtimestamp(seconds, UTC))


def _import_into_store(
    store: RawStore, user: str, files: Sequence[Path]
) -> tuple[list[str], int, int, int, list[tuple[str | None, str | None]]]:
    # Read and check every file before writing anything: a bad file loses nothing.
    incoming: dict[str, list[dict[str, Any]]] = {}
    read = 0
    texts: list[tuple[str | None, str | None]] = []
    for path in files:
        if not Path(path).is_file():
            raise ImportFormatError(f"{path}: no such file")
        games = read_import_file(Path(path))
        if games and not any(user in _players(g) for g in games):
            raise ImportFormatError(
                f"{path}: none of its {len(games)} games has {user!r} as White or Black; "
                "check the username"
            )
        read += len(games)
        for game in games:
            incoming.setdefault(_month_of_epoch(game["end_time"]), []).append(game)
            text = _termination_text(game)
            if text is not None:
                texts.append(text)
    written: list[str] = []
    added = present = 0
    for month in sorted(incoming):
        index = _MonthIndex()
        if store.has_month(user, month):
            for game in json.loads(store.read_month(user, month))["games"]:
                index.add(game)
        changed = False
        for game in incoming[month]:
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
            continue
        merged = sorted(index.games, key=lambda g: int(g.get("end_time", 0)))  # stable sort
        body = json.dumps({"games": merged}, ensure_ascii=False, separators=(",", ":"))
        store.write_month(user, month, body.encode(), source="import", status="imported")
        written.append(month)
    return written, added, present, read, texts


def import_files(settings: Settings, username: str, files: Sequence[Path]) -> ImportReport:
    """Import monthly JSON bodies and PGN exports into the raw store, each game once.

    Every file is read and checked before anything is written (ImportFormatError otherwise).
    Games land in the month of their UTC end time, merged with what that month already holds,
    sorted by end time. A month later fetched from Chess.com replaces the imported file.
    """
    user = normalize_username(username)
    store = RawStore(settings.raw_dir)
    with store.lock(user):
        months_written, added, present, read, texts = _import_into_store(store, user, files)
    return ImportReport(
        username=user,
        months_written=months_written,
        games_added=added,
        games_already_present=present,
        games_read=read,
        unread_terminations=text_issues(texts),
    )


def _termination_text(game: dict[str, Any]) -> tuple[str | None, str | None] | None:
    """(Termination text, winner's name) of a game without Chess.com's result codes, else None."""
    sides = [game.get(side) for side in ("white", "black")]
    if all(isinstance(s, dict) and s.get("result") for s in sides) or not isinstance(
        game.get("pgn"), str
    ):
        return None
    headers, _ = parse_headers(game["pgn"])
    winner = winner_name(headers.get("Result"), headers.get("White"), headers.get("Black"))
    return headers.get("Termination"), winner


__all__ = [
    "ImportFormatError",
    "ImportReport",
    "IngestReport",
    "canonical_game_url",
    "content_key",
    "fetch_player",
    "game_key",
    "import_files",
    "pgn_end_time",
    "plan_months",
    "read_import_file",
    "san_moves",
    "split_pgn",
]

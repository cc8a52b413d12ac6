"""Benchmark corpus: the fixture's real games scaled to one player with N games over M months.

Run: `uv run python bench/corpus.py OUT --games 50000 [--months 96] [--player benchplayer]`.

The source is biskupstunga's recorded PubAPI PGNs (18,216 real games over 95 months). Each
output game is a source game, taken in the source's own order and cycled as often as needed,
written as a Chess.com monthly-archive game object (url, pgn, time_control, end_time, rated,
uuid, initial_setup, fen, time_class, rules, white/black with username, rating, result, eco).
Its moves, clock comments, ratings, openings and result are the real game's, untouched; only
the owner's name (now the corpus player), the Link, the dates and times, and the ids are new.
Games are spread evenly over M consecutive months and laid out in sessions (1-8 games a
few minutes apart, each keeping its real duration) separated by breaks, so the per-month
layout looks like a real player's. Everything is drawn from one seeded generator: the same
arguments give byte-identical files.

Layout (what `chess-patterns mirror OUT` serves and what the raw store holds):
`OUT/<player>/archives.json` and `OUT/<player>/<YYYY>/<MM>.json`.
"""

from __future__ import annotations

import argparse
import calendar
import json
import os
import random
import re
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from transforms.games import codes_from_pgn, time_class_for  # noqa: E402
from transforms.pgn import split_pgn_games  # noqa: E402

FIXTURES = Path(
    os.environ.get("CHESS_FIXTURES_DIR", REPO.parent / "shared" / "fixtures" / "chesscom")
)
SOURCE = "biskupstunga"
STANDARD_FEN = "rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq - 0 1"
FIRST_MONTH = (2018, 1)

_TAG = re.compile(r'^\[(\w+) "([^"]*)"\]\s*$', re.MULTILINE)
# Daily games can last weeks; in the corpus a game occupies at most this much of its month.
_MAX_DURATION = 6 * 3600


@dataclass(frozen=True)
class SourceGame:
    """One real game: its PGN split into tags and movetext, plus what the layout needs."""

    tags: dict[str, str]
    movetext: str
    owner_is_white: bool
    duration: int  # seconds from start to end as recorded (capped at _MAX_DURATION)


@dataclass(frozen=True)
class Corpus:
    """What `build_corpus` wrote."""

    root: Path
    player: str
    games: int
    months: list[str]  # YYYY-MM, oldest first
    seed: int

    def month_files(self) -> list[Path]:
        return [self.root / self.player / m[:4] / f"{m[5:]}.json" for m in self.months]

    def pgns(self) -> Iterator[list[str]]:
        """Each month's PGN strings, oldest month first (what a bare reader would read)."""
        for path in self.month_files():
            yield [g["pgn"] for g in json.loads(path.read_bytes())["games"]]


def _when(date: str | None, clock: str | None) -> datetime | None:
    try:
        return datetime.strptime(f"{date} {clock}", "%Y.%m.%d %H:%M:%S").replace(tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def source_games(player: str = SOURCE) -> list[SourceGame]:
    """The source player's real games from its monthly PGN files, oldest month first."""
    folder = FIXTURES / player / "pgn"
    files = sorted(folder.glob("api_pgn_*.pgn"))
    if not files:
        raise SystemExit(f"no api_pgn_*.pgn under {folder}: set CHESS_FIXTURES_DIR")
    out: list[SourceGame] = []
    for path in files:
        # The PubAPI's /pgn lists a month newest first; play order is oldest first.
        texts = split_pgn_games(path.read_text(encoding="utf-8"))
        for text in reversed(texts):
            head, _, movetext = text.partition("\n\n")
            tags = dict(_TAG.findall(head))
            start = _when(tags.get("UTCDate"), tags.get("UTCTime"))
            end = _when(tags.get("EndDate"), tags.get("EndTime"))
            duration = int((end - start).total_seconds()) if start and end else 60
            out.append(
                SourceGame(
                    tags=tags,
                    movetext=movetext.strip(),
                    owner_is_white=tags.get("White", "").lower() == player,
                    duration=max(1, min(duration, _MAX_DURATION)),
                )
            )
    return out


def _months(count: int, first: tuple[int, int]) -> list[tuple[int, int]]:
    year, month = first
    out = []
    for _ in range(count):
        out.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _layout(
    rng: random.Random, durations: list[int], month_start: int, month_len: int
) -> list[int]:
    """Start times for games played in order: sessions of 1-8 games 5-180 s apart (each game
    keeps its duration), the month's remaining time split evenly (with jitter) between sessions;
    if the games would not fit, durations and gaps shrink together so they do."""
    gaps = [rng.randint(5, 180) for _ in durations]
    new_session = [True]
    while len(new_session) < len(durations):
        size = rng.randint(1, 8)
        new_session.extend([False] * (size - 1) + [True])
    new_session = new_session[: len(durations)]
    sessions = sum(new_session)
    busy = sum(durations) + sum(g for g, s in zip(gaps, new_session, strict=True) if not s)
    usable = month_len - 120  # keep every end time inside the month
    scale = min(1.0, 0.9 * usable / busy) if busy else 1.0
    free = max(0.0, usable - busy * scale)
    starts: list[int] = []
    cursor = float(month_start) + 60
    for duration, gap, first in zip(durations, gaps, new_session, strict=True):
        if first:
            cursor += free / (sessions + 1) * rng.uniform(0.8, 1.2) if starts else 0.0
        else:
            cursor += gap * scale
        starts.append(int(cursor))
        cursor += duration * scale
    return starts


def _game(
    source: SourceGame, player: str, index: int, start: int, duration: int, rng: random.Random
) -> dict[str, Any]:
    tags = dict(source.tags)
    display = player.capitalize()
    owner_side, other_side = ("White", "Black") if source.owner_is_white else ("Black", "White")
    tags[owner_side] = display
    daily = "/" in tags.get("TimeControl", "")
    kind = "daily" if daily else "live"
    url = f"https://www.chess.com/game/{kind}/{10**11 + index}"
    begin = datetime.fromtimestamp(start, UTC)
    end = begin + timedelta(seconds=duration)
    for key, value in (
        ("Date", begin.strftime("%Y.%m.%d")),
        ("UTCDate", begin.strftime("%Y.%m.%d")),
        ("UTCTime", begin.strftime("%H:%M:%S")),
        ("StartTime", begin.strftime("%H:%M:%S")),
        ("EndDate", end.strftime("%Y.%m.%d")),
        ("EndTime", end.strftime("%H:%M:%S")),
        ("Link", url),
    ):
        if key in tags:
            tags[key] = value
    termination = tags.get("Termination")
    if termination:
        # "<owner> won on time": the winner's name follows the owner's new name.
        real_owner = source.tags.get(owner_side, "")
        termination = termination.replace(real_owner, display) if real_owner else termination
        tags["Termination"] = termination
    pgn = "\n".join(f'[{k} "{v}"]' for k, v in tags.items()) + "\n\n" + source.movetext + "\n"
    white_code, black_code = codes_from_pgn(tags.get("Result"), termination)
    time_control = tags.get("TimeControl")
    sides: dict[str, dict[str, Any]] = {}
    for side, code in (("white", white_code), ("black", black_code)):
        name = tags.get(side.capitalize(), "")
        rating = tags.get(f"{side.capitalize()}Elo", "")
        sides[side] = {
            "rating": int(rating) if rating.isdigit() else None,
            "result": code,
            "@id": f"https://api.chess.com/pub/player/{name.lower()}",
            "username": name,
            "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        }
    variant = tags.get("Variant", "")
    game: dict[str, Any] = {
        "url": url,
        "pgn": pgn,
        "time_control": time_control,
        "end_time": int(end.timestamp()),
        "rated": True,
        "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "initial_setup": tags.get("FEN", STANDARD_FEN),
        "fen": tags.get("CurrentPosition", ""),
        "time_class": "daily" if daily else time_class_for(time_control),
        "rules": "chess960" if variant.lower() == "chess960" else "chess",
        "white": sides["white"],
        "black": sides["black"],
    }
    if "ECOUrl" in tags:
        game["eco"] = tags["ECOUrl"]
    if other_side not in tags:
        raise ValueError(f"source game without a {other_side} tag")
    return game


def build_corpus(
    root: Path,
    games: int,
    months: int = 96,
    *,
    player: str = "benchplayer",
    seed: int = 14,
    first_month: tuple[int, int] = FIRST_MONTH,
    sources: list[SourceGame] | None = None,
) -> Corpus:
    """Write `games` real games of `player` over `months` months under `root` (mirror layout)."""
    if games < 1 or months < 1:
        raise ValueError("a corpus needs at least one game and one month")
    player = player.lower()
    pool = sources if sources is not None else source_games()
    rng = random.Random(seed)
    base = root / player
    written: list[str] = []
    index = 0
    for k, (year, month) in enumerate(_months(months, first_month)):
        count = (k + 1) * games // months - k * games // months
        if count == 0:
            continue
        picks = [pool[(index + i) % len(pool)] for i in range(count)]
        month_start = int(datetime(year, month, 1, tzinfo=UTC).timestamp())
        month_len = calendar.monthrange(year, month)[1] * 86400
        starts = _layout(rng, [p.duration for p in picks], month_start, month_len)
        # The layout may have shrunk durations to fit the month; end times follow the starts.
        next_starts = [*starts[1:], month_start + month_len - 60]
        body = []
        for i, (pick, start) in enumerate(zip(picks, starts, strict=True)):
            duration = max(1, min(pick.duration, next_starts[i] - start - 1))
            body.append(_game(pick, player, index + i, start, duration, rng))
        index += count
        path = base / f"{year:04d}" / f"{month:02d}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"games": body}, separators=(",", ":")), encoding="utf-8")
        written.append(f"{year:04d}-{month:02d}")
    archives = [f"https://api.chess.com/pub/player/{player}/games/{m[:4]}/{m[5:]}" for m in written]
    (base / "archives.json").write_text(json.dumps({"archives": archives}), encoding="utf-8")
    return Corpus(root=root, player=player, games=games, months=written, seed=seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder to write <player>/... into")
    parser.add_argument("--games", type=int, default=50_000)
    parser.add_argument("--months", type=int, default=96)
    parser.add_argument("--player", default="benchplayer")
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    corpus = build_corpus(args.out, args.games, args.months, player=args.player, seed=args.seed)
    print(
        f"{corpus.games:,} games of {corpus.player} over {len(corpus.months)} months "
        f"({corpus.months[0]} to {corpus.months[-1]}) under {corpus.root}"
    )


if __name__ == "__main__":
    main()

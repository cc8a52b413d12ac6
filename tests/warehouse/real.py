"""A real fixture player (monthly JSON, or PGN wrapped as API game objects) parsed into frames."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import polars as pl


def fixture_players(fixtures: Path) -> list[str]:
    """Every player folder in the fixtures, including ones without games (afgano29)."""
    return sorted(p.name for p in fixtures.iterdir() if p.is_dir())


def _month_of(pgn: str) -> str:
    from transforms.pgn import parse_headers

    headers, _ = parse_headers(pgn)
    date = headers.get("UTCDate") or headers.get("EndDate") or headers.get("Date") or ""
    parts = date.split(".")
    if len(parts) == 3 and parts[0].isdigit() and parts[1].isdigit():
        return f"{parts[0]}-{parts[1]}"
    return "0000-00"


def parse_player(folder: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The player's games and moves frames from the real parser (transforms.archive)."""
    from transforms.archive import parse_month
    from transforms.pgn import split_pgn_games

    username = folder.name
    bodies: list[tuple[str, bytes]] = []
    json_months = sorted(folder.glob("[0-9][0-9][0-9][0-9]/[0-9][0-9].json"))
    for path in json_months:
        bodies.append((f"{path.parent.name}-{path.stem}", path.read_bytes()))
    if not json_months:  # fabianocaruana's PGN repeats his JSON month: JSON wins
        by_month: dict[str, list[dict[str, str]]] = defaultdict(list)
        for path in sorted(folder.glob("pgn/*.pgn")):
            text = path.read_text(encoding="utf-8", errors="replace")
            for pgn in split_pgn_games(text):
                by_month[_month_of(pgn)].append({"pgn": pgn})
        for month, games in sorted(by_month.items()):
            bodies.append((month, json.dumps({"games": games}).encode()))
    parsed = [parse_month(username, month, body) for month, body in bodies]
    if not parsed:
        from transforms.schema import GAMES_SCHEMA, MOVES_SCHEMA

        return pl.DataFrame(schema=GAMES_SCHEMA), pl.DataFrame(schema=MOVES_SCHEMA)
    return (
        pl.concat([p.games for p in parsed], how="vertical"),
        pl.concat([p.moves for p in parsed], how="vertical"),
    )

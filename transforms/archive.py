"""One Chess.com monthly archive body (JSON bytes) to the `games` and `moves` frames."""

from __future__ import annotations

import gzip
import json
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import chess
import polars as pl

from transforms import games as g
from transforms.divider import phase_boundaries, phase_expr
from transforms.pgn import (
    PLY_FIELDS,
    GameMoves,
    GameParseError,
    Ply,
    make_board,
    parse_headers,
    replay_movetext,
    replay_tcn,
    rules_from_variant,
)
from transforms.schema import GAMES_SCHEMA, MOVES_SCHEMA, conform, empty_frame


@dataclass(frozen=True)
class ParsedMonth:
    """The frames of one player's month, both conforming to the contract schemas."""

    games: pl.DataFrame
    moves: pl.DataFrame


class MalformedArchiveError(ValueError):
    """The month body is not JSON or not `{"games": [...]}`; the month fails as a whole."""


def _what_to_do(owner: str) -> str:
    # The old lake partition stays in place; the stored bytes must be replaced to move on.
    return (
        "the month keeps its previous lake data; replace the stored file: run "
        f"`chess-patterns refresh {owner} --full` (asks Chess.com for every month again) or "
        f"re-import the month with `chess-patterns import {owner} FILE`"
    )


def parse_month(username: str, month: str, body: bytes) -> ParsedMonth:
    """Parse one monthly archive body for the archive owner `username` (any case).

    A game that cannot be parsed still gets a `games` row, with `parse_error` saying why, and no
    `moves` rows; only a body that is not a JSON object with a `games` list raises.
    """
    owner = username.strip().lower()
    if body[:2] == b"\x1f\x8b":
        # A body stored exactly as received may still be gzip-encoded (chesscom-data.md §1).
        try:
            body = gzip.decompress(body)
        except (OSError, EOFError, zlib.error) as error:
            # zlib.error: a valid gzip header over a broken deflate stream (found by fuzzing).
            raise MalformedArchiveError(
                f"archive {owner} {month} is a broken gzip body ({error}); {_what_to_do(owner)}"
            ) from None
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise MalformedArchiveError(
            f"archive {owner} {month} is not JSON ({error}); {_what_to_do(owner)}"
        ) from None
    if not isinstance(document, dict) or not isinstance(document.get("games"), list):
        shape = type(document).__name__
        keys = sorted(document)[:5] if isinstance(document, dict) else []
        raise MalformedArchiveError(
            f'archive {owner} {month} is not {{"games": [...]}} (got a JSON {shape}'
            f"{' with keys ' + ', '.join(map(str, keys)) if keys else ''}); "
            f"{_what_to_do(owner)}"
        )
    rows: list[dict[str, Any]] = []
    replays: list[tuple[dict[str, Any], GameMoves]] = []
    seen: set[str] = set()
    for index, game in enumerate(document["games"]):
        row, moves = _parse_game(owner, month, index, game)
        # A game listed twice in one body counts once (games are keyed by uuid): the first copy
        # wins, with its own moves or its own parse error.
        if row["game_id"] in seen:
            continue
        seen.add(row["game_id"])
        rows.append(row)
        if moves is not None and moves.plies:
            replays.append((row, moves))
    games = (
        pl.DataFrame(rows, schema=GAMES_SCHEMA, orient="row") if rows else empty_frame(GAMES_SCHEMA)
    )
    return ParsedMonth(
        games=conform(games, GAMES_SCHEMA),
        moves=conform(_moves_frame(owner, replays), MOVES_SCHEMA),
    )


def _error_row(owner: str, month: str, index: int, game: object, message: str) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(GAMES_SCHEMA.names())
    data = game if isinstance(game, dict) else {}
    url = data.get("url") if isinstance(data.get("url"), str) else None
    text = json.dumps(game, sort_keys=True, default=str)[:100_000]
    row.update(
        game_id=g.game_id_for(data.get("uuid"), g.canonical_url(url), f"{month}#{index}#{text}"),
        username=owner,
        month=month,
        url=url,
        end_time=g.utc_from_unix(data.get("end_time")),
        parse_error=message[:500],
    )
    return row


def _parse_game(
    owner: str, month: str, index: int, game: object
) -> tuple[dict[str, Any], GameMoves | None]:
    if not isinstance(game, dict):
        return _error_row(owner, month, index, game, "game is not a JSON object"), None
    try:
        return _game_row(owner, month, index, game)
    except GameParseError as error:
        return _error_row(owner, month, index, game, str(error)), None
    except Exception as error:
        # One bad game must never stop its month: it becomes a row with parse_error.
        return _error_row(
            owner, month, index, game, f"unexpected {type(error).__name__}: {error}"
        ), None


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _game_row(
    owner: str, month: str, index: int, game: dict[str, Any]
) -> tuple[dict[str, Any], GameMoves | None]:
    pgn = game.get("pgn")
    headers, movetext = parse_headers(pgn) if isinstance(pgn, str) else ({}, "")
    white = game.get("white") if isinstance(game.get("white"), dict) else {}
    black = game.get("black") if isinstance(game.get("black"), dict) else {}
    assert isinstance(white, dict)
    assert isinstance(black, dict)

    white_name = _text(white.get("username")) or _text(headers.get("White"))
    black_name = _text(black.get("username")) or _text(headers.get("Black"))
    if white_name and white_name.lower() == owner:
        is_white = True
    elif black_name and black_name.lower() == owner:
        is_white = False
    else:
        ids = (str(white.get("@id", "")).lower(), str(black.get("@id", "")).lower())
        if ids[0].endswith(f"/{owner}"):
            is_white = True
        elif ids[1].endswith(f"/{owner}"):
            is_white = False
        else:
            raise GameParseError(
                f"archive owner {owner!r} is neither White ({white_name!r}) "
                f"nor Black ({black_name!r})"
            )
    me, them = (white, black) if is_white else (black, white)

    url = g.canonical_url(_text(game.get("url")) or _text(headers.get("Link")))
    if not g.is_game_url(url):
        site = g.canonical_url(_text(headers.get("Site")))
        url = site if g.is_game_url(site) else url
    time_control = _text(game.get("time_control")) or _text(headers.get("TimeControl"))
    base, inc, days = g.parse_time_control(time_control)
    rules = _text(game.get("rules")) or rules_from_variant(headers.get("Variant"))

    white_code = _text(white.get("result"))
    black_code = _text(black.get("result"))
    if not white_code or not black_code:
        white_code, black_code = g.codes_from_pgn(headers.get("Result"), headers.get("Termination"))
    code, opponent_code = (white_code, black_code) if is_white else (black_code, white_code)
    result, score = g.result_of(code)

    end_time = g.utc_from_unix(game.get("end_time")) or g.utc_from_pgn(
        headers.get("EndDate"), headers.get("EndTime")
    )
    start_time = g.utc_from_unix(game.get("start_time")) or g.utc_from_pgn(
        headers.get("UTCDate"), headers.get("UTCTime")
    )
    eco_url = _text(game.get("eco")) or _text(headers.get("ECOUrl"))
    family, variation = g.opening_from_url(eco_url)
    accuracies = game.get("accuracies") if isinstance(game.get("accuracies"), dict) else {}
    assert isinstance(accuracies, dict)
    color_key, other_key = ("white", "black") if is_white else ("black", "white")

    # The PGN's own FEN is what its moves were played from (Shredder castling for Chess960);
    # Chess.com's `initial_setup` is "" for 2020 games, so it only counts when non-empty.
    setup = _text(headers.get("FEN")) if headers.get("SetUp", "1") == "1" else None
    setup = setup or _text(game.get("initial_setup"))
    initial_fen = None if _is_standard_start(setup) else setup

    rating = g.int_or_none(me.get("rating"))
    opponent_rating = g.int_or_none(them.get("rating"))
    if rating is None:
        rating = g.int_or_none(headers.get("WhiteElo" if is_white else "BlackElo"))
    if opponent_rating is None:
        opponent_rating = g.int_or_none(headers.get("BlackElo" if is_white else "WhiteElo"))

    row: dict[str, Any] = {
        "game_id": g.game_id_for(game.get("uuid"), url, pgn if isinstance(pgn, str) else ""),
        "username": owner,
        "month": month,
        "url": url,
        "end_time": end_time,
        "start_time": start_time,
        "rules": rules,
        "rated": game.get("rated") if isinstance(game.get("rated"), bool) else None,
        "time_class": _text(game.get("time_class")) or g.time_class_for(time_control),
        "time_control": time_control,
        "base_seconds": base,
        "increment_seconds": inc,
        "days_per_move": days,
        "color": "white" if is_white else "black",
        "rating": rating,
        "opponent": black_name if is_white else white_name,
        "opponent_rating": opponent_rating,
        "result": result,
        "score": score,
        "result_code": code,
        "opponent_result_code": opponent_code,
        "termination": g.termination_of(code, opponent_code),
        "eco": _text(headers.get("ECO")),
        "opening_family": family,
        "opening_variation": variation,
        "eco_url": eco_url,
        "plies": None,
        "duration_seconds": _duration(start_time, end_time),
        "accuracy": g.float_or_none(accuracies.get(color_key)),
        "opponent_accuracy": g.float_or_none(accuracies.get(other_key)),
        "tournament": _text(game.get("tournament")) or _text(headers.get("Tournament")),
        "match": _text(game.get("match")) or _text(headers.get("Match")),
        "initial_fen": initial_fen,
        "parse_error": None,
    }
    try:
        board = make_board(rules, setup)
        if isinstance(pgn, str):
            moves = replay_movetext(movetext, board)
        elif isinstance(game.get("tcn"), str):
            moves = replay_tcn(game["tcn"], board)
        else:
            raise GameParseError("game has neither a pgn nor a tcn move list")
    except GameParseError as error:
        # The game-level facts read fine; only the moves are unusable: keep the row, no moves.
        row["parse_error"] = str(error)[:500]
        return row, None
    row["plies"] = len(moves.plies)
    return row, moves


def _is_standard_start(fen: str | None) -> bool:
    if not fen:
        return True
    parts = fen.split()
    board_part = parts[0].rstrip("/") if parts else ""
    turn = parts[1] if len(parts) > 1 else "w"
    castling = parts[2] if len(parts) > 2 else "KQkq"
    return board_part == chess.STARTING_BOARD_FEN and turn == "w" and castling == "KQkq"


def _duration(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    seconds = int((end - start).total_seconds())
    return seconds if 0 <= seconds < 2**31 else None


_PLY_SCHEMA = {
    "san": pl.Utf8,
    "from_sq": pl.Int8,
    "to_sq": pl.Int8,
    "piece": pl.Int8,
    "captured": pl.Int8,
    "promotion": pl.Int8,
    "drop": pl.Int8,
    "castling": pl.Int8,
    "white": pl.Boolean,
    "move_number": pl.Int32,
    "material": pl.Int32,
    "white_bb": pl.UInt64,
    "black_bb": pl.UInt64,
    "pieces_bb": pl.UInt64,
}
assert tuple(_PLY_SCHEMA) == PLY_FIELDS
_PIECE_LETTERS = {1: "p", 2: "n", 3: "b", 4: "r", 5: "q", 6: "k"}
_SQUARES = pl.Series("squares", chess.SQUARE_NAMES, pl.Utf8)
# The one `[%clk]` syntax: H:MM:SS(.s); daily games have hours beyond 9 (HH:MM:SS), and the
# website export may break the comment across a line, hence \s+.
_CLOCK_PATTERN = r"\[%clk\s+(\d+):(\d{1,2}):(\d{1,2}(?:\.\d*)?)\s*\]"


def _letter(name: str) -> pl.Expr:
    return pl.col(name).replace_strict(_PIECE_LETTERS, default=None, return_dtype=pl.Utf8)


def _uci() -> pl.Expr:
    to = pl.lit(_SQUARES).gather(pl.col("to_sq").cast(pl.Int64))
    frm = pl.lit(_SQUARES).gather(pl.col("from_sq").cast(pl.Int64))
    promo = _letter("promotion").fill_null("")
    drop = _letter("drop").str.to_uppercase()
    return (
        pl.when(pl.col("drop") > 0)
        .then(pl.concat_str([drop, pl.lit("@"), to]))
        .otherwise(pl.concat_str([frm, to, promo]))
    )


def _clock_seconds(name: str) -> pl.Expr:
    parts = pl.col(name).str.extract_groups(_CLOCK_PATTERN)
    return (
        parts.struct.field("1").cast(pl.Float64) * 3600
        + parts.struct.field("2").cast(pl.Float64) * 60
        + parts.struct.field("3").cast(pl.Float64)
    )


def ply_columns(moves: GameMoves) -> pl.DataFrame:
    """`san`, `uci` and `clock_seconds` of one replayed game, by the very expressions the moves
    frame is built with (for tests and tools that look at one game)."""
    frame = pl.DataFrame(moves.plies, schema=_PLY_SCHEMA, orient="row").with_columns(
        comment=pl.Series(moves.comment, dtype=pl.Utf8)
    )
    return frame.select("san", uci=_uci(), clock_seconds=_clock_seconds("comment"))


def _moves_frame(owner: str, replays: list[tuple[dict[str, Any], GameMoves]]) -> pl.DataFrame:
    """All plies of the month in one frame; derived columns are computed vectorised."""
    if not replays:
        return empty_frame(MOVES_SCHEMA)
    plies: list[Ply] = []
    comments: list[str | None] = []
    ply_keys: list[int] = []
    ply_numbers: list[int] = []
    starts: list[tuple[int, int, int]] = []
    game_keys: list[int] = []
    game_ids: list[str] = []
    owner_white: list[bool] = []
    bases: list[int | None] = []
    incs: list[int | None] = []
    for key, (row, moves) in enumerate(replays):
        game_keys.append(key)
        game_ids.append(row["game_id"])
        owner_white.append(row["color"] == "white")
        bases.append(row["base_seconds"])
        incs.append(row["increment_seconds"])
        starts.append(moves.start)
        n = len(moves.plies)
        plies.extend(moves.plies)
        comments.extend(moves.comment)
        ply_keys.extend([key] * n)
        ply_numbers.extend(range(1, n + 1))
    per_game = pl.DataFrame(
        {
            "game_key": game_keys,
            "game_id": game_ids,
            "owner_white": owner_white,
            "base": bases,
            "inc": incs,
        },
        schema={
            "game_key": pl.Int64,
            "game_id": pl.Utf8,
            "owner_white": pl.Boolean,
            "base": pl.Int32,
            "inc": pl.Int32,
        },
    )
    frame = pl.DataFrame(plies, schema=_PLY_SCHEMA, orient="row").with_columns(
        game_key=pl.Series(ply_keys, dtype=pl.Int64),
        ply=pl.Series(ply_numbers, dtype=pl.Int32),
        comment=pl.Series(comments, dtype=pl.Utf8),
    )
    start_frame = pl.DataFrame(
        starts,
        schema={"white_bb": pl.UInt64, "black_bb": pl.UInt64, "pieces_bb": pl.UInt64},
        orient="row",
    ).with_columns(game_key=pl.Series(game_keys, dtype=pl.Int64), index=pl.lit(0, pl.Int32))
    bitboards = ["game_key", "index", "white_bb", "black_bb", "pieces_bb"]
    positions = pl.concat(
        [
            start_frame.select(bitboards),
            frame.select("game_key", pl.col("ply").alias("index"), *bitboards[2:]),
        ]
    )
    bounds = phase_boundaries(positions)
    frame = (
        frame.join(per_game, on="game_key", how="left")
        .join(bounds, on="game_key", how="left")
        .with_columns(
            piece=_letter("piece"),
            captured=_letter("captured"),
            promotion=_letter("promotion"),
            uci=_uci(),
            castling=pl.col("castling").replace_strict(
                {1: "kingside", 2: "queenside"}, default=None, return_dtype=pl.Utf8
            ),
            is_mate=pl.col("san").str.ends_with("#"),
            is_check=pl.col("san").str.ends_with("+") | pl.col("san").str.ends_with("#"),
            clock_seconds=_clock_seconds("comment"),
        )
    )
    # Time spent = previous own clock - this clock + increment; a side's first move starts from
    # the base time. Daily games (no base) and moves without a clock stay null.
    own_seq = pl.int_range(pl.len()).over(["game_key", "white"])
    previous = pl.col("clock_seconds").shift(1).over(["game_key", "white"])
    previous = pl.when(own_seq == 0).then(pl.col("base").cast(pl.Float64)).otherwise(previous)
    total = pl.col("base") + 40 * pl.col("inc")
    frame = frame.sort(["game_key", "ply"]).with_columns(
        username=pl.lit(owner),
        color=pl.when(pl.col("white")).then(pl.lit("white")).otherwise(pl.lit("black")),
        is_player_move=pl.col("white") == pl.col("owner_white"),
        time_spent_seconds=(previous - pl.col("clock_seconds") + pl.col("inc")),
        clock_share=pl.when(total > 0).then(pl.col("clock_seconds") / total.cast(pl.Float64)),
        material_balance=pl.when(pl.col("owner_white"))
        .then(pl.col("material"))
        .otherwise(-pl.col("material"))
        .cast(pl.Int32),
        phase=phase_expr("ply", "middle", "end"),
    )
    return frame.select(MOVES_SCHEMA.names())

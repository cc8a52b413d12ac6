"""Fast PGN and TCN move extraction: replay with python-chess, keep only what the frames need."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

import chess
import chess.variant

STANDARD_BOARD_FEN = chess.STARTING_BOARD_FEN

# P1 N3 B3 R5 Q9; the king is never captured, so it counts 0.
PIECE_VALUES = (0, 1, 3, 3, 5, 9, 0)
PIECE_LETTERS = (None, "p", "n", "b", "r", "q", "k")

_HEADER_RE = re.compile(r'\[\s*([A-Za-z0-9_]+)\s+"((?:[^"\\]|\\.)*)"\s*\]')
# One alternation over the whole movetext: comment | open | close | result | SAN-ish token.
# Move numbers, NAGs, ";" rest-of-line comments and "%" escapes match with every group empty.
_TOKEN_RE = re.compile(
    r"(\{[^}]*\}?)"
    r"|(\()|(\))"
    r"|(1-0|0-1|1/2-1/2|\*)(?![^\s)(])"
    r"|\d+\.+"
    r"|\$\d+|;[^\n]*|^%[^\n]*"
    r"|([^\s{}();$]+)",
    re.MULTILINE,
)
# Chess.com writes H:MM:SS(.s) and, for daily games, hours beyond 9 (HH:MM:SS); the website
# export may break the comment across a line, hence \s+.
_CLOCK_RE = re.compile(r"\[%clk\s+(\d+):(\d{1,2}):(\d{1,2}(?:\.\d*)?)\s*\]")

# Chess.com's TCN alphabet: index = python-chess square index (a1=0 .. h8=63); indexes above 63
# in the target encode promotions, and a source index above 75 encodes a crazyhouse drop.
# The published alphabet has "+" twice (indexes 82 and 83); a drop's "+" is the bishop (82).
_TCN_ALPHABET = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!?{~}(^)[_]@#$,./&-*++="
)
_TCN_INDEX = {ch: i for i, ch in reversed(list(enumerate(_TCN_ALPHABET)))}
_TCN_PIECES = "qnrbkp"
_TCN_PIECE_TYPES = {
    "q": chess.QUEEN,
    "n": chess.KNIGHT,
    "r": chess.ROOK,
    "b": chess.BISHOP,
    "k": chess.KING,
    "p": chess.PAWN,
}

_VARIANT_HEADER_TO_RULES = {
    "chess960": "chess960",
    "fischerandom": "chess960",
    "fischer random": "chess960",
    "crazyhouse": "crazyhouse",
    "bughouse": "bughouse",
    "king of the hill": "kingofthehill",
    "kingofthehill": "kingofthehill",
    "three-check": "threecheck",
    "threecheck": "threecheck",
    "3-check": "threecheck",
    "odds chess": "oddschess",
    "oddschess": "oddschess",
}


class GameParseError(ValueError):
    """One game cannot be replayed; the message becomes the game's `parse_error`."""


@dataclass(slots=True)
class GameMoves:
    """Per-ply columns of one replayed game (lists aligned by ply), plus the final position."""

    san: list[str] = field(default_factory=list)
    uci: list[str] = field(default_factory=list)
    piece: list[str] = field(default_factory=list)
    captured: list[str | None] = field(default_factory=list)
    is_check: list[bool] = field(default_factory=list)
    is_mate: list[bool] = field(default_factory=list)
    castling: list[str | None] = field(default_factory=list)
    promotion: list[str | None] = field(default_factory=list)
    clock: list[float | None] = field(default_factory=list)
    white: list[bool] = field(default_factory=list)
    move_number: list[int] = field(default_factory=list)
    # White's material minus Black's after each ply.
    material: list[int] = field(default_factory=list)
    # Bitboards after each ply, and of the start position, for the Divider (phase) pass.
    white_bb: list[int] = field(default_factory=list)
    black_bb: list[int] = field(default_factory=list)
    pieces_bb: list[int] = field(default_factory=list)
    final_board_fen: str = ""
    final_turn_white: bool = True


def parse_headers(pgn: str) -> tuple[dict[str, str], str]:
    """Split one game's PGN into its tag pairs and its movetext (tolerates junk lines)."""
    headers: dict[str, str] = {}
    pos = 0
    length = len(pgn)
    while pos < length:
        end = pgn.find("\n", pos)
        if end < 0:
            end = length
        line = pgn[pos:end].strip()
        if line.startswith("["):
            match = _HEADER_RE.match(line)
            if match is None:
                break
            headers.setdefault(match.group(1), match.group(2).replace('\\"', '"'))
        elif line and not line.startswith("%"):
            break
        pos = end + 1
    return headers, pgn[pos:] if pos < length else ""


def split_pgn_games(text: str) -> list[str]:
    """Split a multi-game PGN file into games.

    Splits at every `[Event ` that starts a line, not at blank lines: some real files have no
    blank line between games (chesscom-data.md §8.16) and the API uses one or two.
    """
    starts = [m.start() for m in re.finditer(r"^\[Event ", text, re.MULTILINE)]
    if not starts:
        return [text] if text.strip() else []
    if text[: starts[0]].strip():
        starts.insert(0, 0)
    bounds = [*starts, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds) if text[a:b].strip()]


def parse_clock(comment: str) -> float | None:
    """Seconds on the clock from a `[%clk H:MM:SS.s]` comment, or None."""
    match = _CLOCK_RE.search(comment)
    if match is None:
        return None
    return int(match.group(1)) * 3600 + int(match.group(2)) * 60 + float(match.group(3))


def rules_from_variant(variant: str | None) -> str:
    """Chess.com `rules` value for a PGN `[Variant]` header."""
    if not variant:
        return "chess"
    return _VARIANT_HEADER_TO_RULES.get(variant.strip().lower(), variant.strip().lower())


def make_board(rules: str, fen: str | None) -> chess.Board:
    """A python-chess board with the game's own rules, set up from `fen` (None = standard start)."""
    cls: type[chess.Board]
    if rules in ("crazyhouse", "bughouse"):
        cls = chess.variant.CrazyhouseBoard
    elif rules == "kingofthehill":
        cls = chess.variant.KingOfTheHillBoard
    elif rules == "threecheck":
        cls = chess.variant.ThreeCheckBoard
    elif rules in ("chess", "chess960", "oddschess"):
        cls = chess.Board
    else:
        raise GameParseError(f"unsupported rules {rules!r}")
    chess960 = rules == "chess960"
    if fen is None or not fen.strip():
        return cls(chess960=chess960)
    fen = fen.strip()
    try:
        return cls(fen, chess960=chess960)
    except ValueError:
        # Crazyhouse FENs from Chess.com end the board with "/" and an (empty) pocket section.
        board_part, _, rest = fen.partition(" ")
        if board_part.count("/") == 8:
            board_part, _, pocket = board_part.rpartition("/")
            try:
                board = cls(f"{board_part} {rest}", chess960=chess960)
            except ValueError as error:
                raise GameParseError(f"bad initial FEN {fen!r}: {error}") from error
            if pocket and isinstance(board, chess.variant.CrazyhouseBoard):
                for ch in pocket:
                    piece = chess.Piece.from_symbol(ch)
                    board.pockets[piece.color].add(piece.piece_type)
            return board
        try:
            cls(fen, chess960=chess960)
        except ValueError as error:
            raise GameParseError(f"bad initial FEN {fen!r}: {error}") from error
        raise


def _record(
    out: GameMoves,
    board: chess.Board,
    move: chess.Move,
    san: str,
    material: int,
) -> int:
    """Append one ply's facts (board is BEFORE the move); push it; return the new material."""
    turn = board.turn
    to_sq = move.to_square
    drop = move.drop
    piece_type = drop or board.piece_type_at(move.from_square) or 0
    captured = None
    castling = None
    gain = 0
    if drop:
        gain = PIECE_VALUES[drop]
    elif board.occupied_co[not turn] & (1 << to_sq):
        cap_type = board.piece_type_at(to_sq) or 0
        captured = PIECE_LETTERS[cap_type]
        gain = PIECE_VALUES[cap_type]
    elif piece_type == chess.PAWN and to_sq == board.ep_square and (to_sq - move.from_square) % 8:
        captured = "p"
        gain = 1
    elif piece_type == chess.KING and (
        abs((to_sq & 7) - (move.from_square & 7)) > 1 or board.occupied_co[turn] & (1 << to_sq)
    ):
        castling = "kingside" if (to_sq & 7) > (move.from_square & 7) else "queenside"
    promo = move.promotion
    if promo:
        gain += PIECE_VALUES[promo] - 1
    out.move_number.append(board.fullmove_number)
    board.push(move)
    material = material + gain if turn else material - gain
    out.san.append(san)
    out.uci.append(move.uci())
    out.piece.append(PIECE_LETTERS[piece_type] or "?")
    out.captured.append(captured)
    out.castling.append(castling)
    out.promotion.append(PIECE_LETTERS[promo] if promo else None)
    out.white.append(turn)
    mate = san.endswith("#")
    out.is_mate.append(mate)
    out.is_check.append(mate or san.endswith("+"))
    out.material.append(material)
    white_bb = board.occupied_co[chess.WHITE]
    black_bb = board.occupied_co[chess.BLACK]
    out.white_bb.append(white_bb)
    out.black_bb.append(black_bb)
    out.pieces_bb.append((white_bb | black_bb) & ~(board.kings | board.pawns))
    return material


def _start(out: GameMoves, board: chess.Board) -> int:
    """Record the start position's bitboards (index 0 for the Divider) and its material."""
    white_bb = board.occupied_co[chess.WHITE]
    black_bb = board.occupied_co[chess.BLACK]
    out.white_bb.append(white_bb)
    out.black_bb.append(black_bb)
    out.pieces_bb.append((white_bb | black_bb) & ~(board.kings | board.pawns))
    material = 0
    for piece_type in (chess.PAWN, chess.KNIGHT, chess.BISHOP, chess.ROOK, chess.QUEEN):
        value = PIECE_VALUES[piece_type]
        material += value * len(board.pieces(piece_type, chess.WHITE))
        material -= value * len(board.pieces(piece_type, chess.BLACK))
    return material


def _finish(out: GameMoves, board: chess.Board) -> GameMoves:
    out.final_board_fen = board.board_fen()
    out.final_turn_white = board.turn == chess.WHITE
    return out


def start_material(board: chess.Board) -> int:
    """White's material minus Black's on `board` (P1 N3 B3 R5 Q9)."""
    return _start(GameMoves(), board)


def replay_movetext(movetext: str, board: chess.Board) -> GameMoves:
    """Replay a PGN movetext's main line on `board`, collecting per-ply facts and clocks.

    Skips building a game tree: the SAN text is kept as written, check and mate come from its
    suffix, and variations are skipped. Raises GameParseError at the first illegal move.
    """
    out = GameMoves()
    material = _start(out, board)
    clocks = out.clock
    depth = 0
    parse_san = board.parse_san
    for comment, opening, closing, result, token in _TOKEN_RE.findall(movetext):
        if depth:
            if opening:
                depth += 1
            elif closing:
                depth -= 1
            continue
        if token:
            san = token.rstrip("!?")
            if not san:
                continue
            try:
                move = parse_san(san)
            except ValueError as error:
                raise GameParseError(
                    f"illegal or unreadable move {token[:40]!r} at ply {len(clocks) + 1}: {error}"
                ) from None
            if not move:
                raise GameParseError(f"null move {token[:40]!r} at ply {len(clocks) + 1}")
            material = _record(out, board, move, san, material)
            clocks.append(None)
        elif comment:
            if clocks and clocks[-1] is None and "%clk" in comment:
                clocks[-1] = parse_clock(comment)
        elif opening:
            depth = 1
        elif result:
            break
    return _finish(out, board)


def decode_tcn(tcn: str) -> list[tuple[int, int, int | None, int | None]]:
    """Chess.com TCN to (from, to, promotion, drop) tuples; raises GameParseError on bad text."""
    if len(tcn) % 2:
        raise GameParseError(f"tcn has odd length {len(tcn)}")
    moves: list[tuple[int, int, int | None, int | None]] = []
    for i in range(0, len(tcn), 2):
        a = _TCN_INDEX.get(tcn[i])
        b = _TCN_INDEX.get(tcn[i + 1])
        if a is None or b is None:
            raise GameParseError(f"tcn has an unknown character at {i}")
        if a > 75:
            piece = _TCN_PIECE_TYPES[_TCN_PIECES[a - 79]] if 79 <= a < 85 else None
            if piece is None or b > 63:
                raise GameParseError(f"tcn has a bad drop at {i}")
            moves.append((b, b, None, piece))
        elif b > 63:
            if a > 63:
                raise GameParseError(f"tcn has a bad promotion at {i}")
            promo = _TCN_PIECE_TYPES[_TCN_PIECES[(b - 64) // 3]]
            to = a + (-8 if a < 16 else 8) + (b - 1) % 3 - 1
            moves.append((a, to, promo, None))
        else:
            moves.append((a, b, None, None))
    return moves


def _tcn_castle(board: chess.Board, move: chess.Move) -> chess.Move:
    """The castling move a TCN king move means, if any (python-chess wants king-takes-rook)."""
    for candidate in board.generate_castling_moves():
        if candidate.from_square != move.from_square:
            continue
        kingside = (candidate.to_square & 7) > (move.from_square & 7)
        target_file = 6 if kingside else 2
        if candidate.to_square == move.to_square or (
            (move.to_square & 7) == target_file and (move.to_square >> 3) == (move.from_square >> 3)
        ):
            return candidate
    return move


def replay_tcn(tcn: str, board: chess.Board) -> GameMoves:
    """Replay a TCN move list (no clocks) on `board`, collecting the same per-ply facts."""
    out = GameMoves()
    material = _start(out, board)
    for ply, (from_sq, to_sq, promo, drop) in enumerate(decode_tcn(tcn), start=1):
        move = chess.Move(from_sq, to_sq, promotion=promo, drop=drop)
        if (
            drop is None
            and board.kings & (1 << from_sq)
            and (board.chess960 or not board.is_legal(move))
        ):
            move = _tcn_castle(board, move)
        if not board.is_legal(move):
            raise GameParseError(f"illegal tcn move {move.uci()} at ply {ply}")
        san = board.san(move)
        material = _record(out, board, move, san, material)
        out.clock.append(None)
    return _finish(out, board)

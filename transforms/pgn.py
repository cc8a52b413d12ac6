"""Fast PGN and TCN move extraction: replay with python-chess, keep only what the frames need."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

import chess
import chess.variant

# P1 N3 B3 R5 Q9; the king is never captured, so it counts 0.
PIECE_VALUES = (0, 1, 3, 3, 5, 9, 0)

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
    # Lichess exports name the standard game too.
    "standard": "chess",
    "chess": "chess",
    "from position": "chess",
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


# One ply: SAN, from, to, piece, captured, promotion, drop (piece types, 0 = none), castling
# (0 none, 1 kingside, 2 queenside), mover is White, move number, White-minus-Black material
# after the ply, and the White / Black / non-king-non-pawn bitboards after it (for the Divider).
Ply = tuple[str, int, int, int, int, int, int, int, bool, int, int, int, int, int]
PLY_FIELDS = (
    "san",
    "from_sq",
    "to_sq",
    "piece",
    "captured",
    "promotion",
    "drop",
    "castling",
    "white",
    "move_number",
    "material",
    "white_bb",
    "black_bb",
    "pieces_bb",
)


@dataclass(slots=True)
class GameMoves:
    """The plies of one replayed game, their clock comments, and the start position.

    Squares stay ints and clock comments stay text: UCI strings and clock seconds are built for
    a whole month at once in Polars, which is cheaper than per ply in Python.
    """

    plies: list[Ply] = field(default_factory=list)
    comment: list[str | None] = field(default_factory=list)
    # White / Black / non-king-non-pawn bitboards of the start position.
    start: tuple[int, int, int] = (0, 0, 0)


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


def rules_from_variant(variant: str | None) -> str:
    """Chess.com `rules` value for a PGN `[Variant]` header."""
    if not variant:
        return "chess"
    return _VARIANT_HEADER_TO_RULES.get(variant.strip().lower(), variant.strip().lower())


def make_board(rules: str, fen: str | None) -> chess.Board:
    """A python-chess board with the game's own rules, set up from `fen` (None = standard start)."""
    board = _make_board(rules, fen)
    # Move numbers are stored as Int32; an absurd FEN counter must not break the month's frame.
    if not 0 < board.fullmove_number < 1_000_000:
        raise GameParseError(f"bad initial FEN {fen!r}: move number {board.fullmove_number}")
    return board


def _make_board(rules: str, fen: str | None) -> chess.Board:
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


_SQUARE_INDEX = {name: i for i, name in enumerate(chess.SQUARE_NAMES)}
_SAN_PIECES = {"N": chess.KNIGHT, "B": chess.BISHOP, "R": chess.ROOK, "Q": chess.QUEEN}
_FILE_INDEX = {ch: i for i, ch in enumerate("abcdefgh")}
_RANK_INDEX = {ch: i for i, ch in enumerate("12345678")}
_BB_SQUARES = chess.BB_SQUARES
_BB_BACKRANKS = chess.BB_BACKRANKS
_BB_RAYS = chess.BB_RAYS
_BB_KNIGHT_ATTACKS = chess.BB_KNIGHT_ATTACKS
_BB_KING_ATTACKS = chess.BB_KING_ATTACKS
_BB_DIAG_ATTACKS = chess.BB_DIAG_ATTACKS
_BB_DIAG_MASKS = chess.BB_DIAG_MASKS
_BB_RANK_ATTACKS = chess.BB_RANK_ATTACKS
_BB_RANK_MASKS = chess.BB_RANK_MASKS
_BB_FILE_ATTACKS = chess.BB_FILE_ATTACKS
_BB_FILE_MASKS = chess.BB_FILE_MASKS
_BB_FILES = chess.BB_FILES
_BB_RANKS = chess.BB_RANKS

# (from, to, piece type, captured type, promotion, drop, castling) of one ply.
Step = tuple[int, int, int, int, int, int, int]


def _fast_push(board: chess.Board, san: str) -> Step | None:
    """Resolve and play a plain SAN move without generating legal moves, or return None.

    Handles the bulk of real moves (pawn pushes and captures, N/B/R/Q moves with one candidate)
    when the side to move is not in check; everything else (king moves, castling, promotions,
    en passant, ambiguous or pinned candidates, junk) is left to python-chess' own parse_san.
    The legality test is exact: not in check, and the mover is not pinned off its line.
    """
    text = san[:-1] if san[-1] in "+#" else san
    n = len(text)
    turn = board.turn
    own = board.occupied_co[turn]
    theirs = board.occupied_co[not turn]
    occupied = own | theirs
    first = text[0]
    captured = 0
    double = False
    if first in _FILE_INDEX:
        piece = chess.PAWN
        pawns = board.pawns & own
        if n == 2:
            to = _SQUARE_INDEX.get(text)
            if to is None:
                return None
            to_bb = _BB_SQUARES[to]
            if occupied & to_bb or to_bb & _BB_BACKRANKS:
                return None
            frm = to - 8 if turn else to + 8
            if not pawns & _BB_SQUARES[frm]:
                if occupied & _BB_SQUARES[frm]:
                    return None
                frm = frm - 8 if turn else frm + 8
                if not 0 <= frm < 64 or not pawns & _BB_SQUARES[frm]:
                    return None
                if (frm >> 3) != (1 if turn else 6):
                    return None
                double = True
        elif n == 4 and text[1] == "x":
            to = _SQUARE_INDEX.get(text[2:])
            if to is None:
                return None
            to_bb = _BB_SQUARES[to]
            if not theirs & to_bb or to_bb & _BB_BACKRANKS:
                return None
            file = _FILE_INDEX[first]
            if abs(file - (to & 7)) != 1:
                return None
            frm = (to - 8 if turn else to + 8) - (to & 7) + file
            if not pawns & _BB_SQUARES[frm]:
                return None
            captured = board.piece_type_at(to) or 0
        else:
            return None
    elif first == "K":
        return _fast_king(board, text, turn, own, theirs, occupied)
    else:
        piece = _SAN_PIECES.get(first, 0)
        if not piece:
            return None
        body = text[1:]
        is_capture = "x" in body
        if is_capture:
            body = body.replace("x", "", 1)
        to = _SQUARE_INDEX.get(body[-2:])
        if to is None:
            return None
        to_bb = _BB_SQUARES[to]
        if own & to_bb or bool(theirs & to_bb) != is_capture:
            return None
        if piece == chess.KNIGHT:
            candidates = _BB_KNIGHT_ATTACKS[to] & board.knights
        else:
            attacks = 0
            if piece != chess.ROOK:
                attacks = _BB_DIAG_ATTACKS[to][_BB_DIAG_MASKS[to] & occupied]
            if piece != chess.BISHOP:
                attacks |= (
                    _BB_RANK_ATTACKS[to][_BB_RANK_MASKS[to] & occupied]
                    | _BB_FILE_ATTACKS[to][_BB_FILE_MASKS[to] & occupied]
                )
            if piece == chess.BISHOP:
                candidates = attacks & board.bishops
            elif piece == chess.ROOK:
                candidates = attacks & board.rooks
            else:
                candidates = attacks & board.queens
        candidates &= own
        for ch in body[:-2]:
            if ch in _FILE_INDEX:
                candidates &= _BB_FILES[_FILE_INDEX[ch]]
            elif ch in _RANK_INDEX:
                candidates &= _BB_RANKS[_RANK_INDEX[ch]]
            else:
                return None
        if not candidates or candidates & (candidates - 1):
            return None
        frm = candidates.bit_length() - 1
        if is_capture:
            captured = board.piece_type_at(to) or 0
    if captured == chess.KING:
        return None
    kings = board.kings & own
    if not kings or kings & (kings - 1):
        return None
    king = kings.bit_length() - 1
    if board.attackers_mask(not turn, king):
        return None
    from_bb = _BB_SQUARES[frm]
    if (
        _BB_RAYS[king][frm]
        and board._slider_blockers(king) & from_bb
        and not _BB_RAYS[frm][to] & kings
    ):
        return None
    # The same state changes as Board.push for a quiet move or a plain capture, without the
    # undo stack (never popped here).
    board.ep_square = None
    if piece == chess.PAWN or captured:
        board.halfmove_clock = 0
    else:
        board.halfmove_clock += 1
    if not turn:
        board.fullmove_number += 1
    promoted = bool(board.promoted & from_bb)
    board._remove_piece_at(frm)
    board._set_piece_at(to, piece, turn, promoted)
    board.castling_rights &= ~to_bb & ~from_bb
    if double:
        board.ep_square = frm + 8 if turn else frm - 8
    board.turn = not turn
    return frm, to, piece, captured, 0, 0, 0


def _fast_king(
    board: chess.Board, text: str, turn: bool, own: int, theirs: int, occupied: int
) -> Step | None:
    """A plain king step (not castling): legal when no enemy piece attacks the target square
    with the king already lifted off its square."""
    body = text[1:]
    is_capture = "x" in body
    if is_capture:
        body = body.replace("x", "", 1)
    to = _SQUARE_INDEX.get(body)
    if to is None:
        return None
    to_bb = _BB_SQUARES[to]
    if own & to_bb or bool(theirs & to_bb) != is_capture:
        return None
    kings = board.kings & own
    if not kings or kings & (kings - 1):
        return None
    frm = kings.bit_length() - 1
    if not _BB_KING_ATTACKS[frm] & to_bb:
        return None
    if board.attackers_mask(not turn, to, occupied ^ kings):
        return None
    captured = board.piece_type_at(to) or 0 if is_capture else 0
    if captured == chess.KING:
        return None
    board.ep_square = None
    if captured:
        board.halfmove_clock = 0
    else:
        board.halfmove_clock += 1
    if not turn:
        board.fullmove_number += 1
    board._remove_piece_at(frm)
    board._set_piece_at(to, chess.KING, turn)
    board.castling_rights &= ~to_bb & ~kings & ~(chess.BB_RANK_1 if turn else chess.BB_RANK_8)
    board.turn = not turn
    return frm, to, chess.KING, captured, 0, 0, 0


def _slow_push(board: chess.Board, move: chess.Move) -> Step:
    """Play an already legal move with Board.push, describing it first."""
    turn = board.turn
    frm = move.from_square
    to = move.to_square
    drop = move.drop or 0
    piece = drop or board.piece_type_at(frm) or 0
    captured = 0
    castling = 0
    if drop:
        pass
    elif board.occupied_co[not turn] & _BB_SQUARES[to]:
        captured = board.piece_type_at(to) or 0
    elif piece == chess.PAWN and to == board.ep_square and (to - frm) % 8:
        captured = chess.PAWN
    elif piece == chess.KING and (
        abs((to & 7) - (frm & 7)) > 1 or board.occupied_co[turn] & _BB_SQUARES[to]
    ):
        castling = 1 if (to & 7) > (frm & 7) else 2
    board.push(move)
    return frm, to, piece, captured, move.promotion or 0, drop, castling


def _append(out: GameMoves, board: chess.Board, step: Step, san: str, material: int) -> int:
    """Append one played ply (board is AFTER the move); return the new material balance."""
    frm, to, piece, captured, promo, drop, castling = step
    gain = PIECE_VALUES[captured]
    if promo:
        gain += PIECE_VALUES[promo] - 1
    if drop:
        gain += PIECE_VALUES[drop]
    black_bb, white_bb = board.occupied_co  # indexed by color: [BLACK, WHITE]
    if board.turn:
        material -= gain
        number = board.fullmove_number - 1
    else:
        material += gain
        number = board.fullmove_number
    out.plies.append(
        (
            san,
            frm,
            to,
            piece,
            captured,
            promo,
            drop,
            castling,
            not board.turn,
            number,
            material,
            white_bb,
            black_bb,
            (white_bb | black_bb) & ~(board.kings | board.pawns),
        )
    )
    return material


def _start(out: GameMoves, board: chess.Board) -> int:
    """Record the start position's bitboards (index 0 for the Divider) and its material."""
    black_bb, white_bb = board.occupied_co  # indexed by color: [BLACK, WHITE]
    out.start = (white_bb, black_bb, (white_bb | black_bb) & ~(board.kings | board.pawns))
    return start_material(board)


def start_material(board: chess.Board) -> int:
    """White's material minus Black's on `board` (P1 N3 B3 R5 Q9)."""
    material = 0
    for piece_type in (chess.PAWN, chess.KNIGHT, chess.BISHOP, chess.ROOK, chess.QUEEN):
        value = PIECE_VALUES[piece_type]
        material += value * len(board.pieces(piece_type, chess.WHITE))
        material -= value * len(board.pieces(piece_type, chess.BLACK))
    return material


def replay_movetext(movetext: str, board: chess.Board) -> GameMoves:
    """Replay a PGN movetext's main line on `board`, collecting per-ply facts and clock comments.

    Skips building a game tree: the SAN text is kept as written, check and mate come from its
    suffix, variations are skipped. Raises GameParseError at the first illegal move.
    """
    out = GameMoves()
    material = _start(out, board)
    comments = out.comment
    depth = 0
    parse_san = board.parse_san
    # Board.push keeps variant state (pockets, check counts) that the fast path does not.
    fast = type(board) is chess.Board
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
            step = _fast_push(board, san) if fast else None
            if step is None:
                try:
                    move = parse_san(san)
                except ValueError as error:
                    raise GameParseError(
                        f"illegal or unreadable move {token[:40]!r} at ply {len(comments) + 1}: "
                        f"{error}"
                    ) from None
                if not move:
                    raise GameParseError(f"null move {token[:40]!r} at ply {len(comments) + 1}")
                step = _slow_push(board, move)
            material = _append(out, board, step, san, material)
            comments.append(None)
        elif comment:
            if comments and comments[-1] is None and "%clk" in comment:
                comments[-1] = comment
        elif opening:
            depth = 1
        elif result:
            break
    return out


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
    """The castling move a TCN king move means, if any.

    Chess.com writes a castle either as king-to-target (e1g1) or as king-takes-rook (e1h1, also
    in standard games); python-chess wants e1g1 in standard chess and king-takes-rook in 960.
    """
    frm = move.from_square
    to = move.to_square
    if (to >> 3) != (frm >> 3):
        return move
    onto_own_rook = bool(board.rooks & board.occupied_co[board.turn] & _BB_SQUARES[to])
    for candidate in board.generate_castling_moves():
        if candidate.from_square != frm:
            continue
        if candidate.to_square == to:
            return candidate
        kingside = board.is_kingside_castling(candidate)
        if onto_own_rook:
            if ((to & 7) > (frm & 7)) == kingside:
                return candidate
        elif (to & 7) == (6 if kingside else 2):
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
            and (board.chess960 or abs((to_sq & 7) - (from_sq & 7)) > 1)
        ):
            move = _tcn_castle(board, move)
        if not board.is_legal(move):
            raise GameParseError(f"illegal tcn move {move.uci()} at ply {ply}")
        san = board.san(move)
        material = _append(out, board, _slow_push(board, move), san, material)
        out.comment.append(None)
    return out

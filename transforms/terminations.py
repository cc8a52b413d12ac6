"""How a game ended: the final position first, then the Termination text in any language."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import chess
import polars as pl

PHRASES_FILE = Path(__file__).with_name("termination_phrases.json")

# The category of a game whose Termination text names no reason we can read (in no language of
# the phrase table, or no header at all) and whose final position decides nothing either.
UNKNOWN = "unknown"
# The final position decides these in every language; the text only decides what it cannot show.
BOARD_ENDINGS = ("checkmate", "stalemate", "insufficient")
# Rules whose final position python-chess judges exactly as Chess.com does for these three.
_BOARD_RULES = frozenset({"chess", "chess960", "oddschess"})


@dataclass(frozen=True)
class Phrase:
    """One piece of Chess.com wording and the non-winning side's code it stands for."""

    lang: str
    text: str
    code: str
    example: str | None


def load_phrases(path: Path = PHRASES_FILE) -> tuple[Phrase, ...]:
    """The phrase table, in matching order (languages in file order, phrases in theirs)."""
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return tuple(
        Phrase(lang["lang"], p["text"].casefold(), p["code"], p.get("example"))
        for lang in document["languages"]
        for p in lang["phrases"]
    )


PHRASES = load_phrases()


def termination_reason(text: str | None, winner: str | None = None) -> str | None:
    """The per-side code a Termination header names, in any language of the table, or None.

    The winner's name (the only one Chess.com writes) is taken out first, once: a username such
    as "timeout99" or "abandono" must not decide the reason.
    """
    if not text:
        return None
    folded = f" {text.casefold()} "
    if winner:
        folded = folded.replace(f" {winner.casefold()} ", " \x00 ", 1)
    # English "X won by ...": whatever precedes " won " is the winner's name.
    if " won " in folded:
        folded = folded.split(" won ", 1)[1]
    return next((p.code for p in PHRASES if p.text in folded), None)


def winner_name(result: str | None, white: str | None, black: str | None) -> str | None:
    """The name a Termination text may carry: the winner's, from the PGN Result."""
    return white if result == "1-0" else black if result == "0-1" else None


@dataclass(frozen=True)
class BoardEnding:
    """What the final position says: checkmate (and who is mated), stalemate or insufficient;
    or, not proven but a structural clue, timevsinsufficient (see board_ending)."""

    kind: str
    mated_is_white: bool | None = None
    proven: bool = True

    def codes(self) -> tuple[str, str]:
        """(White's code, Black's code) as Chess.com writes them for this ending."""
        if self.kind == "checkmate":
            return ("checkmated", "win") if self.mated_is_white else ("win", "checkmated")
        return (self.kind, self.kind)


def board_ending(board: chess.Board | None, rules: str | None) -> BoardEnding | None:
    """The ending the final position proves, or None when it proves none (or for variants)."""
    if board is None or rules not in _BOARD_RULES:
        return None
    if board.is_checkmate():
        return BoardEnding("checkmate", mated_is_white=board.turn == chess.WHITE)
    if board.is_stalemate():
        return BoardEnding("stalemate")
    if board.is_insufficient_material():
        return BoardEnding("insufficient")
    if board.has_insufficient_material(not board.turn) and not board.has_insufficient_material(
        board.turn
    ):
        # The side to move could still mate, its opponent could not: had it lost on time the
        # game was drawn. Only a clue, used for a drawn game whose Termination text is silent.
        return BoardEnding("timevsinsufficient", proven=False)
    return None


@dataclass(frozen=True)
class Decision:
    """The per-side codes after the board had its say, and what the text said if overruled."""

    white_code: str | None
    black_code: str | None
    unreadable: bool
    # The source's own reading ("resignation", "unknown", ...) when the board overruled it.
    conflict: str | None


def decide(
    white_code: str | None,
    black_code: str | None,
    *,
    text_read: bool | None,
    board: BoardEnding | None,
    category: Callable[[str | None, str | None], str],
) -> Decision:
    """Trust the final position for checkmate, stalemate and insufficient material, and its
    timevsinsufficient clue for a drawn game whose text named nothing.

    `text_read` is None when the codes are Chess.com's own (JSON), True when the Termination text
    named a reason, False when it named none. `category(white, black)` names a pair of codes
    (games.termination_of). A disagreement is the source naming another ending or another result.
    """
    if board is not None and not board.proven:
        if text_read is False and _result(white_code) == "draw":
            return Decision(board.kind, board.kind, False, None)
        board = None
    if board is None:
        return Decision(white_code, black_code, text_read is False, None)
    white, black = board.codes()
    if (white_code, black_code) == (white, black):
        return Decision(white, black, False, None)
    said = UNKNOWN if text_read is False else category(white_code, black_code)
    if text_read is False and _result(white_code) == _result(white):
        # the text was silent and the result agrees: the board fills the gap, no conflict
        return Decision(white, black, False, None)
    return Decision(white, black, False, said)


# games.DRAW_CODES (not imported: games imports this module).
_DRAWS = frozenset(
    {"agreed", "repetition", "stalemate", "insufficient", "timevsinsufficient", "50move", "draw"}
)


def _result(code: str | None) -> str | None:
    if code is None or code == "win":
        return code
    return "draw" if code in _DRAWS else "loss"


@dataclass(frozen=True)
class TerminationIssues:
    """Games whose termination could not be read, and games where the board overruled the text."""

    unreadable: int
    # Distinct Termination texts of the unreadable games, most frequent first, with counts;
    # "(no Termination header)" stands for games without one.
    texts: tuple[tuple[str, int], ...]
    conflicts: int

    def lines(self, limit: int = 3) -> list[str]:
        """One line each for the report, empty when there is nothing to say."""
        out: list[str] = []
        if self.unreadable:
            shown = ", ".join(f"{text!r}" + (f" x{n}" if n > 1 else "") for text, n in self.texts)
            if len(self.texts) > limit:
                shown = ", ".join(
                    f"{text!r}" + (f" x{n}" if n > 1 else "") for text, n in self.texts[:limit]
                )
                shown += f" and {len(self.texts) - limit} more"
            plural = "game" if self.unreadable == 1 else "games"
            out.append(
                f"{self.unreadable} {plural} with an unreadable termination (counted as "
                f"{UNKNOWN}): {shown}"
            )
        if self.conflicts:
            plural = "game" if self.conflicts == 1 else "games"
            out.append(
                f"{self.conflicts} {plural} where the final position overruled the "
                "Termination text or result codes (checkmate, stalemate or insufficient material)"
            )
        return out


NO_HEADER = "(no Termination header)"


def text_issues(texts: Iterable[tuple[str | None, str | None]]) -> TerminationIssues:
    """The same count from Termination texts alone (an import reads no moves): (text, winner's
    name) of the games without Chess.com result codes; the board may still decide some."""
    counts: dict[str, int] = {}
    for text, winner in texts:
        if termination_reason(text, winner) is None:
            key = text or NO_HEADER
            counts[key] = counts.get(key, 0) + 1
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return TerminationIssues(sum(counts.values()), tuple(ordered), 0)


def termination_issues(games: pl.DataFrame) -> TerminationIssues:
    """Count and name the games of a parsed games frame with an unreadable termination."""
    if games.height == 0:
        return TerminationIssues(0, (), 0)
    unread = games.filter(pl.col("termination") == UNKNOWN)
    texts = (
        unread.select(pl.col("termination_text").fill_null(NO_HEADER).alias("text"))
        .group_by("text")
        .len()
        .sort(["len", "text"], descending=[True, False])
    )
    conflicts = int(games["termination_conflict"].is_not_null().sum())
    return TerminationIssues(
        unread.height,
        tuple((str(t), int(n)) for t, n in texts.iter_rows()),
        conflicts,
    )

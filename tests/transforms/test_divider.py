"""Mixedness of hand-built positions, each region worked out by hand from Lichess' score table.

Regions are named by their two files and two ranks (`de45` = d4, e4, d5, e5); `y` is the lower
rank. The formulas used by hand are those of scalachess `Divider.score` (Divider.scala):
(1,0) 1+(8-y); (2,0) 2+(y-2) if y>2; (4,0) 3+(y-1) if y>1; (0,1) 1+y; (1,1) 5+|3-y|;
(2,1) 4+y; (3,1) 5+y; (0,2) 2+(6-y) if y<6; (1,2) 4+(6-y); (2,2) 7; (1,3) 5+(6-y);
(0,4) 3+(7-y) if y<7. Every parametrized total differs from the old, wrong table's.
"""

from __future__ import annotations

import chess
import pytest

from transforms.divider import mixedness


def _mixedness(fen: str) -> int:
    board = chess.Board(fen)
    return mixedness(board.occupied_co[chess.WHITE], board.occupied_co[chess.BLACK])


def test_start_position_scores_zero() -> None:
    # Rank pairs 1-2 hold (4,0)/(2,0) at y=1,2 -> 0; 6-7 and 7-8 hold (0,2)/(0,4) at y=6,7 -> 0.
    assert _mixedness(chess.STARTING_FEN) == 0


@pytest.mark.parametrize(
    ("fen", "expected"),
    [
        # White d4, Black e5. cd34 (1,0) y3 = 6; de34 (1,0) y3 = 6; cd45 (1,0) y4 = 5;
        # de45 (1,1) y4 = 5+|3-4| = 6; ef45 (0,1) y4 = 5; de56 (0,1) y5 = 6; ef56 = 6. Sum 40.
        ("8/8/8/4p3/3P4/8/8/8 w - - 0 1", 40),
        # White a1, Black b2. ab12 (1,1) y1 = 5+|3-1| = 7; bc12 (0,1) y1 = 2; ab23 (0,1) y2 = 3;
        # bc23 = 3. Sum 15.
        ("8/8/8/8/8/8/1p6/P7 w - - 0 1", 15),
        # White a2, Black b3. ab12 (1,0) y1 = 8; ab23 (1,1) y2 = 5+|3-2| = 6; bc23 (0,1) y2 = 3;
        # ab34 (0,1) y3 = 4; bc34 = 4. Sum 25.
        ("8/8/8/8/8/1p6/P7/8 w - - 0 1", 25),
        # White d4 e4, Black d5. cd34 (1,0) y3 = 6; de34 (2,0) y3 = 2+1 = 3; ef34 = 6;
        # cd45 (1,1) y4 = 6; de45 (2,1) y4 = 4+4 = 8; ef45 (1,0) y4 = 5; cd56 (0,1) y5 = 6;
        # de56 = 6. Sum 46.
        ("8/8/8/3p4/3PP3/8/8/8 w - - 0 1", 46),
        # White d4 e4 d5, Black e5. cd34 6; de34 (2,0) y3 3; ef34 6; cd45 (2,0) y4 = 2+2 = 4;
        # de45 (3,1) y4 = 5+4 = 9; ef45 (1,1) y4 = 6; cd56 (1,0) y5 = 4;
        # de56 (1,1) y5 = 5+|3-5| = 7; ef56 (0,1) y5 = 6. Sum 51.
        ("8/8/8/3Pp3/3PP3/8/8/8 w - - 0 1", 51),
        # White d4, Black d5 e5. cd34 6; de34 6; cd45 (1,1) y4 = 6; de45 (1,2) y4 = 4+2 = 6;
        # ef45 (0,1) y4 = 5; cd56 (0,1) y5 = 6; de56 (0,2) y5 = 2+1 = 3; ef56 6. Sum 44.
        ("8/8/8/3pp3/3P4/8/8/8 w - - 0 1", 44),
        # White d4, Black e4 d5 e5. cd34 6; de34 (1,1) y3 = 5; ef34 (0,1) y3 = 4;
        # cd45 (1,1) y4 = 6; de45 (1,3) y4 = 5+2 = 7; ef45 (0,2) y4 = 4; cd56 (0,1) y5 = 6;
        # de56 (0,2) y5 = 3; ef56 6. Sum 47.
        ("8/8/8/3pp3/3Pp3/8/8/8 w - - 0 1", 47),
        # White d4 e4 d5 e5 (a group of 4 off the home row). cd34 6; de34 (2,0) y3 3; ef34 6;
        # cd45 (2,0) y4 4; de45 (4,0) y4 = 3+3 = 6; ef45 4; cd56 (1,0) y5 4;
        # de56 (2,0) y5 = 2+3 = 5; ef56 4. Sum 42.
        ("8/8/8/3PP3/3PP3/8/8/8 w - - 0 1", 42),
        # Black d4 e4 d5 e5. cd34 (0,1) y3 4; de34 (0,2) y3 = 2+3 = 5; ef34 4; cd45 (0,2) y4 4;
        # de45 (0,4) y4 = 3+3 = 6; ef45 4; cd56 (0,1) y5 6; de56 (0,2) y5 3; ef56 6. Sum 42.
        ("8/8/8/3pp3/3pp3/8/8/8 w - - 0 1", 42),
    ],
)
def test_mixedness_of_mixed_regions_by_hand(fen: str, expected: int) -> None:
    assert _mixedness(fen) == expected


def test_two_by_two_meeting_scores_seven() -> None:
    # White d3 e3, Black d4 e4. cd23 (1,0) y2 = 7; de23 (2,0) y2 = 0 (y > 2 fails); ef23 7;
    # cd34 (1,1) y3 = 5; de34 (2,2) = 7; ef34 5; cd45 (0,1) y4 = 5; de45 (0,2) y4 = 4; ef45 5.
    assert _mixedness("8/8/8/8/3pp3/3PP3/8/8 w - - 0 1") == 45
